"""Speed and memory of `sohs validate` on a real hospital export (issue 14): one GIAMDINHHS of 101
episodes with tables XML1, XML2, XML3, XML4, XML5 and XML11, against `xmllint --noout --schema` run
on the same inner tables (one xmllint per table kind, all its files at once: the least xmllint can do).

Run: python bench/export_bench.py [--rounds 7] [--memory 300] [--many 5000]. Prints a table and
writes it to docs/performance.md between markers. Not a test: nothing here asserts a time.

Three numbers: the whole command (`sohs validate export.xml`: start-up, six schemas compiled, base64
decoded, every table parsed, checked against its schema and the rules, the report written); the same
work in a warm process (what a batch of exports costs per export); the resident memory of one
process validating the export again and again (flat: nothing is kept from one export to the next);
and the peak memory of `sohs validate DIR` on a folder of ``--many`` envelopes of one episode each
(as clinics send them: one HOSO per file, tables XML1-XML5 and XML11), against a tenth as many.
"""

from __future__ import annotations

import argparse
import base64
import compileall
import os
import re
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
from bench.validate_bench import ENV, rounds_of  # noqa: E402
from sohs_cli.documents import samples  # noqa: E402

EPISODES = 101
TABLES = ("XML1", "XML2", "XML3", "XML4", "XML5", "XML11")


def export() -> bytes:
    """101 outpatient episodes: 5 drugs, 8 services, 10 results, 3 notes and a sick-leave slip each."""
    return samples.export([samples.hospital_episode(f"LK2025110{i:05d}", drugs=5, services=8, results=10,
                                                    notes=3) for i in range(EPISODES)])


def inner_tables(data: bytes, folder: Path) -> dict[str, list[str]]:
    by_kind: dict[str, list[str]] = {k: [] for k in TABLES}
    pairs = re.findall(rb"<LOAIHOSO>(\w+)</LOAIHOSO>\s*<NOIDUNGFILE>([^<]+)</NOIDUNGFILE>", data)
    for i, (loai, b64) in enumerate(pairs):
        path = folder / f"{i:04d}_{loai.decode()}.xml"
        path.write_bytes(base64.b64decode(b64))
        by_kind[loai.decode()].append(str(path))
    return by_kind


MEMORY = """
import resource, sys
from sohs_cli.validation.engine import validate_bytes
data = open(sys.argv[1], "rb").read()
rounds = int(sys.argv[2])
marks = []
for i in range(rounds):
    assert validate_bytes(data, "export.xml").valid
    if i in (9, rounds // 2, rounds - 1):
        marks.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
print(*marks)
"""

WARM = """
import sys, time
from sohs_cli.validation.engine import validate_bytes
data = open(sys.argv[1], "rb").read()
validate_bytes(data, "export.xml")
times = []
for _ in range(int(sys.argv[2])):
    t = time.perf_counter(); validate_bytes(data, "export.xml"); times.append(time.perf_counter() - t)
print(min(times), sorted(times)[len(times) // 2])
"""


def many(folder: Path, count: int) -> None:
    """``count`` envelopes of one hospital episode each, every one its own MA_LK, 100 to a subfolder."""
    for i in range(count):
        sub = folder / f"{i // 100:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"hoso_{i:05d}.xml").write_bytes(samples.export([samples.hospital_episode(
            f"LK2025{i:08d}", drugs=5, services=8, results=10, notes=3)]))


def peak_of_folders(tmp: Path, count: int) -> list[tuple[str, int, float, int]]:
    """(jobs, files, seconds, peak MB) of `sohs validate DIR -f json -o FILE` on count/10 and count envelopes."""
    from bench.hostile_memory import peak

    rows = []
    small = count // 10
    many(tmp / "big", count)
    (tmp / "small").mkdir()
    for path in sorted((tmp / "big").rglob("*.xml"))[:small]:  # the first tenth, the same files (hard links:
        os.link(path, tmp / "small" / path.name)               # validate does not follow a symbolic link)
    for jobs in ("1", "auto"):
        for folder, n in (("small", small), ("big", count)):
            t0 = time.perf_counter()
            code, mb = peak([sys.executable, "-m", "sohs_cli", "validate", "--jobs", jobs, "--format", "json",
                             "-o", str(tmp / "out.json"), str(tmp / folder)], ENV, str(ROOT))
            assert code == 0, f"the generated envelopes are valid (exit {code})"
            rows.append((jobs, n, time.perf_counter() - t0, mb))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--memory", type=int, default=300, help="exports validated in one process for the memory line")
    ap.add_argument("--many", type=int, default=5000, help="envelopes of one episode for the folder memory line")
    args = ap.parse_args()
    xmllint = shutil.which("xmllint")
    if not xmllint:
        sys.exit("xmllint is needed (apt-get install libxml2-utils)")
    compileall.compile_dir(str(ROOT / "sohs_cli"), quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data = export()
        env = folder / "export.xml"
        env.write_bytes(data)
        (folder / "inner").mkdir()
        by_kind = inner_tables(data, folder / "inner")
        script = " && ".join(f"{xmllint} --noout --schema {ROOT}/xsd/bhxh/3176/{k}.xsd {' '.join(files)} 2>/dev/null"
                             for k, files in by_kind.items())
        commands = {
            "xmllint --noout --schema, 6 table kinds (baseline)": ["sh", "-c", script],
            "sohs validate export.xml (--jobs 1, JSON)": [sys.executable, "-m", "sohs_cli", "validate", "--jobs", "1",
                                                          "--format", "json", str(env)],
        }
        results = rounds_of(commands, args.rounds)
        warm = subprocess.run([sys.executable, "-c", WARM, str(env), str(args.rounds * 3)], capture_output=True,
                              text=True, check=True, env=ENV, cwd=ROOT).stdout.split()
        t0 = time.perf_counter()
        memory = subprocess.run([sys.executable, "-c", MEMORY, str(env), str(args.memory)], capture_output=True,
                                text=True, check=True, env=ENV, cwd=ROOT).stdout.split()
        memory_s = time.perf_counter() - t0
        tables = sum(len(v) for v in by_kind.values())
        folders = peak_of_folders(folder / "many", args.many) if args.many else []
    base = results.pop("xmllint --noout --schema, 6 table kinds (baseline)")
    (name, runs), = results.items()
    size = len(data) / 1e6
    walls = [w / b for (w, _), (b, _) in zip(runs, base, strict=True)]
    cpus = [c / d for (_, c), (_, d) in zip(runs, base, strict=True)]
    lines = [f"One GIAMDINHHS of {EPISODES} episodes ({tables} inner tables: XML1-XML5, XML11; {size:.1f} MB), "
             f"{args.rounds} interleaved rounds, ratios within a round (median and range); CPU: user + system.", "",
             "| command | best wall s | median ratio to xmllint | range | CPU s (best) | median CPU ratio | range |",
             "|---|---:|---:|---:|---:|---:|---:|",
             f"| xmllint --noout --schema on the inner tables (baseline) | {min(w for w, _ in base):.3f} | 1.00× | | "
             f"{min(c for _, c in base):.3f} | 1.00× | |",
             f"| {name} | {min(w for w, _ in runs):.3f} | {median(walls):.2f}× | {min(walls):.2f}–{max(walls):.2f} | "
             f"{min(c for _, c in runs):.3f} | {median(cpus):.2f}× | {min(cpus):.2f}–{max(cpus):.2f} |",
             f"| the same in a warm process (best / median of {args.rounds * 3}) | {float(warm[0]):.3f} / "
             f"{float(warm[1]):.3f} | {float(warm[0]) / min(w for w, _ in base):.2f}× (best to best) | | | | |", "",
             f"Memory of one process validating the export {args.memory} times ({args.memory * EPISODES:,} episodes, "
             f"{memory_s:.0f} s): maximum RSS {memory[0]} MB after 10, {memory[1]} MB after {args.memory // 2}, "
             f"{memory[2]} MB after {args.memory}."]
    if folders:
        lines += ["", "`sohs validate DIR --format json -o FILE` on a folder of envelopes of one episode each "
                  "(XML1-XML5, XML11, 40 KB), peak resident memory of the command as `wait4` reports it "
                  "(with workers, the largest of the parent and its workers):", "",
                  "| --jobs | envelopes | seconds | peak memory |", "|---|---:|---:|---:|"]
        lines += [f"| {jobs} | {n:,} | {wall:.1f} | {mb} MB |" for jobs, n, wall, mb in folders]
    text = "\n".join(lines)
    print(text)
    record("validate-export", text)



if __name__ == "__main__":
    main()
