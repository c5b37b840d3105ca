"""Work per file of `sohs validate` against `xmllint --noout --schema`, counted in CPU instructions.

Run: python bench/validate_instructions.py [--count 200]. Needs valgrind (apt-get install valgrind).
Not a test: nothing here asserts a count.

Wall-clock ratios (bench/validate_bench.py) swing with a shared machine's neighbours; instruction
counts do not. Each command runs under callgrind on one slip and on ``--count`` slips, in one
process (`--jobs 1`); the difference divided by the extra files is the work per file, and the
one-file run is the start-up. Instructions are not time (libxml2's loops retire more per cycle than
Python's interpreter), so read these beside the wall-clock table, not instead of it.
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._report import record  # noqa: E402
from sohs_cli.documents import samples  # noqa: E402

ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def instructions(cmd: list[str]) -> int:
    """Instructions the command retires, all of its processes together."""
    proc = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd],
                          capture_output=True, text=True, env=ENV, cwd=ROOT, check=False)
    found = re.search(r"Collected : (\d+)", proc.stderr)
    if found is None:
        sys.exit(f"valgrind did not report a count for {cmd[:3]}:\n{proc.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=200)
    args = ap.parse_args()
    xmllint = shutil.which("xmllint")
    if xmllint is None or shutil.which("valgrind") is None:
        sys.exit("valgrind and xmllint are needed (apt-get install valgrind libxml2-utils)")
    compileall.compile_dir(str(ROOT / "sohs_cli"), quiet=1)
    schema = str(ROOT / "xsd/bhxh/3176/XML13.xsd")
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i in range(args.count):
            path = Path(tmp) / f"xml13_{i:05d}.xml"
            path.write_bytes(samples.xml13("3176", f"LK2025{i:08d}"))
            files.append(str(path))
        sohs = [sys.executable, "-m", "sohs_cli", "validate", "--standard", "3176", "--format", "json", "--jobs", "1"]
        commands = {
            "xmllint --noout --schema (baseline)": [xmllint, "--noout", "--schema", schema],
            "sohs validate (rules on)": sohs,
            "sohs validate --no-rules": [*sohs, "--no-rules"],
        }
        counts = {name: (instructions([*cmd, files[0]]), instructions([*cmd, *files]))
                  for name, cmd in commands.items()}
    per_file = {name: (many - one) / (args.count - 1) for name, (one, many) in counts.items()}
    base = per_file["xmllint --noout --schema (baseline)"]
    lines = [f"Instructions counted by valgrind (callgrind), {args.count} XML13 slips (QĐ 3176) in one "
             "process; per file = (count on all − count on one) / the extra files.", "",
             "| command | per file (thousands) | ratio to xmllint | start-up (millions) |",
             "|---|---:|---:|---:|"]
    for name, (one, _) in counts.items():
        lines.append(f"| {name} | {per_file[name] / 1e3:,.0f} | {per_file[name] / base:.2f}× "
                     f"| {(one - per_file[name]) / 1e6:,.0f} |")
    text = "\n".join(lines)
    print(text)
    record("validate-instructions", text)


if __name__ == "__main__":
    main()
