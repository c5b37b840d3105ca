"""Signing and verifying in-process: the profile, the bytes kept, and every hostile case refused."""

from __future__ import annotations

import base64
import datetime as dt
import re
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from sohs_cli.foundation.credentials import SecretSource
from sohs_cli.foundation.errors import CertificateError, CredentialError, SigningError, UsageError
from sohs_cli.signing import dsig
from sohs_cli.signing.certs import (
    KeyMaterial,
    check_signing_certificate,
    load_key_material,
)
from sohs_cli.signing.sign import FileSigner, sign_document
from sohs_cli.signing.testpki import TestPki, make_certificate, new_key
from sohs_cli.signing.trust import Trust, chain_to
from sohs_cli.signing.verification import verify_bytes

REFERRAL = "referral_episode_3176.xml"
CHECKUP = "checkup_adult_2062.xml"


INTEGRITY = Trust.none(integrity_only=True)


@pytest.fixture(autouse=True)
def _trust(pki: TestPki) -> None:
    global TEST_CA
    TEST_CA = Trust.of_ca_bundle(pki.ca_cert)


TEST_CA = INTEGRITY  # set for each test from the session's TEST PKI


def codes(data: bytes, **kw: object) -> list[str]:
    kw.setdefault("trust", TEST_CA)
    report = verify_bytes(data, "f.xml", **kw)  # type: ignore[arg-type]
    return [report.error_code] if report.error else [s.code for s in report.signatures]


def test_signed_envelope_verifies_and_keeps_every_original_byte(examples: Path, clinic: FileSigner) -> None:
    original = (examples / REFERRAL).read_bytes()
    signed = sign_document(original, clinic)
    assert codes(signed) == ["ok"]
    start = signed.index(b"<Signature ")
    end = signed.index(b"</Signature>") + len(b"</Signature>")
    assert signed[:start] + signed[end:] == original  # spliced in, nothing re-serialised
    assert signed[start:end].startswith(b'<Signature xmlns="http://www.w3.org/2000/09/xmldsig#" Id="sig-')
    assert original.replace(b"<CHUKYDONVI></CHUKYDONVI>", b"") != original  # the slot was empty
    sig = signed[start:end].decode()
    for algorithm in (dsig.C14N, dsig.RSA_SHA256, dsig.SHA256, dsig.ENVELOPED):
        assert f'Algorithm="{algorithm}"' in sig
    assert '<Reference URI="">' in sig and "<X509SubjectName>" in sig and "ds:" not in sig


def test_signing_is_deterministic(examples: Path, clinic: FileSigner) -> None:
    data = (examples / REFERRAL).read_bytes()
    assert sign_document(data, clinic) == sign_document(data, clinic)


def test_self_closing_slot_crlf_and_no_declaration_are_kept(examples: Path, clinic: FileSigner) -> None:
    data = (examples / REFERRAL).read_bytes().replace(b"<CHUKYDONVI></CHUKYDONVI>", b"<CHUKYDONVI />")
    data = data.replace(b'<?xml version="1.0" encoding="utf-8"?>\n', b"").replace(b"><THONGTINHOSO>",
                                                                                   b">\r\n<THONGTINHOSO>")
    signed = sign_document(data, clinic)
    assert codes(signed) == ["ok"]
    assert b"\r\n<THONGTINHOSO>" in signed and signed.startswith(b"<GIAMDINHHS")


def slot_content(data: bytes, name: str) -> bytes:
    return re.search(rb"<" + name.encode() + rb">(.*?)</" + name.encode() + rb">", data, re.S).group(1)  # type: ignore[union-attr]


def with_slot(data: bytes, name: str, content: bytes) -> bytes:
    return re.sub(rb"<" + name.encode() + rb">.*?</" + name.encode() + rb">",
                  lambda m: b"<" + name.encode() + b">" + content + b"</" + name.encode() + b">", data, flags=re.S)


@pytest.mark.parametrize("form", ["base64", "xmldsig"])
def test_checkup_signatures_doctor_first_then_facility_over_it(examples: Path, clinic: FileSigner,
                                                              doctor: FileSigner, form: str) -> None:
    data = (examples / CHECKUP).read_bytes()
    once = sign_document(data, doctor, role="doctor", checkup_form=form)
    assert codes(once) == ["ok", "not-signed"]
    twice = sign_document(once, clinic, role="facility")  # follows the doctor's form
    assert codes(twice) == ["ok", "ok"]
    report = verify_bytes(twice, "k.xml", trust=TEST_CA)
    assert "Nguyễn Văn An" in (report.signatures[0].signer.subject if report.signatures[0].signer else "")
    if form == "base64":  # as the decision's example prints the slots: base64 text, no element
        assert base64.b64decode(slot_content(twice, "CKS_BENH_VIEN"), validate=True)[:1] == b"\x30"
        assert b"<Signature" not in twice
    else:
        assert b'Filter="subtract">/KHAMSUCKHOE/CHUKYDONVI/*/dsig:Signature</XPath>' in slot_content(
            twice, "CKS_NGUOI_KET_LUAN")
        assert b'Filter="subtract">/KHAMSUCKHOE/CHUKYDONVI/CKS_BENH_VIEN/dsig:Signature</XPath>' in slot_content(
            twice, "CKS_BENH_VIEN")
    with pytest.raises(SigningError, match=r"covers the doctor.s"):
        sign_document(data, clinic, role="facility", checkup_form=form)  # the facility covers the doctor's


@pytest.mark.parametrize("form", ["base64", "xmldsig"])
def test_a_checkup_signature_verifies_only_in_its_own_slot(examples: Path, clinic: FileSigner, doctor: FileSigner,
                                                           form: str) -> None:
    """Regression (issue 13): a doctor's signature copied into CKS_BENH_VIEN verified as the facility's, and
    two signatures swapped between the slots passed."""
    data = (examples / CHECKUP).read_bytes()
    by_doctor = sign_document(data, doctor, role="doctor", checkup_form=form)
    doctors = slot_content(by_doctor, "CKS_NGUOI_KET_LUAN")
    copied = with_slot(by_doctor, "CKS_BENH_VIEN", doctors)
    assert codes(copied)[1] != "ok"
    only_copy = with_slot(with_slot(by_doctor, "CKS_NGUOI_KET_LUAN", b""), "CKS_BENH_VIEN", doctors)
    assert codes(only_copy)[1] != "ok"
    both = sign_document(by_doctor, clinic, role="facility")
    facility = slot_content(both, "CKS_BENH_VIEN")
    swapped = with_slot(with_slot(both, "CKS_NGUOI_KET_LUAN", facility), "CKS_BENH_VIEN", doctors)
    assert "ok" not in codes(swapped), codes(swapped)
    # the facility's signature covers the doctor's: another valid doctor's signature breaks it
    other = slot_content(sign_document(data, clinic, role="doctor", checkup_form=form), "CKS_NGUOI_KET_LUAN")
    replaced = with_slot(both, "CKS_NGUOI_KET_LUAN", other)
    assert codes(replaced) == ["ok", "changed"]


def test_one_certificate_in_both_checkup_slots_is_refused(examples: Path, clinic: FileSigner) -> None:
    data = (examples / CHECKUP).read_bytes()
    twice = sign_document(sign_document(data, clinic, role="doctor"), clinic, role="facility")
    assert codes(twice) == ["ok", "same-signer"]


def test_the_two_checkup_slots_use_one_form(examples: Path, clinic: FileSigner, doctor: FileSigner) -> None:
    data = (examples / CHECKUP).read_bytes()
    by_doctor = sign_document(data, doctor, role="doctor", checkup_form="xmldsig")
    with pytest.raises(SigningError, match="one form"):
        sign_document(by_doctor, clinic, role="facility", checkup_form="base64")
    b64 = sign_document(sign_document(data, doctor, role="doctor"), clinic, role="facility")
    mixed = with_slot(b64, "CKS_NGUOI_KET_LUAN", slot_content(by_doctor, "CKS_NGUOI_KET_LUAN"))
    assert verify_bytes(mixed, "m.xml", trust=TEST_CA).error_code == "signature-form"


def test_one_changed_byte_is_caught(examples: Path, clinic: FileSigner) -> None:
    signed = sign_document((examples / REFERRAL).read_bytes(), clinic)
    assert codes(signed.replace(b"<MACSKCB>79001<", b"<MACSKCB>79002<")) == ["changed"]
    # a changed base64 character of an inner table: the record itself changed
    i = signed.index(b"<NOIDUNGFILE>") + len(b"<NOIDUNGFILE>") + 40
    flipped = signed[:i] + (b"A" if signed[i:i + 1] != b"A" else b"B") + signed[i + 1:]
    assert codes(flipped) == ["changed"]
    value = re.search(rb"<SignatureValue>(.)", signed)
    assert value is not None
    j = value.start(1)
    assert codes(signed[:j] + (b"A" if signed[j:j + 1] != b"A" else b"B") + signed[j + 1:]) == ["bad-signature"]
    assert codes(signed.replace(b"<DigestValue>", b"<DigestValue>AAAA")) in (["bad-signature"], ["profile"])


def test_unsigned_says_123(examples: Path) -> None:
    report = verify_bytes((examples / REFERRAL).read_bytes(), "f.xml", trust=TEST_CA)
    assert [s.code for s in report.signatures] == ["not-signed"]
    assert "123" in report.signatures[0].message_en and not report.valid


def test_two_signatures_where_one_is_expected(examples: Path, clinic: FileSigner) -> None:
    signed = sign_document((examples / REFERRAL).read_bytes(), clinic)
    sig = signed[signed.index(b"<Signature "):signed.index(b"</Signature>") + 12]
    doubled = signed.replace(b"</CHUKYDONVI>", sig + b"</CHUKYDONVI>")
    assert codes(doubled) == ["duplicate"]


def test_wrapped_signature_is_refused(examples: Path, clinic: FileSigner) -> None:
    """The classic wrapping attack: keep the genuine signature, move it aside, change the data."""
    signed = sign_document((examples / REFERRAL).read_bytes(), clinic)
    sig = signed[signed.index(b"<Signature "):signed.index(b"</Signature>") + 12]
    moved = signed.replace(sig, b"").replace(b"<THONGTINDONVI>", b"<THONGTINDONVI>" + sig)
    assert codes(moved.replace(b">79001<", b">79999<")) == ["signature-misplaced"]
    second_slot = signed.replace(b"<THONGTINHOSO>", b"<CHUKYDONVI>" + sig + b"</CHUKYDONVI><THONGTINHOSO>")
    assert codes(second_slot) == ["signature-misplaced"]


def test_reference_to_an_id_elsewhere_is_refused(examples: Path, clinic: FileSigner) -> None:
    signed = sign_document((examples / REFERRAL).read_bytes(), clinic)
    report = verify_bytes(signed.replace(b'<Reference URI="">', b'<Reference URI="#HOSO1">'), "f.xml", trust=TEST_CA)
    assert report.signatures[0].code == "reference"
    assert 'URI=""' in report.signatures[0].message_en


def test_other_algorithms_are_refused(examples: Path, clinic: FileSigner) -> None:
    signed = sign_document((examples / REFERRAL).read_bytes(), clinic)
    sha1 = signed.replace(dsig.RSA_SHA256.encode(), b"http://www.w3.org/2000/09/xmldsig#rsa-sha1")
    assert codes(sha1) == ["profile"]
    xslt = signed.replace(dsig.ENVELOPED.encode(), b"http://www.w3.org/TR/1999/REC-xslt-19991116")
    assert codes(xslt) == ["profile"]


def test_expired_and_future_certificates(examples: Path, clinic: FileSigner, pki: TestPki) -> None:
    signed = sign_document((examples / REFERRAL).read_bytes(), clinic)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=400)
    assert codes(signed, at=later) == ["cert-expired"]
    earlier = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    assert codes(signed, at=earlier) == ["cert-not-yet-valid"]


def test_chain_to_the_ca_bundle_only(examples: Path, clinic: FileSigner, pki: TestPki) -> None:
    signed = sign_document((examples / REFERRAL).read_bytes(), clinic)
    trust = Trust.of_ca_bundle(pki.ca_cert)
    report = verify_bytes(signed, "f.xml", trust=trust)
    assert report.valid and report.signatures[0].chain == f"trusted (CA bundle {pki.ca_cert})"
    key = new_key()
    name = clinic.certificate.subject  # same subject, but self-signed: an impostor
    selfsigned = FileSigner(KeyMaterial(key, make_certificate(name, key)))
    forged = sign_document((examples / REFERRAL).read_bytes(), selfsigned)
    assert codes(forged, trust=INTEGRITY) == ["integrity-only"]  # without a trust source: integrity only …
    report = verify_bytes(forged, "f.xml", trust=trust)
    assert report.signatures[0].code == "untrusted"  # … with one, the impostor is caught
    assert "self-signed" in report.signatures[0].message_en
    assert chain_to(clinic.certificate, [], [clinic.certificate])[0]  # a leaf in the bundle is pinned by it


def _material(**kw: object) -> KeyMaterial:
    key = new_key(int(kw.pop("bits", 2048)))  # type: ignore[call-overload]
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "TEST odd")])
    return KeyMaterial(key, make_certificate(name, key, **kw))  # type: ignore[arg-type]


def test_certificate_checks_before_signing() -> None:
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    with pytest.raises(CertificateError, match="expired"):
        check_signing_certificate(_material(not_before=past, days=10))
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    with pytest.raises(CertificateError, match="not valid until"):
        check_signing_certificate(_material(not_before=future))
    with pytest.raises(CertificateError, match="1024-bit"):
        check_signing_certificate(_material(bits=1024))
    with pytest.raises(CertificateError, match="may not sign"):
        check_signing_certificate(_material(signing=False))
    good, other = _material(), _material()
    with pytest.raises(CertificateError, match="does not belong"):
        check_signing_certificate(KeyMaterial(other.key, good.cert))
    assert check_signing_certificate(good).days_left >= 364


def test_wrong_password_and_damaged_pkcs12(pki: TestPki, tmp_path: Path) -> None:
    wrong = tmp_path / "pw"
    wrong.write_text("not-the-password\n")
    with pytest.raises(CredentialError, match="wrong password") as err:
        load_key_material(p12=pki.clinic_p12, password=SecretSource("p", "UNSET", str(wrong)))
    assert "not-the-password" not in str(err.value) + err.value.hint
    damaged = tmp_path / "bad.p12"
    damaged.write_bytes(b"\x30\x82\x01\x00" + b"\x00" * 300)
    with pytest.raises(CredentialError, match="damaged"):
        load_key_material(p12=str(damaged), password=SecretSource("p", "UNSET"))
    with pytest.raises(CredentialError, match="no terminal"):  # encrypted, nothing configured, no prompt
        load_key_material(p12=pki.clinic_p12, password=SecretSource("p", "UNSET"))


def test_pem_key_and_certificate(pki: TestPki, examples: Path) -> None:
    km = load_key_material(key=pki.clinic_key, cert=pki.clinic_cert, chain=[pki.ca_cert],
                           password=SecretSource("p", "UNSET"))
    signed = sign_document((examples / REFERRAL).read_bytes(), FileSigner(km))
    assert signed.count(b"<X509Certificate>") == 2
    assert verify_bytes(signed, "f.xml", trust=Trust.of_ca_bundle(pki.ca_cert)).valid


def test_documents_that_cannot_be_signed(examples: Path, clinic: FileSigner) -> None:
    table = (examples / "tables" / "XML13_referral_3176.xml").read_bytes()
    with pytest.raises(SigningError, match="not a document that is signed"):
        sign_document(table, clinic)
    signed = sign_document((examples / REFERRAL).read_bytes(), clinic)
    with pytest.raises(SigningError, match="already signed"):
        sign_document(signed, clinic)
    with pytest.raises(UsageError, match="--as doctor"):
        sign_document((examples / REFERRAL).read_bytes(), clinic, role="doctor")
    two_slots = (examples / REFERRAL).read_bytes().replace(b"<CHUKYDONVI></CHUKYDONVI>",
                                                           b"<CHUKYDONVI></CHUKYDONVI>" * 2)
    with pytest.raises(SigningError, match="2 CHUKYDONVI"):
        sign_document(two_slots, clinic)


def test_key_info_carries_the_signer_certificate(examples: Path, clinic: FileSigner) -> None:
    signed = sign_document((examples / REFERRAL).read_bytes(), clinic)
    m = re.search(rb"<X509Certificate>([^<]+)</X509Certificate>", signed)
    assert m is not None
    der = clinic.certificate.public_bytes(serialization.Encoding.DER)
    assert base64.b64decode(m.group(1)) == der


def test_an_export_without_chukydonvi_is_signed_with_the_slot_added(examples: Path, clinic: FileSigner) -> None:
    """Regression (issue 14): an export lacking <CHUKYDONVI/> could not be signed; every vendor tool
    adds the element before signing. Only the element (and the signature in it) is added."""
    from sohs_cli.signing.sign import sign
    from sohs_cli.validation.engine import validate_bytes

    original = (examples / "referral_episode_3176.xml").read_bytes()
    export = original.replace(b"<CHUKYDONVI></CHUKYDONVI>", b"").replace(b"</GIAMDINHHS>", b"\r\n</GIAMDINHHS>\r\n")
    assert b"CHUKYDONVI" not in export
    rep = validate_bytes(export, "e.xml")
    assert rep.valid and [f.code for f in rep.findings] == ["chukydonvi-missing"]
    signed = sign(export, clinic, source="e.xml")
    assert signed.slot_added
    at = export.rindex(b"</GIAMDINHHS>")
    assert signed.data.startswith(export[:at] + b"<CHUKYDONVI><Signature")
    assert signed.data.endswith(b"</Signature></CHUKYDONVI>" + export[at:])
    assert codes(signed.data) == ["ok"]
    assert validate_bytes(signed.data, "s.xml").findings == []
    again = sign(original, clinic, source="o.xml")  # a file that has the slot keeps it as it is
    assert not again.slot_added and b"<CHUKYDONVI><Signature" in again.data


def test_an_export_without_chukydonvi_is_not_signed_yet_rather_than_misplaced(examples: Path) -> None:
    """So that `sohs run` signs it (adding the slot) instead of filing it as rejected (issue 14)."""
    export = (examples / REFERRAL).read_bytes().replace(b"<CHUKYDONVI></CHUKYDONVI>", b"")
    assert codes(export) == ["not-signed"]
    misplaced = (examples / REFERRAL).read_bytes().replace(b"<CHUKYDONVI></CHUKYDONVI>", b"").replace(
        b"<THONGTINHOSO>", b"<CHUKYDONVI></CHUKYDONVI><THONGTINHOSO>")
    assert codes(misplaced) == ["signature-misplaced"]
