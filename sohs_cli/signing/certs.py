"""Certificates and keys: loading PKCS#12, PEM and DER, the checks before signing, and descriptions.

The portal verifies against the certificate registered for the facility (Danh mục chứng thư số,
DOMAIN.md §5.7), so a signature made with an expired, not-yet-valid, weak or mismatched certificate
is refused here, before anything is written. cryptography errors become :class:`CredentialError` or
:class:`CertificateError` in this module only (STYLE.md principle 4).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from sohs_cli.foundation.credentials import SecretSource
from sohs_cli.foundation.errors import CertificateError, CredentialError, InputError
from sohs_cli.foundation.fileio import read_file
from sohs_cli.foundation.i18n import _

MIN_RSA_BITS = 2048
DEFAULT_EXPIRY_WARNING_DAYS = 30


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class CertInfo:
    subject: str
    issuer: str
    serial: str
    not_before: dt.datetime
    not_after: dt.datetime
    days_left: int
    key: str
    key_usage: list[str]
    fingerprint_sha256: str
    is_ca: bool

    def as_dict(self) -> dict[str, Any]:
        return {"subject": self.subject, "issuer": self.issuer, "serial": self.serial,
                "not_before": self.not_before.isoformat(), "not_after": self.not_after.isoformat(),
                "days_left": self.days_left, "key": self.key, "key_usage": self.key_usage,
                "sha256": self.fingerprint_sha256, "ca": self.is_ca}


_USAGES = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
           "key_agreement", "key_cert_sign", "crl_sign")


def key_usage(cert: x509.Certificate) -> list[str] | None:
    """The key usages named, or None when the certificate has no KeyUsage extension."""
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None
    return [name for name in _USAGES if getattr(ku, name)]


def is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def describe(cert: x509.Certificate, at: dt.datetime | None = None) -> CertInfo:
    static = _describe(cert)
    return dataclasses.replace(static, days_left=(cert.not_valid_after_utc - (at or now())).days)


@functools.lru_cache(maxsize=64)
def _describe(cert: x509.Certificate) -> CertInfo:
    """What does not change with time; a batch verifies thousands of files signed by one certificate."""
    at = now()
    pub = cert.public_key()
    key = f"RSA {pub.key_size}" if isinstance(pub, rsa.RSAPublicKey) else type(pub).__name__.replace("_", "")
    fp = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()
    return CertInfo(
        subject=cert.subject.rfc4514_string(), issuer=cert.issuer.rfc4514_string(),
        serial=format(cert.serial_number, "X"), not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc, days_left=(cert.not_valid_after_utc - at).days,
        key=key, key_usage=key_usage(cert) or [], is_ca=is_ca(cert),
        fingerprint_sha256=":".join(fp[i:i + 2] for i in range(0, len(fp), 2)))


# ---------------------------------------------------------------- loading


def load_certificates(data: bytes, source: str) -> list[x509.Certificate]:
    """Every certificate in a PEM bundle, or the one in a DER file."""
    try:
        if b"-----BEGIN" in data:
            certs = x509.load_pem_x509_certificates(data)
        else:
            certs = [x509.load_der_x509_certificate(data)]
    except ValueError:
        raise CertificateError(_("{file}: not a PEM or DER certificate", file=source),
                               hint=_("give a .pem, .crt, .cer or .der certificate file")) from None
    if not certs:
        raise CertificateError(_("{file}: holds no certificate", file=source))
    return certs


def looks_like_pkcs12(data: bytes) -> bool:
    # PFX is a DER SEQUENCE whose first element is the INTEGER 3 (RFC 7292 §4)
    if len(data) < 8 or data[0] != 0x30:
        return False
    i = 2 + (data[1] & 0x7F if data[1] & 0x80 else 0)
    return data[i:i + 3] == b"\x02\x01\x03"


@dataclass
class KeyMaterial:
    """A private key with its certificate and the chain certificates that travel with it."""

    key: rsa.RSAPrivateKey = field(repr=False)
    cert: x509.Certificate
    chain: list[x509.Certificate] = field(default_factory=list)


def _open_pkcs12(data: bytes, source: str, password: SecretSource) -> tuple[Any, Any, list[x509.Certificate]]:
    if not looks_like_pkcs12(data):
        raise CredentialError(_("{file}: not a PKCS#12 (.p12/.pfx) file, or it is damaged", file=source),
                              hint=_("export the certificate with its private key again from the CA's tool"))
    secret = password.configured()
    tries = [secret] if secret is not None else [None, b""]
    for pw in tries:
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(data, pw)
            return key, cert, list(extra)
        except ValueError:
            continue
    if secret is None:  # encrypted and nothing configured: ask a person, once
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(data, password.ask(_("Password for {file}: ",
                                                                                       file=source)))
            return key, cert, list(extra)
        except ValueError:
            pass
    raise CredentialError(
        _("{file}: wrong password, or the PKCS#12 file is damaged", file=source),
        hint=_("check the {what} ({where})", what=password.what, where=password.describe()))


def _open_pem_key(data: bytes, source: str, password: SecretSource) -> Any:
    if b"ENCRYPTED" not in data:
        try:
            return serialization.load_pem_private_key(data, None)
        except (ValueError, TypeError):
            raise CredentialError(_("{file}: not a PEM private key", file=source)) from None
    secret = password.configured()
    if secret is None:
        secret = password.ask(_("Password for {file}: ", file=source))
    try:
        return serialization.load_pem_private_key(data, secret)
    except (ValueError, TypeError):
        raise CredentialError(_("{file}: wrong password, or not a PEM private key", file=source),
                              hint=_("check the {what} ({where})", what=password.what,
                                     where=password.describe())) from None


def load_key_material(*, p12: str | None = None, key: str | None = None, cert: str | None = None,
                      chain: list[str] | None = None, password: SecretSource) -> KeyMaterial:
    """Load the signing key and certificate from a PKCS#12 file or a PEM key + certificate."""
    extra: list[x509.Certificate] = []
    if p12:
        pkey, certificate, extra = _open_pkcs12(_read(p12), p12, password)
        if pkey is None or certificate is None:
            raise CredentialError(_("{file}: holds no private key with its certificate", file=p12),
                                  hint=_("export the PKCS#12 with the private key included"))
        source = p12
    elif key and cert:
        pkey = _open_pem_key(_read(key), key, password)
        certs = load_certificates(_read(cert), cert)
        certificate, extra = certs[0], certs[1:]
        source = key
    else:
        raise CredentialError(_("no signing key given"), hint=_("use --p12 FILE, or --key FILE --cert FILE"))
    for path in chain or []:
        extra += load_certificates(_read(path), path)
    if not isinstance(pkey, rsa.RSAPrivateKey):
        raise CertificateError(_("{file}: the key is not RSA; the portal profile is RSA-SHA256", file=source))
    return KeyMaterial(pkey, certificate, extra)


def load_private_key(path: str, password: SecretSource) -> rsa.RSAPrivateKey:
    """An RSA private key alone, from PEM (encrypted or not) or PKCS#12 (a certificate is optional):
    the checkup hub's message key (QĐ 2062 PL02 §4) is a bare key pair, not a certificate."""
    data = _read(path)
    pkey = _open_pkcs12(data, path, password)[0] if looks_like_pkcs12(data) else _open_pem_key(data, path, password)
    if not isinstance(pkey, rsa.RSAPrivateKey):
        raise CertificateError(_("{file}: the key is not RSA; the message checksum is RSA-SHA256", file=path))
    return pkey


def _read(path: str) -> bytes:
    try:
        return read_file(path)
    except InputError as exc:
        raise CredentialError(exc.message, hint=_("check the path")) from None


# ---------------------------------------------------------------- checks before signing


def check_signing_certificate(km: KeyMaterial, at: dt.datetime | None = None) -> CertInfo:
    """Refuse what the portal would refuse; return the description for warnings (expiry)."""
    info = check_certificate(km.cert, at)
    if km.cert.public_key().public_numbers() != km.key.public_key().public_numbers():  # type: ignore[union-attr]
        raise CertificateError(_("the private key does not belong to certificate '{subject}'", subject=info.subject),
                               hint=_("give the certificate issued for this key"))
    return info


def check_certificate(cert: x509.Certificate, at: dt.datetime | None = None) -> CertInfo:
    """The checks that need no private key: validity, RSA ≥ 2048, a signing key usage."""
    at = at or now()
    info = describe(cert, at)
    who = _("certificate '{subject}'", subject=info.subject)
    if at < cert.not_valid_before_utc:
        raise CertificateError(_("{who} is not valid until {date}", who=who, date=f"{info.not_before:%Y-%m-%d}"),
                               hint=_("check the system clock, or wait until the certificate is valid"))
    if at > cert.not_valid_after_utc:
        raise CertificateError(_("{who} expired on {date}", who=who, date=f"{info.not_after:%Y-%m-%d}"),
                               hint=_("renew it with the CA and register the new one on the portal"))
    problem = signer_problem(cert, who)
    if problem is not None:
        raise CertificateError(problem[0], hint=problem[1])
    return info


def signer_problem(cert: x509.Certificate, who: str | None = None) -> tuple[str, str] | None:
    if who is None:  # a batch verifies thousands of documents signed by one certificate
        return _signer_problem(cert)
    return _signer_problem_of(cert, who)


@functools.lru_cache(maxsize=64)
def _signer_problem(cert: x509.Certificate) -> tuple[str, str] | None:
    return _signer_problem_of(cert, None)


def _signer_problem_of(cert: x509.Certificate, who: str | None) -> tuple[str, str] | None:
    """Why ``cert`` may not sign a health record, with a hint, or None: the one signer policy of
    ``sign``, ``verify`` and the simulated portal (issue 15). RSA (the portal profile is
    RSA-SHA256) of at least ``MIN_RSA_BITS``, and a key usage naming digitalSignature or
    nonRepudiation (contentCommitment) when the certificate has one."""
    who = who or _("certificate '{subject}'", subject=cert.subject.rfc4514_string())
    pub = cert.public_key()
    if not isinstance(pub, rsa.RSAPublicKey):
        return (_("{who} has no RSA key; the portal profile is RSA-SHA256", who=who),
                _("ask the CA for an RSA signing certificate"))
    if pub.key_size < MIN_RSA_BITS:
        return (_("{who} has a {bits}-bit RSA key; at least {needed} bits are needed", who=who, bits=pub.key_size,
                  needed=MIN_RSA_BITS), _("ask the CA for a 2048-bit (or longer) certificate"))
    usages = key_usage(cert)
    if usages is not None and not {"digital_signature", "content_commitment"} & set(usages):
        return (_("{who} may not sign documents: key usage is {usages}", who=who,
                  usages=", ".join(usages) or _("empty")),
                _("use a signing certificate (digitalSignature or nonRepudiation)"))
    return None


def rsa_sign(key: rsa.RSAPrivateKey, data: bytes) -> bytes:
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def rsa_verify(cert: x509.Certificate, signature: bytes, data: bytes) -> bool:
    pub = cert.public_key()
    if not isinstance(pub, rsa.RSAPublicKey):
        return False
    return rsa_verify_key(pub, signature, data)


def rsa_verify_key(pub: rsa.RSAPublicKey, signature: bytes, data: bytes) -> bool:
    try:
        pub.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    except Exception:  # cryptography raises InvalidSignature, or ValueError on a malformed value
        return False
    return True


# ---------------------------------------------------------------- trust


def load_ca_bundle(path: str) -> list[x509.Certificate]:
    """A PEM bundle (or one DER certificate) of explicitly trusted CAs; unusable -> exit 3."""
    try:
        data = read_file(path)
    except InputError as exc:
        raise CertificateError(_("--ca-bundle: {reason}", reason=exc.message),
                               hint=_("give a readable PEM file of CA certificates")) from None
    certs = load_certificates(data, f"--ca-bundle {path}")
    return certs
