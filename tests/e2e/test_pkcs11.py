"""Signing with a key that never leaves a token: SoftHSM2, a real PKCS#11 implementation.

Runs in CI (.ci/run installs softhsm2; the test extra installs python-pkcs11) and fails there rather
than skip. A key pair is generated on the token, its certificate is issued by a test CA and stored
on the token, documents are signed through `sohs sign`, and xmlsec1 verifies them.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from sohs_cli.cli.app import build_app
from sohs_cli.signing.testpki import make_certificate, new_key
from tests.conftest import require_tool

runner = CliRunner()
PIN = "246810"
MODULES = ("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
           "/usr/local/lib/softhsm/libsofthsm2.so")


def _module() -> str:
    found = next((m for m in MODULES if os.path.exists(m)), None)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("libsofthsm2.so is required in CI (.ci/run installs softhsm2)")
        pytest.skip("SoftHSM2 is not installed")
    return found


def _public_key(obj: Any) -> rsa.RSAPublicKey:
    from pkcs11 import Attribute

    n = int.from_bytes(obj[Attribute.MODULUS], "big")
    e = int.from_bytes(obj[Attribute.PUBLIC_EXPONENT], "big")
    return rsa.RSAPublicNumbers(e, n).public_key()


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    try:
        import pkcs11
        from pkcs11 import Attribute, CertificateType, KeyType, ObjectClass
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("python-pkcs11 is required in CI (the test extra installs it)")
        pytest.skip("python-pkcs11 is not installed")
    module = _module()
    util = require_tool("softhsm2-util")
    home = tmp_path_factory.mktemp("softhsm")
    (home / "tokens").mkdir()
    conf = home / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {home / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run([util, "--init-token", "--free", "--label", "clinic", "--pin", PIN, "--so-pin", "13579"],
                   check=True, capture_output=True, timeout=60)
    ca_key = new_key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "TEST token CA")])
    ca = make_certificate(ca_name, ca_key, ca=True)
    (home / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    lib = pkcs11.lib(module)
    with lib.get_token(token_label="clinic").open(user_pin=PIN, rw=True) as session:
        certs = {}
        for key_id, label in ((b"\x01", "clinic-signing"), (b"\x02", "spare")):
            public, _ = session.generate_keypair(KeyType.RSA, 2048, store=True, label=label, id=key_id)
            name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                              x509.NameAttribute(NameOID.COMMON_NAME, f"TEST Phòng khám token {label}")])
            certs[label] = make_certificate(name, _public_key(public), issuer=ca_name, issuer_key=ca_key)
        der = certs["clinic-signing"].public_bytes(serialization.Encoding.DER)
        session.create_object({Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.CERTIFICATE_TYPE:
                               CertificateType.X_509, Attribute.VALUE: der, Attribute.TOKEN: True,
                               Attribute.LABEL: "clinic-signing", Attribute.ID: b"\x01",
                               Attribute.SUBJECT: certs["clinic-signing"].subject.public_bytes()})
    (home / "spare.pem").write_bytes(certs["spare"].public_bytes(serialization.Encoding.PEM))
    (home / "clinic.pem").write_bytes(certs["clinic-signing"].public_bytes(serialization.Encoding.PEM))
    return {"module": module, "ca": str(home / "ca.pem"), "spare_cert": str(home / "spare.pem"),
            "clinic_cert": str(home / "clinic.pem")}


def sign(token: dict[str, str], src: Path, dst: Path, *extra: str) -> tuple[int, str]:
    r = runner.invoke(build_app(), ["sign", str(src), "-o", str(dst), "--pkcs11-module", token["module"],
                                    "--token-label", "clinic", *extra])
    return r.exit_code, r.output


def test_sign_on_the_token_and_xmlsec1_verifies(token: dict[str, str], examples: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOHS_PKCS11_PIN", PIN)
    out = tmp_path / "signed.xml"
    code, text = sign(token, examples / "referral_episode_3176.xml", out, "--key-label", "clinic-signing")
    assert code == 0, text
    done = subprocess.run([require_tool("xmlsec1"), "--verify", "--trusted-pem", token["ca"], str(out)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    r = runner.invoke(build_app(), ["verify", str(out), "--ca-bundle", token["ca"]])
    assert r.exit_code == 0 and "TEST Phòng khám token clinic-signing" in r.output
    assert PIN not in text + r.output
    ksk = tmp_path / "ksk.xml"
    code, text = sign(token, examples / "checkup_adult_2062.xml", ksk, "--key-id", "01", "--no-validate",
                      "--as", "doctor")
    assert code == 0, text  # the checkup profile (base64 CMS) through the token too


def test_certificate_from_a_file_when_the_token_has_none(token: dict[str, str], examples: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOHS_PKCS11_PIN", PIN)
    out = tmp_path / "signed.xml"
    code, text = sign(token, examples / "referral_episode_3176.xml", out, "--key-label", "spare")
    assert code == 3 and "no certificate" in text and "--cert" in text
    code, text = sign(token, examples / "referral_episode_3176.xml", out, "--key-label", "spare",
                      "--cert", token["spare_cert"])
    assert code == 0, text
    r = runner.invoke(build_app(), ["verify", str(out), "--ca-bundle", token["ca"]])
    assert r.exit_code == 0, r.output


def test_clear_errors(token: dict[str, str], examples: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src, out = examples / "referral_episode_3176.xml", tmp_path / "s.xml"
    monkeypatch.setenv("SOHS_PKCS11_PIN", PIN)
    r = runner.invoke(build_app(), ["sign", str(src), "-o", str(out), "--pkcs11-module", "/no/such/module.so"])
    assert r.exit_code == 3 and "cannot be loaded" in r.output
    code, text = sign({**token}, src, out)  # two keys, none chosen
    assert code == 3 and "2 RSA private keys" in text
    r = runner.invoke(build_app(), ["sign", str(src), "-o", str(out), "--pkcs11-module", token["module"],
                                    "--token-label", "absent"])
    assert r.exit_code == 3 and "token 'absent' is not present" in r.output and "'clinic'" in r.output
    code, text = sign(token, src, out, "--key-label", "nope")
    assert code == 3 and "no RSA private key" in text
    code, text = sign(token, src, out, "--key-label", "spare", "--cert", token["clinic_cert"])
    assert code == 3 and "does not belong" in text
    monkeypatch.setenv("SOHS_PKCS11_PIN", "000000")
    code, text = sign(token, src, out, "--key-label", "clinic-signing")
    assert code == 3 and "wrong PIN" in text and "not tried again" in text and "000000" not in text
    monkeypatch.setenv("SOHS_PKCS11_PIN", PIN)
    code, text = sign(token, src, out, "--key-label", "clinic-signing")
    assert code == 0, text  # one wrong PIN, tried once: the token is not locked
    assert not list(tmp_path.glob(".sohs-*"))


def test_cert_show_lists_the_token(token: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    r = runner.invoke(build_app(), ["cert", "show", "--pkcs11-module", token["module"], "--token-label", "clinic"])
    assert r.exit_code == 0, r.output
    assert "certificate" in r.output and "TEST Phòng khám token clinic-signing" in r.output
    rows = [line.split()[0:2] for line in r.output.splitlines()[1:]]
    assert ["private", "key"] not in rows and "SOHS_PKCS11_PIN" in r.output  # private keys need the PIN
    monkeypatch.setenv("SOHS_PKCS11_PIN", PIN)
    r = runner.invoke(build_app(), ["cert", "show", "--pkcs11-module", token["module"], "--json"])
    data = __import__("json").loads(r.output)
    from tests.cli.schemas import assert_schema

    assert_schema("cert-token", data)
    objects = data["objects"]
    kinds = sorted((o["kind"], o["label"]) for o in objects)
    assert ("private key", "clinic-signing") in kinds and ("private key", "spare") in kinds
    assert ("certificate", "clinic-signing") in kinds
