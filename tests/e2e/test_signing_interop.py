"""Interop with independent implementations: xmlsec1 (libxmlsec1) and signxml, and openssl certificates.

These run in CI (.ci/run installs xmlsec1 and openssl) and fail there rather than skip.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sohs_cli.cli.app import build_app
from sohs_cli.foundation.credentials import SecretSource
from sohs_cli.signing import dsig
from sohs_cli.signing.certs import load_key_material
from sohs_cli.signing.sign import FileSigner, sign_document
from sohs_cli.signing.testpki import TestPki
from sohs_cli.signing.trust import Trust
from sohs_cli.signing.verification import verify_bytes
from tests.conftest import require_tool

runner = CliRunner()
REFERRAL = "referral_episode_3176.xml"
TEMPLATE = dsig.xmlsec1_template(dsig.slots_for("GIAMDINHHS")[0])


def xmlsec_verify(path: Path, ca: str, node: str | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [require_tool("xmlsec1"), "--verify", "--trusted-pem", ca]
    if node:
        cmd += ["--node-xpath", f"//*[local-name()='{node}']/*[local-name()='Signature']"]
    return subprocess.run([*cmd, str(path)], capture_output=True, text=True, timeout=60)


def flip_one_byte(data: bytes) -> bytes:
    i = data.index(b"<MACSKCB>") + len(b"<MACSKCB>")
    return data[:i] + (b"8" if data[i:i + 1] != b"8" else b"9") + data[i + 1:]


def test_xmlsec1_verifies_what_sohs_signs(examples: Path, clinic: FileSigner, pki: TestPki, tmp_path: Path) -> None:
    signed = tmp_path / "signed.xml"
    signed.write_bytes(sign_document((examples / REFERRAL).read_bytes(), clinic))
    ok = xmlsec_verify(signed, pki.ca_cert)
    assert ok.returncode == 0, ok.stderr
    assert "OK" in ok.stderr + ok.stdout
    tampered = tmp_path / "tampered.xml"
    tampered.write_bytes(flip_one_byte(signed.read_bytes()))
    assert xmlsec_verify(tampered, pki.ca_cert).returncode != 0
    assert verify_bytes(tampered.read_bytes(), "t", trust=Trust.none()).signatures[0].code == "changed"


def test_sohs_verifies_what_xmlsec1_signs(examples: Path, pki: TestPki, tmp_path: Path) -> None:
    template = tmp_path / "template.xml"
    template.write_bytes((examples / REFERRAL).read_bytes().replace(
        b"<CHUKYDONVI></CHUKYDONVI>", b"<CHUKYDONVI>" + TEMPLATE + b"</CHUKYDONVI>"))
    signed = tmp_path / "xmlsec-signed.xml"
    done = subprocess.run([require_tool("xmlsec1"), "--sign", "--privkey-pem", f"{pki.clinic_key},{pki.clinic_cert}",
                           "--output", str(signed), str(template)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    r = runner.invoke(build_app(), ["verify", str(signed), "--ca-bundle", pki.ca_cert])
    assert r.exit_code == 0, r.output
    assert "signature valid" in r.output and "chain trusted" in r.output
    (tmp_path / "t.xml").write_bytes(flip_one_byte(signed.read_bytes()))
    r = runner.invoke(build_app(), ["verify", str(tmp_path / "t.xml")])
    assert r.exit_code == 1 and "changed after signing" in r.output and "125" in r.output


def test_xmlsec1_verifies_both_checkup_signatures(examples: Path, clinic: FileSigner, doctor: FileSigner,
                                                  pki: TestPki, tmp_path: Path) -> None:
    """The XML-DSig form (--checkup-form xmldsig): each slot's Signature verifies in xmlsec1."""
    data = sign_document((examples / "checkup_adult_2062.xml").read_bytes(), doctor, role="doctor",
                         checkup_form="xmldsig")
    path = tmp_path / "ksk.xml"
    path.write_bytes(sign_document(data, clinic, role="facility"))
    for slot in ("CKS_NGUOI_KET_LUAN", "CKS_BENH_VIEN"):
        done = xmlsec_verify(path, pki.ca_cert, slot)
        assert done.returncode == 0, f"{slot}: {done.stderr}"
    tampered = tmp_path / "ksk-tampered.xml"
    tampered.write_bytes(flip_one_byte(path.read_bytes()))
    for slot in ("CKS_NGUOI_KET_LUAN", "CKS_BENH_VIEN"):
        assert xmlsec_verify(tampered, pki.ca_cert, slot).returncode != 0


def test_openssl_verifies_the_base64_checkup_signatures_on_the_exact_bytes(
        examples: Path, clinic: FileSigner, doctor: FileSigner, pki: TestPki, tmp_path: Path) -> None:
    """The default base64 form, checked without sohs: the slots are emptied as README says (the doctor
    signed with both empty, the facility with the doctor's in place), xmllint writes the C14N bytes,
    openssl checks the CMS signature from the slot on them."""
    import base64
    import re

    signed = sign_document(sign_document((examples / "checkup_adult_2062.xml").read_bytes(), doctor, role="doctor"),
                           clinic, role="facility")
    value = {n: re.search(rb"<" + n + rb">([^<]*)</" + n + rb">", signed).group(1)  # type: ignore[union-attr]
             for n in (b"CKS_NGUOI_KET_LUAN", b"CKS_BENH_VIEN")}

    def peer_verifies(name: bytes, document: bytes, emptied: tuple[bytes, ...]) -> bool:
        for slot in emptied:
            document = document.replace(b"<" + slot + b">" + value[slot] + b"</" + slot + b">",
                                        b"<" + slot + b"></" + slot + b">")
        (tmp_path / "doc.xml").write_bytes(document)
        c14n = subprocess.run([require_tool("xmllint"), "--c14n", str(tmp_path / "doc.xml")], capture_output=True,
                              timeout=60, check=True).stdout
        (tmp_path / "content.bin").write_bytes(c14n)
        (tmp_path / "sig.der").write_bytes(base64.b64decode(value[name]))
        done = subprocess.run([require_tool("openssl"), "cms", "-verify", "-inform", "DER", "-in",
                               str(tmp_path / "sig.der"), "-content", str(tmp_path / "content.bin"), "-binary",
                               "-CAfile", pki.ca_cert, "-purpose", "any", "-out", str(tmp_path / "out.bin")],
                              capture_output=True, text=True, timeout=60)
        return done.returncode == 0

    doctor_slot, facility_slot = b"CKS_NGUOI_KET_LUAN", b"CKS_BENH_VIEN"
    assert peer_verifies(doctor_slot, signed, (doctor_slot, facility_slot))
    assert peer_verifies(facility_slot, signed, (facility_slot,))
    assert not peer_verifies(facility_slot, signed, (doctor_slot, facility_slot))  # it covers the doctor's
    assert not peer_verifies(doctor_slot, flip_one_byte(signed), (doctor_slot, facility_slot))


def test_signxml_verifies_what_sohs_signs(examples: Path, clinic: FileSigner, pki: TestPki) -> None:
    from signxml import XMLVerifier  # type: ignore[import-untyped]

    signed = sign_document((examples / REFERRAL).read_bytes(), clinic)
    verifier = XMLVerifier()
    # signxml canonicalises SignedInfo with etree.tostring(node, method="c14n"), which under
    # lxml 6.1 / libxml2 2.14 writes xmlns="" two levels below the apex (see sohs_cli.signing.dsig.c14n);
    # this signxml switch removes exactly those declarations, as xmlsec1 and the portal see it.
    verifier.excise_empty_xmlns_declarations = True
    result = verifier.verify(signed, ca_pem_file=pki.ca_cert)
    assert result.signed_xml is not None and result.signed_xml.tag == "GIAMDINHHS"
    with pytest.raises(Exception, match=r"(?i)digest"):
        verifier.verify(flip_one_byte(signed), ca_pem_file=pki.ca_cert)


def test_certificates_made_by_openssl_work(examples: Path, tmp_path: Path) -> None:
    openssl = require_tool("openssl")

    def run(*args: str) -> None:
        done = subprocess.run([openssl, *args], capture_output=True, text=True, timeout=120, cwd=tmp_path)
        assert done.returncode == 0, done.stderr

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "30",
        "-subj", "/C=VN/O=openssl TEST CA/CN=openssl TEST CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "clinic.key", "-out", "clinic.csr",
        "-subj", "/C=VN/ST=Ha Noi/CN=TEST Phong kham 01001/UID=MST:0100000000")
    (tmp_path / "ext.cnf").write_text("keyUsage=critical,digitalSignature,nonRepudiation\nbasicConstraints=CA:FALSE\n")
    run("x509", "-req", "-in", "clinic.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "clinic.pem", "-days", "10", "-extfile", "ext.cnf")
    run("pkcs12", "-export", "-inkey", "clinic.key", "-in", "clinic.pem", "-certfile", "ca.pem",
        "-out", "clinic.p12", "-passout", "pass:openssl-secret")
    (tmp_path / "pw").write_text("openssl-secret\n")
    km = load_key_material(p12=str(tmp_path / "clinic.p12"), password=SecretSource("p", "UNSET", str(tmp_path / "pw")))
    signed = tmp_path / "signed.xml"
    signed.write_bytes(sign_document((examples / REFERRAL).read_bytes(), FileSigner(km)))
    assert xmlsec_verify(signed, str(tmp_path / "ca.pem")).returncode == 0
    r = runner.invoke(build_app(), ["verify", str(signed), "--ca-bundle", str(tmp_path / "ca.pem")])
    assert r.exit_code == 0, r.output


def test_xmlsec1_verifies_an_export_signed_without_chukydonvi(examples: Path, pki: TestPki, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 14: an export without <CHUKYDONVI/> is signed (the slot added, and said so) and xmlsec1
    verifies the result."""
    export = tmp_path / "export.xml"
    export.write_bytes((examples / REFERRAL).read_bytes().replace(b"<CHUKYDONVI></CHUKYDONVI>", b""))
    monkeypatch.setenv("SOHS_P12_PASSWORD", Path(pki.password_file).read_text().strip())
    out = tmp_path / "signed.xml"
    r = runner.invoke(build_app(), ["sign", str(export), "-o", str(out), "--p12", pki.clinic_p12])
    assert r.exit_code == 0, r.output
    assert "added the missing <CHUKYDONVI>" in r.output
    ok = xmlsec_verify(out, pki.ca_cert)
    assert ok.returncode == 0, ok.stderr
