"""Memory of `sohs validate` on many files: peak RSS at 10,000 and at 100,000 files, per format.

Run: python bench/validate_memory.py [--count 100000]. Flat means the peak does not grow with the
number of files: every report is written as soon as its file is validated (JSON, SARIF, JUnit).
Records the table in docs/performance.md. Needs about 350 MB of temporary disk for 100,000 files.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._report import record  # noqa: E402
from sohs_cli.documents import samples  # noqa: E402


def measure(cmd: list[str]) -> tuple[float, int]:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - t0, usage.ru_maxrss


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=100_000)
    args = ap.parse_args()
    small = args.count // 10
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for folder, count in (("small", small), ("big", args.count)):
            d = Path(tmp, folder)
            d.mkdir()
            for i in range(count):
                sub = d / f"{i // 1000:03d}"
                sub.mkdir(exist_ok=True)
                (sub / f"xml13_{i:06d}.xml").write_bytes(samples.xml13("3176", f"LK2025{i:08d}"))
        for fmt, extra in (("json", ("--jobs", "1")), ("sarif", ("--jobs", "1")), ("junit", ("--jobs", "1")),
                           ("json", ("--jobs", "2"))):
            for folder, count in (("small", small), ("big", args.count)):
                wall, rss = measure([sys.executable, "-m", "sohs_cli", "validate", f"{tmp}/{folder}", "--format", fmt,
                                     "-o", f"{tmp}/out.{fmt}", "--standard", "3176", *extra])
                rows.append((" ".join((fmt, *extra)), count, wall, rss))
    lines = ["XML13 referral slips, `sohs validate DIR --format F -o FILE`; peak resident memory of the "
             "`sohs` process, as `wait4` reports it (with `--jobs 2`, the largest of the parent and its workers).", "",
             "| format | files | seconds | peak memory |", "|---|---:|---:|---:|"]
    for fmt, count, wall, rss in rows:
        lines.append(f"| {fmt} | {count:,} | {wall:.1f} | {rss / 1024:.0f} MB |")
    text = "\n".join(lines)
    print(text)
    record("validate-memory", text)


if __name__ == "__main__":
    main()
