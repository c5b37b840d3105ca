"""Speed of `sohs validate` against `xmllint --noout --schema` on the same 5,000 referral slips.

Run: python bench/validate_bench.py [--count 5000]. Prints a ratio table (lower is better) and
writes it to docs/performance.md between markers. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._report import record  # noqa: E402
from sohs_cli import samples  # noqa: E402


def timed(cmd: list[str], runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=5000)
    args = ap.parse_args()
    xmllint = shutil.which("xmllint")
    if not xmllint:
        sys.exit("xmllint is needed (apt-get install libxml2-utils)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for i in range(args.count):
            lk = f"LK2025{i:08d}"
            (folder / f"xml13_{i:05d}.xml").write_bytes(samples.xml13("3176", lk))
        files = sorted(str(p) for p in folder.iterdir())
        sohs = [sys.executable, "-m", "sohs_cli", "validate", "--standard", "3176", "--format", "json", str(folder)]
        base = timed([xmllint, "--noout", "--schema", str(ROOT / "xsd/bhxh/3176/XML13.xsd"), *files])
        rows = [("xmllint --noout --schema (baseline)", base)]
        rows.append(("sohs validate --no-rules", timed([*sohs, "--no-rules"])))
        rows.append(("sohs validate (rules on)", timed(sohs)))
        rows.append(("sohs validate --jobs 2 (rules on)", timed([*sohs, "--jobs", "2"])))
        py = timed([sys.executable, "-c", "pass"], runs=10)
        ver = timed([sys.executable, "-m", "sohs_cli", "--version"], runs=10)
    lines = [f"{args.count:,} XML13 referral slips (QĐ 3176), one process each command, best of 3.", "",
             "| command | seconds | per file | ratio to xmllint |", "|---|---:|---:|---:|"]
    for name, t in rows:
        lines.append(f"| {name} | {t:.2f} | {t / args.count * 1e3:.2f} ms | {t / base:.2f}× |")
    lines += ["", "| startup | seconds | ratio to `python -c pass` |", "|---|---:|---:|",
              f"| python -c pass (baseline) | {py:.3f} | 1.00× |", f"| sohs --version | {ver:.3f} | {ver / py:.2f}× |"]
    text = "\n".join(lines)
    print(text)
    record("validate", text)


if __name__ == "__main__":
    main()
