"""`sohs verify` and `sohs submit` name their trust source; with none, verify says "integrity only"
and exits 1 unless --integrity-only, and submit refuses to start (exit 3). Issue 15."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sohs_cli.cli.app import build_app
from sohs_cli.signing.certs import KeyMaterial
from sohs_cli.signing.sign import FileSigner, sign_document
from sohs_cli.signing.testpki import TestPki, make_certificate, new_key
from tests.portal_helpers import envelope

runner = CliRunner()


@pytest.fixture
def files(tmp_path: Path, clinic: FileSigner) -> tuple[Path, Path]:
    genuine, forged = tmp_path / "genuine.xml", tmp_path / "forged.xml"
    genuine.write_bytes(sign_document(envelope("LK202511009201"), clinic))
    key = new_key()
    forged.write_bytes(sign_document(envelope("LK202511009201"),
                                     FileSigner(KeyMaterial(key, make_certificate(clinic.certificate.subject, key)))))
    return genuine, forged


def verify(*args: str) -> tuple[int, str]:
    r = runner.invoke(build_app(), ["verify", *args])
    return r.exit_code, r.output


def test_without_a_trust_source_verify_is_integrity_only_and_exits_1(files: tuple[Path, Path]) -> None:
    genuine, forged = files
    for path in files:
        code, text = verify(str(path))
        assert code == 1 and "integrity only" in text and "FAIL" in text  # exit 0 for anyone's key before
    code, text = verify(str(forged), "--integrity-only")
    assert code == 0 and "integrity only" in text
    code, text = verify(str(genuine), "--integrity-only", "--format", "json")
    assert code == 0 and json.loads(text)["files"][0]["signatures"][0]["trust"] == "integrity only"
    code, text = verify(str(genuine), "--integrity-only", "--ca-bundle", "x.pem")
    assert code == 2 and "cannot be combined" in text


def test_every_verdict_names_its_trust_source(files: tuple[Path, Path], pki: TestPki, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    genuine, forged = files
    code, text = verify(str(genuine), "--ca-bundle", pki.ca_cert)
    assert code == 0 and f"trusted by the CA bundle {pki.ca_cert}" in text
    code, text = verify(str(forged), "--ca-bundle", pki.ca_cert)
    assert code == 1 and "self-signed" in text
    code, text = verify(str(genuine), "--cert", pki.clinic_cert, "--format", "json")
    slot = json.loads(text)["files"][0]["signatures"][0]
    assert code == 0 and slot["trust"] == f"pinned certificate {pki.clinic_cert}" and slot["code"] == "ok"
    code, text = verify(str(forged), "--cert", pki.clinic_cert)
    assert code == 1 and "untrusted" in text
    monkeypatch.setenv("SOHS_VERIFY_CA_BUNDLE", pki.ca_cert)  # the setting submit and run use
    code, text = verify(str(genuine))
    assert code == 0 and f"CA bundle {pki.ca_cert}" in text


def test_submit_without_a_trust_source_exits_3_before_sending(files: tuple[Path, Path], tmp_path: Path) -> None:
    r = runner.invoke(build_app(), ["submit", str(files[0]), "--portal", "http://127.0.0.1:9",
                                    "--username", "79001_BV", "--home", str(tmp_path / "home")])
    assert r.exit_code == 3, r.output
    assert "no trust source" in r.output and "verify.ca_bundle" in r.output and "Traceback" not in r.output
