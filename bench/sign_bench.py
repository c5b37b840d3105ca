"""Speed of signing: `sohs` against a raw RSA-2048 signature and against `xmlsec1` once per file.

Run: python bench/sign_bench.py [--count 2000] [--xmlsec-count 200]. Prints a ratio table and writes
it to docs/performance.md between markers. Not a test: nothing here asserts a time.

Baselines, all on this machine in the same run:
* raw RSA-2048 PKCS#1 v1.5 SHA-256 signatures with cryptography (the floor of any signer);
* ``xmlsec1 --sign`` started once per file, as a HIS that shells out to it does.
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
from sohs_cli.documents import samples  # noqa: E402
from sohs_cli.documents.kinds import pack  # noqa: E402
from sohs_cli.foundation.credentials import SecretSource  # noqa: E402
from sohs_cli.signing import dsig  # noqa: E402
from sohs_cli.signing.certs import load_key_material, rsa_sign  # noqa: E402
from sohs_cli.signing.sign import FileSigner, sign_document  # noqa: E402
from sohs_cli.signing.testpki import make_test_pki  # noqa: E402

TEMPLATE = dsig.xmlsec1_template(dsig.slots_for("GIAMDINHHS")[0])


def best(fn: object, runs: int = 3) -> float:
    out = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        out = min(out, time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--xmlsec-count", type=int, default=200)
    args = ap.parse_args()
    xmlsec1 = shutil.which("xmlsec1")
    if not xmlsec1:
        sys.exit("xmlsec1 is needed (apt-get install xmlsec1)")
    n = args.count
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pki = make_test_pki(str(folder / "pki"), password=b"bench")
        envelopes = folder / "in"
        envelopes.mkdir()
        for i in range(n):
            lk = f"LK2025{i:08d}"
            base = samples.xml1_values("3176", lk, ma_loai_rv="2")
            env = pack([("x1", samples.xml1("3176", lk, ma_loai_rv="2")), ("x13", samples.xml13("3176", lk, base))],
                       facility="79001")
            (envelopes / f"hoso_{i:05d}.xml").write_bytes(env.data)
        files = sorted(envelopes.iterdir())
        datas = [f.read_bytes() for f in files]
        material = load_key_material(p12=pki.clinic_p12, password=SecretSource("p", "UNSET", pki.password_file))
        signer = FileSigner(material)
        digests = [d[:64] for d in datas]
        raw = best(lambda: [rsa_sign(material.key, d) for d in digests])
        core = best(lambda: [sign_document(d, signer) for d in datas])
        env_vars = {"SOHS_P12_PASSWORD": "bench", "PATH": "/usr/bin:/bin"}
        cli = [sys.executable, "-m", "sohs_cli", "sign", str(envelopes), "--p12", pki.clinic_p12]

        def run_cli(*extra: str) -> float:
            def go() -> None:
                shutil.rmtree(folder / "out", ignore_errors=True)
                subprocess.run([*cli, "--out-dir", str(folder / "out"), *extra], env=env_vars, check=True,
                               stdout=subprocess.DEVNULL)
            return best(go, runs=2)

        cli_plain = run_cli("--no-validate")
        cli_plain_jobs = run_cli("--no-validate", "--jobs", "2")
        cli_valid = run_cli()
        cli_jobs = run_cli("--jobs", "2")
        k = min(args.xmlsec_count, n)
        templates = []
        for i, d in enumerate(datas[:k]):
            t = folder / f"tmpl_{i:05d}.xml"
            t.write_bytes(d.replace(b"<CHUKYDONVI></CHUKYDONVI>", b"<CHUKYDONVI>" + TEMPLATE + b"</CHUKYDONVI>"))
            templates.append(t)

        def xmlsec_all() -> None:
            for t in templates:
                subprocess.run([xmlsec1, "--sign", "--privkey-pem", f"{pki.clinic_key},{pki.clinic_cert}",
                                "--output", str(t) + ".signed", str(t)], check=True, stdout=subprocess.DEVNULL)

        xmlsec = best(xmlsec_all, runs=1) / k * n
    per = {name: t / n * 1e3 for name, t in [
        ("raw", raw), ("core", core), ("cli", cli_plain), ("cli2", cli_plain_jobs), ("valid", cli_valid),
        ("jobs", cli_jobs), ("xmlsec", xmlsec)]}
    size = len(datas[0])
    lines = [f"{n:,} GIAMDINHHS envelopes (XML1 + XML13, {size:,} bytes each), RSA-2048, best of 3 "
             f"(CLI: best of 2; xmlsec1: {k} files, scaled).", "",
             "| what | per document | ratio to raw RSA | xmlsec1 per file ÷ this |", "|---|---:|---:|---:|"]
    rows = [
        ("raw RSA-2048 signature, cryptography (baseline)", "raw"),
        ("sohs signing core, in-process (parse, digest, C14N, RSA, splice, placement check)", "core"),
        ("`sohs sign --out-dir --no-validate` (whole command: start-up, key load, read, atomic write)", "cli"),
        ("`sohs sign --out-dir --no-validate --jobs 2`", "cli2"),
        ("`sohs sign --out-dir` (validation on)", "valid"),
        ("`sohs sign --out-dir --jobs 2` (validation on)", "jobs"),
        ("`xmlsec1 --sign` once per file (baseline)", "xmlsec"),
    ]
    for label, key in rows:
        lines.append(f"| {label} | {per[key]:.3f} ms | {per[key] / per['raw']:.2f}× | "
                     f"{per['xmlsec'] / per[key]:.1f}× |")
    text = "\n".join(lines)
    print(text)
    record("sign", text)


if __name__ == "__main__":
    main()
