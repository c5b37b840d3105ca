"""Issue 15: a "valid" verdict means trusted. Every verdict names its trust source; the signer policy
is the same in sign, verify and the simulated portal; chains are built by cryptography's verifier
under a written policy and fail with a reason in words."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from sohs_cli.foundation.errors import CertificateError
from sohs_cli.mockportal.accounts import Account, md5_upper
from sohs_cli.mockportal.app import Portal, PortalConfig
from sohs_cli.signing.certs import KeyMaterial, check_certificate
from sohs_cli.signing.sign import FileSigner, sign_document
from sohs_cli.signing.testpki import TestPki, make_certificate, new_key
from sohs_cli.signing.trust import Trust, chain_to
from sohs_cli.signing.verification import verify_bytes
from tests.portal_helpers import FACILITY, PASSWORD, USER, envelope, submit_once

NOW = dt.datetime.now(dt.UTC)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _ca(cn: str, **kw: object) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    key = new_key()
    return make_certificate(_name(cn), key, ca=True, **kw), key  # type: ignore[arg-type]


def _codes(data: bytes, trust: Trust) -> list[str]:
    return [s.code for s in verify_bytes(data, "f.xml", trust=trust).signatures]


def test_anyones_self_signed_key_is_integrity_only_never_ok(clinic: FileSigner, pki: TestPki) -> None:
    key = new_key()
    impostor = FileSigner(KeyMaterial(key, make_certificate(clinic.certificate.subject, key)))
    forged = sign_document(envelope("LK202511009101"), impostor)
    report = verify_bytes(forged, "f.xml", trust=Trust.none())
    assert not report.valid  # "OK … chain not checked" and exit 0 before issue 15
    slot = report.signatures[0]
    assert slot.code == "integrity-only" and slot.trust == "integrity only" and "integrity only" in slot.message_en
    accepted = verify_bytes(forged, "f.xml", trust=Trust.none(integrity_only=True))
    assert accepted.valid and accepted.signatures[0].code == "integrity-only"  # said, not hidden
    ca = Trust.of_ca_bundle(pki.ca_cert)
    untrusted = verify_bytes(forged, "f.xml", trust=ca).signatures[0]
    assert untrusted.code == "untrusted" and "self-signed" in untrusted.message_en
    genuine = verify_bytes(sign_document(envelope("LK202511009101"), clinic), "f.xml", trust=ca).signatures[0]
    assert genuine.ok and genuine.trust == f"CA bundle {pki.ca_cert}" and pki.ca_cert in genuine.message_en
    pinned = Trust.of_files([pki.clinic_cert])
    assert _codes(sign_document(envelope("LK202511009101"), clinic), pinned) == ["ok"]
    assert _codes(forged, pinned) == ["untrusted"]


@pytest.mark.parametrize(("usage", "bits"), [("key_encipherment", 2048), ("key_cert_sign", 2048),
                                              ("digital_signature", 1024)])
def test_the_signer_policy_of_sign_holds_in_verify_and_in_the_portal(
        tmp_path: Path, usage: str, bits: int) -> None:
    ca, ca_key = _ca("TEST policy CA")
    key = new_key(bits)
    flags = dict.fromkeys(("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
                           "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only"), False)
    flags[usage] = True
    cert = (x509.CertificateBuilder().subject_name(_name("TEST weak signer")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW - dt.timedelta(days=1)).not_valid_after(NOW + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(**flags), critical=True).sign(ca_key, hashes.SHA256()))
    with pytest.raises(CertificateError):  # sign refuses it …
        check_certificate(cert)
    signed = sign_document(envelope("LK202511009102"), FileSigner(KeyMaterial(key, cert)))
    for trust in (Trust.of_certificates([ca], "CA"), Trust.of_certificates([cert], "pinned")):
        assert _codes(signed, trust) == ["cert-policy"]  # … so verify does, whatever the trust source
    account = Account(USER, md5_upper(PASSWORD), FACILITY, (cert,))
    portal = Portal(PortalConfig(data_dir=str(tmp_path / "data"), accounts={account.username: account}))

    assert submit_once(portal, signed)["maKetQua"] == "125"  # … and the portal, even for a registered certificate


def _leaf(issuer: x509.Certificate, issuer_key: rsa.RSAPrivateKey) -> x509.Certificate:
    return make_certificate(_name("TEST signer"), new_key(), issuer=issuer.subject, issuer_key=issuer_key)


def test_a_chain_is_built_by_policy_and_fails_in_words() -> None:
    root, root_key = _ca("TEST root")  # path length 0: no CA may sit below it
    leaf = _leaf(root, root_key)
    assert chain_to(leaf, [], [root]) == (True, "")
    sub_key = new_key()
    sub = make_certificate(_name("TEST sub"), sub_key, issuer=root.subject, issuer_key=root_key, ca=True)
    ok, why = chain_to(_leaf(sub, sub_key), [sub], [root])
    assert not ok and "path length" in why
    not_ca_key = new_key()
    not_ca = make_certificate(_name("TEST not a CA"), not_ca_key)  # a plain signing certificate
    ok, why = chain_to(_leaf(not_ca, not_ca_key), [], [not_ca])
    assert not ok and "cA must be asserted" in why
    old, old_key = _ca("TEST expired root", not_before=NOW - dt.timedelta(days=100), days=10)
    ok, why = chain_to(_leaf(old, old_key), [], [old])
    assert not ok and "not valid" in why
    strange = (x509.CertificateBuilder().subject_name(_name("TEST odd")).issuer_name(root.subject)
               .public_key(new_key().public_key()).serial_number(7)
               .not_valid_before(NOW - dt.timedelta(days=1)).not_valid_after(NOW + dt.timedelta(days=9))
               .add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.99999.1"), b"\x05\x00"),
                              critical=True).sign(root_key, hashes.SHA256()))
    ok, why = chain_to(strange, [], [root])
    assert not ok and "critical" in why
    other, _ = _ca("TEST other root")
    ok, why = chain_to(leaf, [], [other])
    assert not ok and why == "issuer 'CN=TEST root' is not in the CA bundle"
