"""Output people and scripts can rely on (issue 17): data printed through rich is shown as it is,
certificates in either language, JSON with its schema."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from sohs_cli.cli.app import build_app
from sohs_cli.signing.certs import describe
from sohs_cli.signing.testpki import TestPki, make_certificate
from tests.cli.schemas import assert_schema

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(build_app(list(args)), list(args))
    return result.exit_code, result.stdout, result.stderr


def certificate_whose_fingerprint_holds_an_emoji_code(tmp_path: Path) -> tuple[Path, str]:
    """A certificate whose SHA-256 fingerprint has ``:AB:`` or ``:CD:`` (rich read them as 🆎 and 💿).
    About one certificate in five has one: a new serial number each try, one key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "[red]Phòng khám[/red] :ab: test")])
    for _ in range(200):
        cert = make_certificate(name, key)
        fingerprint = describe(cert).fingerprint_sha256
        if ":AB:" in fingerprint or ":CD:" in fingerprint:
            path = tmp_path / "emoji.pem"
            path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
            return path, fingerprint
    raise AssertionError("no fingerprint with :AB: or :CD: in 200 certificates")


def test_cert_show_prints_data_as_it_is(tmp_path: Path) -> None:
    path, fingerprint = certificate_whose_fingerprint_holds_an_emoji_code(tmp_path)
    code, out, _ = run("cert", "show", str(path))
    assert code == 0
    assert fingerprint in out and "🆎" not in out and "💿" not in out
    assert "[red]Phòng khám[/red] :ab: test" in out  # markup and emoji codes in a subject are data too


def test_cert_show_json_schema_and_vietnamese(tmp_path: Path) -> None:
    path, fingerprint = certificate_whose_fingerprint_holds_an_emoji_code(tmp_path)
    code, out, _ = run("cert", "show", str(path), "--json")
    assert code == 0
    data = json.loads(out)
    assert_schema("cert", data)
    assert data["schema"] == "sohs.cert/1" and data["certificates"][0]["sha256"] == fingerprint
    code, out, _ = run("--lang", "vi", "cert", "show", str(path))
    assert code == 0
    for english in ("issuer", "days left", "key usage", "serial", "certificate"):
        assert english not in out, english
    assert "bên cấp" in out and "còn " in out and " ngày" in out


def test_verify_json_and_its_format_alias_match_the_schema(examples: Path) -> None:
    """One convention: --json everywhere; --format json stays as its alias on validate and verify."""
    code, by_flag, _ = run("verify", "--integrity-only", "--json", str(examples / "referral_episode_3176.xml"))
    assert code == 1  # not signed
    code, by_format, _ = run("verify", "--integrity-only", "--format", "json",
                             str(examples / "referral_episode_3176.xml"))
    assert by_flag == by_format
    data = json.loads(by_flag)
    assert_schema("verify", data)
    assert data["summary"] == {"files": 1, "valid": 0, "invalid": 1}


def test_sign_reports_each_file_as_it_is_signed(examples: Path, pki: TestPki, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Each line is printed when its file is done, not after the whole batch (a 5,000-file night)."""
    from sohs_cli.signing import signbatch

    real = signbatch.sign_files
    seen: list[str] = []

    def watched(*args: Any, **kwargs: Any) -> Iterator[Any]:
        for outcome in real(*args, **kwargs):
            yield outcome
            seen.append(sys.stdout.buffer.getvalue().decode())  # what the CLI runner captured so far

    monkeypatch.setattr(signbatch, "sign_files", watched)
    monkeypatch.setenv("SOHS_P12_PASSWORD", "test-p12-secret")
    files = []
    for n in range(2):
        f = tmp_path / f"doc{n}.xml"
        f.write_bytes((examples / "referral_episode_3176.xml").read_bytes())
        files.append(str(f))
    code, out, _ = run("sign", *files, "--out-dir", str(tmp_path / "signed"), "--p12", pki.clinic_p12)
    assert code == 0, out
    assert "doc0.xml" in seen[0] and "doc1.xml" not in seen[0]  # the first line was out before the second file
