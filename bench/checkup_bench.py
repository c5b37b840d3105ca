"""Speed and memory of `sohs validate` on checkup envelopes (issue 13): 5,000 `KHAMSUCKHOE` records,
the three forms of QĐ 2062 PL01 mixed (a third each), against `xmllint --noout --schema` run on the
same inner blocks (one xmllint per form and block, all its files at once: the least xmllint can do;
it neither decodes base64, nor picks a form by age, nor runs a rule).

Run: python bench/checkup_bench.py [--count 5000] [--rounds 5] [--memory 1000,50000]. Prints a table
and writes it to docs/performance.md between markers. Not a test: nothing here asserts a time.

Each command runs once per round, the rounds interleaved; the ratio is taken within a round (the same
machine state) and the median and the range of the rounds are reported. Memory: peak resident memory
of the `sohs` process, from `wait4` in a small launcher of its own (Linux counts the forking process's
memory into its child's peak), on 1,000 and on 50,000 envelopes: flat means it does not grow with the
number of files.
"""

from __future__ import annotations

import argparse
import base64
import compileall
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._report import record  # noqa: E402
from bench.hostile_memory import peak  # noqa: E402
from bench.validate_bench import ENV, rounds_of  # noqa: E402
from sohs_cli.documents import samples  # noqa: E402
from sohs_cli.documents.kinds import KSK_ROOTS, pack  # noqa: E402

MAKERS = ((3, samples.adult_checkup), (2, samples.pupil_checkup), (1, samples.child_checkup))


def write_envelopes(folder: Path, count: int, inner: Path | None = None) -> dict[str, list[str]]:
    """``count`` envelopes in ``folder`` (1,000 per subfolder), forms in turn; with ``inner``, each
    block also as a file there, grouped by the schema that checks it (``formN/XMLk``)."""
    by_schema: dict[str, list[str]] = {}
    templates = {form: make("KSK0000000000") for form, make in MAKERS}
    for i in range(count):
        form = MAKERS[i % 3][0]
        lk = f"KSK{i:010d}"
        blocks = [b.replace(b"KSK0000000000", lk.encode()) for b in templates[form]]
        sub = folder / f"{i // 1000:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        data = pack([(f"b{k}", b) for k, b in enumerate(blocks)], facility="01001", envelope="KHAMSUCKHOE").data
        (sub / f"ksk_{i:06d}.xml").write_bytes(data)
        if inner is None:
            continue
        for k, b64 in enumerate(re.findall(rb"<NOIDUNGFILE>([^<]+)</NOIDUNGFILE>", data)):
            block = base64.b64decode(b64)
            root = re.search(rb"<([A-Z_]+)>", block.split(b"?>", 1)[1]).group(1).decode()  # type: ignore[union-attr]
            path = inner / f"{i:06d}_{k}.xml"
            path.write_bytes(block)
            by_schema.setdefault(f"form{form}/{KSK_ROOTS[root]}", []).append(str(path))
    return by_schema



def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--memory", default="1000,50000", help="envelope counts for the memory lines ('' for none)")
    ap.add_argument("--no-record", action="store_true", help="print only (a profiling run)")
    args = ap.parse_args()
    xmllint = shutil.which("xmllint")
    if not xmllint:
        sys.exit("xmllint is needed (apt-get install libxml2-utils)")
    compileall.compile_dir(str(ROOT / "sohs_cli"), quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        folder, inner = Path(tmp, "envelopes"), Path(tmp, "inner")
        inner.mkdir()
        by_schema = write_envelopes(folder, args.count, inner)
        script = Path(tmp, "xmllint.sh")  # a file: 35,000 paths do not fit in one argument of sh -c
        script.write_text("\n".join(f"{xmllint} --noout --schema {ROOT}/xsd/ksk/2062/{schema}.xsd "
                                    f"{' '.join(files)} 2>/dev/null || exit 1"
                                    for schema, files in sorted(by_schema.items())) + "\n", encoding="utf-8")
        sohs = [sys.executable, "-m", "sohs_cli", "validate", "--format", "json", "-o", f"{tmp}/report.json",
                str(folder)]
        commands = {
            "xmllint --noout --schema on the inner blocks (baseline)": ["sh", str(script)],
            "sohs validate --jobs 1 (one process)": [*sohs, "--jobs", "1"],
            "sohs validate (--jobs auto)": sohs,
        }
        assert subprocess.run(["sh", str(script)], check=False).returncode == 0  # every block valid for xmllint too
        results = rounds_of(commands, args.rounds)
        report = json.loads(Path(tmp, "report.json").read_text(encoding="utf-8"))
        invalid = [f for f in report["files"] if not f["valid"]]
        assert not invalid, invalid[:1]  # every record is a valid one of its form: the work is the checking
        forms = sorted({f["standard"] for f in report["files"]})
        blocks = sum(len(v) for v in by_schema.values())
        shutil.rmtree(inner)
        shutil.rmtree(folder)
        memory = []
        for n in (int(x) for x in args.memory.split(",") if x):
            d = Path(tmp, f"mem{n}")
            write_envelopes(d, n)
            for jobs in ("1", "2"):
                code, mb = peak([*sohs[:-1], str(d), "--jobs", jobs], ENV)
                assert code == 0, code
                memory.append((n, jobs, mb))
            shutil.rmtree(d)
    base = results.pop("xmllint --noout --schema on the inner blocks (baseline)")
    lines = [f"{args.count:,} checkup envelopes (`KHAMSUCKHOE`, QĐ 2062; {', '.join(forms)} in turn; {blocks:,} "
             f"inner blocks, base64), {os.cpu_count()} CPUs shared with other work, {args.rounds} interleaved "
             "rounds; each ratio is taken within a round and its median and range reported (CPU: user + system time of "
             "the command and its workers). The baseline checks "
             "each inner block against its form's schema, already decoded and sorted by form: no base64, no "
             "choice of form, no rule.", "",
             "| command | best wall s | per envelope | median wall ratio (range) | CPU s | median CPU ratio (range) |",
             "|---|---:|---:|---:|---:|---:|",
             f"| xmllint --noout --schema on the inner blocks (baseline) | {min(w for w, _ in base):.2f} | "
             f"{min(w for w, _ in base) / args.count * 1e3:.2f} ms | 1.00× | {median(c for _, c in base):.2f} "
             "| 1.00× |"]
    for name, runs in results.items():
        ratios = [w / b for (w, _), (b, _) in zip(runs, base, strict=True)]
        cpu = [c / b for (_, c), (_, b) in zip(runs, base, strict=True)]
        wall = min(w for w, _ in runs)
        lines.append(f"| {name} | {wall:.2f} | {wall / args.count * 1e3:.2f} ms | {median(ratios):.2f}× "
                     f"({min(ratios):.2f}–{max(ratios):.2f}) | {median(c for _, c in runs):.2f} | {median(cpu):.2f}× "
                     f"({min(cpu):.2f}–{max(cpu):.2f}) |")
    lines += ["", "| envelopes | --jobs | peak memory (`wait4`, largest process) |", "|---:|---:|---:|"]
    lines += [f"| {n:,} | {jobs} | {mb} MB |" for n, jobs, mb in memory]
    text = "\n".join(lines)
    print(text)
    if not args.no_record:
        record("checkup-validate", text)


if __name__ == "__main__":
    main()
