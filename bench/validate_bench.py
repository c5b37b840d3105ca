"""Speed of `sohs validate` against `xmllint --noout --schema` on the same 5,000 referral slips.

Run: python bench/validate_bench.py [--count 5000] [--rounds 5]. Prints a ratio table (lower is
better) and writes it to docs/performance.md between markers. Not a test: nothing here asserts a time.

Every command runs once per round, the rounds interleaved; each ratio is taken within a round (the
same machine state for sohs and xmllint) and the median of the rounds is reported, as this VM's
neighbours make single timings swing by a third. sohs is byte-compiled first and run with bytecode
caching on, as an installed package is.
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._report import record  # noqa: E402
from sohs_cli.documents import samples  # noqa: E402
from sohs_cli.validation.engine import auto_jobs  # noqa: E402

ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=ENV)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def rounds_of(commands: dict[str, list[str]], rounds: int) -> dict[str, list[tuple[float, float]]]:
    """Each command once per round, rounds interleaved: (wall, CPU) per round."""
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, cmd in commands.items():
            runs[name].append(run(cmd))
    return runs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=9)
    args = ap.parse_args()
    xmllint = shutil.which("xmllint")
    if not xmllint:
        sys.exit("xmllint is needed (apt-get install libxml2-utils)")
    compileall.compile_dir(str(ROOT / "sohs_cli"), quiet=1)
    workers = auto_jobs()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for i in range(args.count):
            lk = f"LK2025{i:08d}"
            (folder / f"xml13_{i:05d}.xml").write_bytes(samples.xml13("3176", lk))
        files = sorted(str(p) for p in folder.iterdir())
        sohs = [sys.executable, "-m", "sohs_cli", "validate", "--standard", "3176", "--format", "json", str(folder)]
        commands = {
            "xmllint --noout --schema (baseline)": [xmllint, "--noout", "--schema",
                                                    str(ROOT / "xsd/bhxh/3176/XML13.xsd"), *files],
            f"sohs validate (rules on; default --jobs auto: {workers} processes here)": sohs,
            "sohs validate --jobs 1 (rules on, one process)": [*sohs, "--jobs", "1"],
            "sohs validate --no-rules": [*sohs, "--no-rules"],
            "sohs validate --no-rules --jobs 1": [*sohs, "--no-rules", "--jobs", "1"],
        }
        results = rounds_of(commands, args.rounds)
        startup = rounds_of({"python -c pass (baseline)": [sys.executable, "-c", "pass"],
                             "sohs --version": [sys.executable, "-m", "sohs_cli", "--version"],
                             "sohs validate, one file": [*sohs[:-1], files[0], "--jobs", "1"]}, args.rounds * 2)
    base = results.pop("xmllint --noout --schema (baseline)")
    lines = [f"{args.count:,} XML13 referral slips (QĐ 3176), {os.cpu_count()} CPUs, {args.rounds} interleaved "
             "rounds. The ratio is taken within each round (same machine state) and the median reported; "
             "CPU is user + system time of the command and its workers.", "",
             "| command | best wall s | per file | median ratio to xmllint | CPU s | CPU ratio |",
             "|---|---:|---:|---:|---:|---:|",
             f"| xmllint --noout --schema (baseline) | {min(w for w, _ in base):.2f} | "
             f"{min(w for w, _ in base) / args.count * 1e3:.3f} ms | 1.00× "
             f"| {median(c for _, c in base):.2f} | 1.00× |"]
    for name, runs in results.items():
        wall = min(w for w, _ in runs)
        ratio = median(w / b for (w, _), (b, _) in zip(runs, base, strict=True))
        cpu_ratio = median(c / b for (_, c), (_, b) in zip(runs, base, strict=True))
        lines.append(f"| {name} | {wall:.2f} | {wall / args.count * 1e3:.3f} ms | {ratio:.2f}× "
                     f"| {median(c for _, c in runs):.2f} | {cpu_ratio:.2f}× |")
    py = min(w for w, _ in startup["python -c pass (baseline)"])
    lines += ["", "| start-up | best seconds | ratio to `python -c pass` |", "|---|---:|---:|"]
    for name, runs in startup.items():
        wall = min(w for w, _ in runs)
        lines.append(f"| {name} | {wall:.3f} | {wall / py:.2f}× |")
    text = "\n".join(lines)
    print(text)
    record("validate", text)


if __name__ == "__main__":
    main()
