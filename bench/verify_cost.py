"""What trust costs per verified document (issue 15: within 1.5x of verifying before it).

Run: python bench/verify_cost.py [--before COMMIT] [--docs 200] [--rounds 7]. The baseline is the same
verification in the tree of COMMIT (default: the session's first commit, before issue 15), extracted
with `git archive` and run side by side, round by round, in fresh processes. Printed as a table and
written to docs/performance.md. Not a test: nothing here asserts a time.

Before issue 15 a chain was checked only with --ca-bundle (by hand: issuer names and one signature
each); without it only the signature. After, every verdict has a trust source: the CA bundle
(cryptography.x509.verification, with the signer policy), pinned certificates, or integrity only.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._report import record  # noqa: E402
from tests.portal_helpers import envelope  # noqa: E402

WORKER = r"""
import json, sys, time
from pathlib import Path
docs = [p.read_bytes() for p in sorted(Path(sys.argv[1]).glob("*.xml"))]
ca, cert = sys.argv[2], sys.argv[3]
from sohs_cli.signing import verification
try:
    from sohs_cli.signing.trust import Trust
    modes = {"CA bundle": dict(trust=Trust.of_ca_bundle(ca)), "pinned --cert": dict(trust=Trust.of_files([cert])),
             "integrity only": dict(trust=Trust.none(integrity_only=True))}
except ImportError:
    from sohs_cli.signing.certs import load_ca_bundle
    modes = {"CA bundle": dict(anchors=load_ca_bundle(ca)), "no trust source": {}}
out = {}
for name, kw in modes.items():
    for d in docs[:5]:
        assert verification.verify_bytes(d, "d.xml", **kw).valid, name
    start = time.perf_counter()
    for d in docs:
        verification.verify_bytes(d, "d.xml", **kw)
    out[name] = (time.perf_counter() - start) / len(docs) * 1e6
print(json.dumps(out))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", default="7989788", help="commit of the baseline tree")
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=7)
    opts = parser.parse_args()
    from sohs_cli.foundation.credentials import SecretSource
    from sohs_cli.signing.certs import load_key_material
    from sohs_cli.signing.sign import FileSigner, sign_document
    from sohs_cli.signing.testpki import make_test_pki

    with tempfile.TemporaryDirectory(prefix="sohs-verify-") as tmp:
        work = Path(tmp)
        pki = make_test_pki(str(work / "pki"), password=b"bench")
        signer = FileSigner(load_key_material(p12=pki.clinic_p12, password=SecretSource("p", "-", pki.password_file)))
        (work / "docs").mkdir()
        for i in range(opts.docs):
            (work / "docs" / f"{i:04d}.xml").write_bytes(sign_document(envelope(f"LK2025110{i:05d}"), signer))
        old = work / "before"
        old.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", opts.before, "sohs_cli", "xsd"],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
        results: dict[str, dict[str, list[float]]] = {"before": {}, "after": {}}
        for _ in range(opts.rounds):
            for label, path in (("before", old), ("after", ROOT)):
                done = subprocess.run([sys.executable, "-c", WORKER, str(work / "docs"), pki.ca_cert, pki.clinic_cert],
                                      check=True, capture_output=True, text=True, env={"PYTHONPATH": str(path)},
                                      cwd=tmp)  # not this folder: "-c" puts the current one first
                for mode, us in json.loads(done.stdout).items():
                    results[label].setdefault(mode, []).append(us)
    base = statistics.median(results["before"]["CA bundle"])
    lines = [f"Per signed envelope (XML1 + XML13, ~5 KB), median of {opts.rounds} interleaved rounds of "
             f"{opts.docs} documents; baseline: the tree of {opts.before} with `--ca-bundle`.", "",
             "| tree | trust | µs per document | × baseline |", "|---|---|---:|---:|"]
    for label in ("before", "after"):
        for mode, values in results[label].items():
            us = statistics.median(values)
            lines.append(f"| {label} | {mode} | {us:,.0f} | {us / base:.2f} |")
    table = "\n".join(lines)
    print(table)
    record("verify-cost", table)


if __name__ == "__main__":
    main()
