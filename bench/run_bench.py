"""What `sohs run` costs per document (issue 19 item 3: one parse per document through the night).

Run: python bench/run_bench.py [--count 1000] [--rounds 3] [--before COMMIT]. A night of ``count``
GIAMDINHHS envelopes (XML1 + XML13) in an outbox, taken by `sohs run` to `sohs portal serve` on
loopback: validated, signed, verified, sent, filed in `sent/`. Two nights: envelopes the HIS left
unsigned (sohs signs them) and envelopes already signed. Measured in a fresh `sohs run` process:
its CPU time (user + system, from the kernel) per document, and, in one extra counting run, how
many times each document went through the hardened parser (`sohs_cli.foundation.xmlsafe.parse_bytes`, by
what was parsed: the document, one of its inner tables, a SignedInfo for C14N) and how many
signature verifications (`verification._verify_one`: a digest and an RSA operation) it cost.

With ``--before COMMIT`` the same nights run on the tree of COMMIT too (extracted with `git
archive`), round by round, interleaved: the baseline. Printed as a table, written to
docs/performance.md. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._portal import serve  # noqa: E402
from bench._report import record  # noqa: E402
from sohs_cli.signing.testpki import TestPki  # noqa: E402
from tests.portal_helpers import FACILITY, PASSWORD, USER, envelope  # noqa: E402

# Runs `sohs run` as the console script does; with SOHS_BENCH_COUNT set, counts first (the wrappers
# go in before any other sohs module imports the functions by name).
LAUNCHER = r"""
import collections, json, os, sys
counts = collections.Counter()
target = os.environ.get("SOHS_BENCH_COUNT")
if target:
    from sohs_cli.foundation import xmlsafe
    real_parse = xmlsafe.parse_bytes
    def parse_bytes(data, **kw):
        root = real_parse(data, **kw)
        tag = root.tag if isinstance(root.tag, str) else ""
        counts["document" if tag in ("GIAMDINHHS", "KHAMSUCKHOE") else
               "SignedInfo" if tag.endswith("}SignedInfo") else "inner table"] += 1
        return root
    xmlsafe.parse_bytes = parse_bytes
    from sohs_cli.signing import verification
    real_verify = verification._verify_one
    def _verify_one(*args, **kw):
        counts["signature verification"] += 1
        return real_verify(*args, **kw)
    verification._verify_one = _verify_one
sys.argv = ["sohs", *sys.argv[1:]]
from sohs_cli.cli.app import main
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
finally:
    if target:
        with open(target, "w") as fh:
            json.dump(counts, fh)
sys.exit(code)
"""


def night(tmp: Path, pki: TestPki, tree: Path, base: str, outbox_from: Path, name: str,
          count_to: Path | None = None) -> float:
    """One `sohs run` over a copy of ``outbox_from``; its CPU seconds (user + system)."""
    clinic = tmp / name
    shutil.rmtree(clinic, ignore_errors=True)
    clinic.mkdir()
    shutil.copytree(outbox_from, clinic / "outbox")
    shutil.copy(pki.clinic_p12, clinic / "clinic.p12")
    shutil.copy(pki.password_file, clinic / "p12-password.txt")
    (clinic / "sohs.toml").write_text(
        f'facility = "{FACILITY}"\n[portal]\nurl = "{base}"\nusername = "{USER}"\nconcurrency = 4\n'
        f'[signing]\np12 = "clinic.p12"\npassword_file = "p12-password.txt"\n[run]\nsettle_seconds = 0\n',
        encoding="utf-8")
    (clinic / "portal-password").write_text(PASSWORD + "\n", encoding="utf-8")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(clinic), "LANG": "C",
           "PYTHONPATH": str(tree), "SOHS_HOME": str(clinic / "home"), "SOHS_LANG": "en",
           "SOHS_PORTAL_PASSWORD_FILE": str(clinic / "portal-password")}
    if count_to is not None:
        env["SOHS_BENCH_COUNT"] = str(count_to)
    with open(clinic / "run.json", "wb") as out, open(clinic / "run.err", "wb") as err:
        proc = subprocess.Popen([sys.executable, "-c", LAUNCHER, "run", "--config", str(clinic / "sohs.toml"),
                                 "--json"], env=env, cwd=str(clinic), stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"sohs run ({tree}) ended {code}: {(clinic / 'run.err').read_text()[-2000:]}")
    report = json.loads((clinic / "run.json").read_text(encoding="utf-8"))
    if report["delivered"] != len(list(outbox_from.iterdir())):
        sys.exit(f"sohs run ({tree}) delivered {report['delivered']}")
    return float(usage.ru_utime + usage.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", default="", help="commit of the baseline tree (none: this tree only)")
    parser.add_argument("--no-record", action="store_true", help="print only; do not write docs/performance.md")
    opts = parser.parse_args()
    from sohs_cli.foundation.credentials import SecretSource
    from sohs_cli.signing.certs import load_key_material
    from sohs_cli.signing.sign import FileSigner, sign_document
    from sohs_cli.signing.testpki import make_test_pki

    with tempfile.TemporaryDirectory(prefix="sohs-run-bench-") as name:
        tmp = Path(name)
        pki = make_test_pki(str(tmp / "pki"), password=b"bench")
        signer = FileSigner(load_key_material(p12=pki.clinic_p12, password=SecretSource("p", "-", pki.password_file)))
        nights = {"unsigned": tmp / "unsigned", "signed": tmp / "signed"}
        for folder in nights.values():
            folder.mkdir()
        for i in range(opts.count):
            data = envelope(f"LKRUN{i:07d}")
            (nights["unsigned"] / f"u{i:05d}.xml").write_bytes(data)
            (nights["signed"] / f"s{i:05d}.xml").write_bytes(sign_document(data, signer))
        (tmp / "accounts.toml").write_text(
            f'[[account]]\nusername = "{USER}"\npassword = "{PASSWORD}"\nfacility = "{FACILITY}"\n'
            f'certificates = ["{pki.clinic_cert}"]\n', encoding="utf-8")
        trees = {"this tree": ROOT}
        if opts.before:
            old = tmp / "before"
            old.mkdir()
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", opts.before, "sohs_cli", "xsd"],
                                     check=True, capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
            trees = {f"before ({opts.before})": old, "this tree": ROOT}
        cpu: dict[tuple[str, str], list[float]] = {}
        counts: dict[tuple[str, str], dict[str, int]] = {}
        for r in range(opts.rounds + 1):  # the last round counts (its CPU is not used)
            for label, tree in trees.items():
                for kind, outbox in nights.items():
                    # a portal of its own per night: every document is new to it
                    with serve(str(tmp / f"portal-{r}-{kind}-{len(label)}"), str(tmp / "accounts.toml"),
                               "--processing-delay", "3600") as (base, _):
                        if r < opts.rounds:
                            cpu.setdefault((label, kind), []).append(
                                night(tmp, pki, tree, base, outbox, f"clinic-{kind}"))
                        else:
                            target = tmp / f"counts-{kind}-{len(label)}.json"
                            night(tmp, pki, tree, base, outbox, f"clinic-{kind}", count_to=target)
                            counts[(label, kind)] = json.loads(target.read_text())
    n = opts.count
    cols = ("document", "inner table", "SignedInfo", "signature verification")
    lines = [f"A night of {n:,} GIAMDINHHS envelopes (XML1 + XML13) through `sohs run` to `sohs portal serve` on "
             f"loopback (validate, sign when unsigned, verify, send, file), `concurrency = 4`; {opts.rounds} "
             "rounds, interleaved; CPU of the `sohs run` process (user + system) per document, best and median; "
             "counts from one more run with the hardened parser's entry point wrapped.", "",
             "| tree | outbox | CPU per document, best | median | parses of the document | of an inner table "
             "| of a SignedInfo | signature verifications |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    for (label, kind), values in cpu.items():
        c = counts[(label, kind)]
        per = [c.get(k, 0) / n for k in cols]
        lines.append(f"| {label} | {kind} | {min(values) / n * 1e3:.2f} ms | {statistics.median(values) / n * 1e3:.2f} "
                     f"ms | {per[0]:.1f} | {per[1]:.1f} | {per[2]:.1f} | {per[3]:.1f} |")
    table = "\n".join(lines)
    print(table)
    if not opts.no_record:
        record("run", table)


if __name__ == "__main__":
    main()
