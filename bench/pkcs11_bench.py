"""Signatures per second through a PKCS#11 token (SoftHSM2) against the same signing with a key in a file.

Run: python bench/pkcs11_bench.py [--count 1000]. A throwaway SoftHSM2 token is made in a temporary
folder, a key is generated on it, and the same envelope is signed ``count`` times both ways with
`sohs`'s signer (full XML-DSig, not just the RSA operation). Records the table in docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._report import record  # noqa: E402
from sohs_cli.documents.samples import examples_dir  # noqa: E402
from sohs_cli.foundation.credentials import SecretSource  # noqa: E402
from sohs_cli.signing.certs import KeyMaterial  # noqa: E402
from sohs_cli.signing.sign import FileSigner, sign_document  # noqa: E402
from sohs_cli.signing.testpki import make_certificate, new_key  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=1000)
    args = ap.parse_args()
    module = next((m for m in ("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so")
                   if os.path.exists(m)), None)
    if module is None or not shutil.which("softhsm2-util"):
        sys.exit("SoftHSM2 is needed (apt-get install softhsm2)")
    import pkcs11
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID
    from pkcs11 import Attribute, KeyType

    from sohs_cli.signing.hsm import Pkcs11Signer, TokenRef

    data = (examples_dir() / "referral_episode_3176.xml").read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "tokens").mkdir()
        Path(tmp, "softhsm2.conf").write_text(f"directories.tokendir = {tmp}/tokens\nobjectstore.backend = file\n")
        os.environ["SOFTHSM2_CONF"] = f"{tmp}/softhsm2.conf"
        subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "bench", "--pin", "1234",
                        "--so-pin", "5678"], check=True, capture_output=True)
        with pkcs11.lib(module).get_token(token_label="bench").open(user_pin="1234", rw=True) as s:
            public, _ = s.generate_keypair(KeyType.RSA, 2048, store=True, label="k", id=b"\x01")
            n = int.from_bytes(public[Attribute.MODULUS], "big")
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "TEST bench")])
        ca_key = new_key()
        cert = make_certificate(name, rsa.RSAPublicNumbers(65537, n).public_key(), issuer=name, issuer_key=ca_key)
        Path(tmp, "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        os.environ["BENCH_PIN"] = "1234"
        token = Pkcs11Signer(TokenRef(module, "bench", "k"), SecretSource("pin", "BENCH_PIN"), f"{tmp}/cert.pem")
        key = new_key()
        file_signer = FileSigner(KeyMaterial(key, make_certificate(name, key)))
        rows = []
        for label, signer in (("key in a file (baseline)", file_signer), ("SoftHSM2 token via PKCS#11", token)):
            sign_document(data, signer)
            t0 = time.perf_counter()
            for _ in range(args.count):
                sign_document(data, signer)
            rows.append((label, time.perf_counter() - t0))
        token.close()
    base = rows[0][1]
    lines = [f"{args.count:,} signatures of one GIAMDINHHS envelope ({len(data):,} bytes), full XML-DSig "
             "(parse, digest, C14N, RSA-2048, splice), one process.", "",
             "| key | signatures/s | per document | ratio to the file key |", "|---|---:|---:|---:|"]
    for label, t in rows:
        lines.append(f"| {label} | {args.count / t:,.0f} | {t / args.count * 1e3:.2f} ms | {t / base:.2f}× |")
    text = "\n".join(lines)
    print(text)
    record("pkcs11", text)


if __name__ == "__main__":
    main()
