"""A throwaway TEST PKI for demos and tests: a CA, a clinic certificate and a doctor certificate, and a
TEST key pair standing in for the checkup hub's message key (issued by the Ministry in real life).

Every name says TEST, so nobody mistakes these for certificates from a licensed CA (VNPT-CA,
Viettel-CA …). The clinic subject follows what the portal shows for organisation certificates
(``C=VN, ST, L, CN, UID=MST:<tax code>``, DOMAIN.md §5.7).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from sohs_cli.foundation.fileio import atomic_write

PASSWORD_FILE = "p12-password.txt"


@dataclass(frozen=True)
class TestPki:
    __test__ = False  # not a pytest class

    directory: str
    ca_cert: str
    clinic_cert: str
    clinic_key: str
    clinic_p12: str
    doctor_cert: str
    doctor_key: str
    doctor_p12: str
    password_file: str
    hub_key: str = ""  # TEST stand-in for the checkup hub message key the Ministry issues (QĐ 2062 PL02 §4)
    hub_key_public: str = ""  # its public half, for the simulated hub's accounts file
    hub_own_key: str = ""  # TEST key the simulated hub signs its replies with (portal serve --hub-key)
    hub_own_key_public: str = ""  # its public half: the client's hub.reply_key

    def files(self) -> list[str]:
        return [self.ca_cert, self.clinic_cert, self.clinic_key, self.clinic_p12, self.doctor_cert,
                self.doctor_key, self.doctor_p12, self.password_file, self.hub_key, self.hub_key_public,
                self.hub_own_key, self.hub_own_key_public]


def _name(*parts: tuple[x509.ObjectIdentifier, str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in parts])


def make_certificate(subject: x509.Name, key: rsa.RSAPrivateKey | rsa.RSAPublicKey, *,
                     issuer: x509.Name | None = None, issuer_key: rsa.RSAPrivateKey | None = None, ca: bool = False,
                     not_before: dt.datetime | None = None, days: int = 365,
                     signing: bool = True) -> x509.Certificate:
    """One certificate; self-signed unless an issuer is given. Tests use it for odd cases too. ``key``
    may be a public key alone (a key that lives on a token), with an ``issuer_key`` to sign."""
    start = not_before or dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    signer = issuer_key or key
    if not isinstance(signer, rsa.RSAPrivateKey):
        raise ValueError("a certificate for a public key alone needs an issuer_key")
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer or subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
    )
    usage = dict(digital_signature=signing and not ca, content_commitment=signing and not ca,
                 key_encipherment=not signing, data_encipherment=False, key_agreement=False,
                 key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False)
    builder = builder.add_extension(x509.KeyUsage(**usage), critical=True)
    if not ca:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.EMAIL_PROTECTION]),
            critical=False)
    return builder.sign(signer, hashes.SHA256())


def new_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _pem_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _pem_key(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_test_pki(directory: str, *, password: bytes | None = None, facility: str = "01001",
                  days: int = 365) -> TestPki:
    """Write the TEST CA, clinic and doctor certificates (PEM, and PKCS#12 with a password).

    The PKCS#12 password is ``password`` when given, else a random one; either way it is written to
    ``p12-password.txt`` (mode 0600) for ``--password-file``, never printed.
    """
    os.makedirs(directory, exist_ok=True)
    pw = password if password is not None else secrets.token_urlsafe(18).encode()
    ca_key = new_key()
    ca_name = _name((NameOID.COUNTRY_NAME, "VN"), (NameOID.ORGANIZATION_NAME, "sohs TEST CA - not for production"),
                    (NameOID.COMMON_NAME, "sohs TEST Root CA"))
    ca = make_certificate(ca_name, ca_key, ca=True, days=days * 5)
    clinic_key, doctor_key = new_key(), new_key()
    clinic = make_certificate(
        _name((NameOID.COUNTRY_NAME, "VN"), (NameOID.STATE_OR_PROVINCE_NAME, "Hà Nội"),
              (NameOID.LOCALITY_NAME, "Ba Đình"), (NameOID.COMMON_NAME, f"TEST Phòng khám {facility}"),
              (NameOID.USER_ID, "MST:0100000000")),
        clinic_key, issuer=ca_name, issuer_key=ca_key, days=days)
    doctor = make_certificate(
        _name((NameOID.COUNTRY_NAME, "VN"), (NameOID.COMMON_NAME, "TEST BS. Nguyễn Văn An"),
              (NameOID.USER_ID, "CCCD:001090000001")),
        doctor_key, issuer=ca_name, issuer_key=ca_key, days=days)
    p = os.path.join
    pki = TestPki(directory, p(directory, "test-ca.pem"), p(directory, "clinic.pem"), p(directory, "clinic.key"),
                  p(directory, "clinic.p12"), p(directory, "doctor.pem"), p(directory, "doctor.key"),
                  p(directory, "doctor.p12"), p(directory, PASSWORD_FILE), p(directory, "hub-message-key.pem"),
                  p(directory, "hub-message-key.pub.pem"), p(directory, "hub-own-key.pem"),
                  p(directory, "hub-own-key.pub.pem"))
    enc = serialization.BestAvailableEncryption(pw)
    atomic_write(pki.ca_cert, _pem_cert(ca))
    for cert, key, cert_path, key_path, p12_path, label in (
            (clinic, clinic_key, pki.clinic_cert, pki.clinic_key, pki.clinic_p12, b"clinic"),
            (doctor, doctor_key, pki.doctor_cert, pki.doctor_key, pki.doctor_p12, b"doctor")):
        atomic_write(cert_path, _pem_cert(cert))
        atomic_write(key_path, _pem_key(key), mode=0o600)
        atomic_write(p12_path, pkcs12.serialize_key_and_certificates(label, key, cert, [ca], enc), mode=0o600)
    atomic_write(pki.password_file, pw + b"\n", mode=0o600)
    for private, public in ((pki.hub_key, pki.hub_key_public), (pki.hub_own_key, pki.hub_own_key_public)):
        key = new_key()
        atomic_write(private, _pem_key(key), mode=0o600)
        atomic_write(public, key.public_key().public_bytes(serialization.Encoding.PEM,
                                                           serialization.PublicFormat.SubjectPublicKeyInfo))
    return pki
