"""`sohs sign`, `sohs verify`, `sohs cert`: exit codes, messages, atomic writes, secrets kept out."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sohs_cli.cli.app import build_app
from sohs_cli.signing.testpki import TestPki

runner = CliRunner()
REFERRAL = "referral_episode_3176.xml"
PASSWORD = "test-p12-secret"  # the session PKI's password (tests/conftest.py)


def sign(pki: TestPki, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    r = runner.invoke(build_app(), ["sign", *args, "--p12", pki.clinic_p12], env=env)
    return r.exit_code, r.output


def test_sign_then_verify_with_password_from_the_environment(examples: Path, pki: TestPki, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOHS_P12_PASSWORD", PASSWORD)
    out = tmp_path / "signed.xml"
    code, text = sign(pki, str(examples / REFERRAL), "-o", str(out))
    assert code == 0, text
    assert f"signed {examples / REFERRAL} -> {out}" in text and "1 signed, 0 not signed" in text
    assert PASSWORD not in text
    r = runner.invoke(build_app(), ["verify", str(out), "--ca-bundle", pki.ca_cert])
    assert r.exit_code == 0, r.output
    assert "✓ CHUKYDONVI (Chữ ký đơn vị): signature valid" in r.output and "chain trusted" in r.output


def test_password_file_and_custom_variable(examples: Path, pki: TestPki, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    code, text = sign(pki, str(examples / REFERRAL), "-o", str(tmp_path / "a.xml"),
                      "--password-file", pki.password_file)
    assert code == 0, text
    monkeypatch.setenv("CLINIC_PW", PASSWORD)
    code, text = sign(pki, str(examples / REFERRAL), "-o", str(tmp_path / "b.xml"), "--password-env", "CLINIC_PW")
    assert code == 0, text
    assert (tmp_path / "a.xml").read_bytes() == (tmp_path / "b.xml").read_bytes()


def test_no_password_without_a_terminal_exits_3(examples: Path, pki: TestPki, tmp_path: Path) -> None:
    code, text = sign(pki, str(examples / REFERRAL), "-o", str(tmp_path / "s.xml"))
    assert code == 3
    assert "no terminal is attached" in text and "SOHS_P12_PASSWORD" in text
    assert not (tmp_path / "s.xml").exists()


def test_wrong_password_exits_3_and_never_echoes_it(examples: Path, pki: TestPki, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOHS_P12_PASSWORD", "hunter2-wrong")
    code, text = sign(pki, str(examples / REFERRAL), "-o", str(tmp_path / "s.xml"))
    assert code == 3 and "wrong password" in text and "$SOHS_P12_PASSWORD" in text
    assert "hunter2-wrong" not in text and "Traceback" not in text


def test_invalid_document_is_refused_and_the_original_untouched(examples: Path, pki: TestPki, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOHS_P12_PASSWORD", PASSWORD)
    src = tmp_path / "bad.xml"
    shutil.copy(examples / "invalid_card_length_3176.xml", src)
    before = src.read_bytes()
    code, text = sign(pki, str(src), "--in-place")
    assert code == 1 and "validation error" in text and "--no-validate" in text
    assert src.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.xml"]  # no temporary file left
    code, text = sign(pki, str(src), "--in-place", "--no-validate")
    assert code == 0, text
    assert b"<SignatureValue>" in src.read_bytes()


def test_a_batch_finishes_and_exits_with_the_worst_code(examples: Path, pki: TestPki, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOHS_P12_PASSWORD", PASSWORD)
    inputs = [examples / "appointment_episode_3176.xml", examples / "invalid_missing_required_3176.xml",
              examples / REFERRAL, examples / "checkup_adult_2062.xml"]
    code, text = sign(pki, *map(str, inputs), "--out-dir", str(tmp_path / "out"), "--jobs", "2")
    assert code == 1, text
    assert "2 signed, 2 not signed" in text
    assert "the concluding doctor first" in text  # a checkup record: the facility signs over the doctor's (QĐ 2062)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        p.name for p in inputs if "invalid" not in p.name and "checkup" not in p.name)


def test_usage_errors_exit_2(examples: Path, pki: TestPki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOHS_P12_PASSWORD", PASSWORD)
    code, text = sign(pki, str(examples / REFERRAL))
    assert code == 2 and "exactly one of --output" in text
    code, text = sign(pki, str(examples / REFERRAL), str(examples / REFERRAL), "-o", str(tmp_path / "x.xml"))
    assert code == 2 and "--output takes one input" in text
    code, text = sign(pki, str(examples / REFERRAL), "-o", str(tmp_path / "x.xml"), "--as", "doctor")
    assert code == 2 and "--as doctor applies to checkup envelopes" in text
    code, text = sign(pki, str(tmp_path / "missing.xml"), "-o", str(tmp_path / "x.xml"))
    assert code == 2 and "no such file" in text


def test_checkup_needs_both_signatures(examples: Path, pki: TestPki, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOHS_P12_PASSWORD", PASSWORD)
    ksk = tmp_path / "ksk.xml"
    shutil.copy(examples / "checkup_adult_2062.xml", ksk)
    r = runner.invoke(build_app(), ["sign", str(ksk), "--in-place", "--as", "doctor", "--p12", pki.doctor_p12])
    assert r.exit_code == 0, r.output
    r = runner.invoke(build_app(), ["verify", str(ksk), "--format", "json", "--ca-bundle", pki.ca_cert])
    assert r.exit_code == 1
    report = json.loads(r.output)["files"][0]
    assert [(s["slot"].split()[0], s["code"]) for s in report["signatures"]] == [
        ("CKS_NGUOI_KET_LUAN", "ok"), ("CKS_BENH_VIEN", "not-signed")]
    assert "Nguyễn Văn An" in report["signatures"][0]["signer"]["subject"]
    code, text = sign(pki, str(ksk), "--in-place")
    assert code == 0, text
    r = runner.invoke(build_app(), ["verify", str(ksk), "--ca-bundle", pki.ca_cert])
    assert r.exit_code == 0, r.output


def test_verify_reports_123_and_125(examples: Path, pki: TestPki, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    r = runner.invoke(build_app(), ["verify", str(examples / REFERRAL)])
    assert r.exit_code == 1 and "not signed (the portal answers 123)" in r.output
    r = runner.invoke(build_app(), ["verify", str(examples / REFERRAL), "--lang", "vi"])
    assert "chưa ký số (cổng trả mã 123)" in r.output
    monkeypatch.setenv("SOHS_P12_PASSWORD", PASSWORD)
    out = tmp_path / "s.xml"
    assert sign(pki, str(examples / REFERRAL), "-o", str(out))[0] == 0
    out.write_bytes(out.read_bytes().replace(b"<NGAYLAP>", b"<NGAYLAP>1"))
    r = runner.invoke(build_app(), ["verify", str(out)])
    assert r.exit_code == 1 and "changed after signing (the portal answers 125)" in r.output


def test_unusable_ca_bundle_exits_3(examples: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not a certificate\n")
    r = runner.invoke(build_app(), ["verify", str(examples / REFERRAL), "--ca-bundle", str(bundle)])
    assert r.exit_code == 3 and "not a PEM or DER certificate" in r.output
    r = runner.invoke(build_app(), ["verify", str(examples / REFERRAL), "--ca-bundle", str(tmp_path / "none.pem")])
    assert r.exit_code == 3


def test_hostile_file_is_one_clear_failure(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.xml"
    bomb.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><GIAMDINHHS>&a;</GIAMDINHHS>')
    r = runner.invoke(build_app(), ["verify", str(bomb)])
    assert r.exit_code == 1 and "DOCTYPE" in r.output and "Traceback" not in r.output


def test_expiring_certificate_warns(examples: Path, pki: TestPki, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOHS_P12_PASSWORD", PASSWORD)
    code, text = sign(pki, str(examples / REFERRAL), "-o", str(tmp_path / "s.xml"), "--expiry-warning-days", "400")
    assert code == 0 and "expires on" in text and "days left" in text
    code, text = sign(pki, str(examples / REFERRAL), "-o", str(tmp_path / "t.xml"))
    assert code == 0 and "expires on" not in text


def test_cert_show_and_make_test(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOHS_P12_PASSWORD", "chosen-password")
    r = runner.invoke(build_app(), ["cert", "make-test", "--out-dir", str(tmp_path / "pki"), "--facility", "79001"])
    assert r.exit_code == 0, r.output
    assert "TEST certificates, not for production" in r.output and "chosen-password" not in r.output
    for secret in ("clinic.key", "clinic.p12", "doctor.key", "doctor.p12", "p12-password.txt"):
        assert stat.S_IMODE(os.stat(tmp_path / "pki" / secret).st_mode) == 0o600, secret
    r = runner.invoke(build_app(), ["cert", "show", str(tmp_path / "pki" / "clinic.p12")])
    assert r.exit_code == 0, r.output
    assert "TEST Phòng khám 79001" in r.output and "digital_signature" in r.output and "sha256" in r.output
    r = runner.invoke(build_app(), ["cert", "show", str(tmp_path / "pki" / "test-ca.pem"), "--json"])
    info = json.loads(r.output)["certificates"][0]
    assert info["ca"] is True and info["days_left"] > 1000 and info["key"] == "RSA 2048"
    (tmp_path / "junk.p12").write_bytes(b"\x30\x03\x02\x01\x03garbage")
    r = runner.invoke(build_app(), ["cert", "show", str(tmp_path / "junk.p12")])
    assert r.exit_code == 3 and "Traceback" not in r.output
