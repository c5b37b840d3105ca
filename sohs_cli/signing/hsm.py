"""Signing with a key on a USB token or an HSM, through PKCS#11 (python-pkcs11, the ``pkcs11`` extra).

Most clinics hold their key on a token from a licensed CA (VNPT-CA, Viettel-CA, FPT-CA, BKAV-CA …).
The private key never leaves it: SHA-256 is computed here, wrapped in a DigestInfo, and only the
RSA operation (``CKM_RSA_PKCS``) runs on the token, so the signature is the same RSA-SHA256
PKCS#1 v1.5 as with a key in a file, and the XML-DSig profile is unchanged.

A wrong PIN is never tried again: tokens lock after a few wrong PINs, and a locked token needs the
CA's help. One session serves a whole batch; signing is serialised on it (PKCS#11 sessions run one
operation at a time), and a token cannot be shared with forked workers (``--jobs`` is 1 with a token).
python-pkcs11 errors become ConfigError / CredentialError / CertificateError here only.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from sohs_cli.foundation.credentials import SecretSource
from sohs_cli.foundation.errors import CertificateError, ConfigError, CredentialError, InputError
from sohs_cli.foundation.fileio import read_file
from sohs_cli.foundation.i18n import _
from sohs_cli.signing.certs import load_certificates

#: DER prefix of a DigestInfo for SHA-256 (RFC 8017 §9.2, note 1)
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
PIN_ENV = "SOHS_PKCS11_PIN"


@dataclass(frozen=True)
class TokenRef:
    module: str
    token_label: str = ""  # empty: the only token present
    key_label: str = ""
    key_id: str = ""  # hex


def _pkcs11() -> Any:
    """python-pkcs11, or the one line saying how to install it: every entry point of this module
    calls it before its first ``from pkcs11 import`` (one of those ran first and exited 70)."""
    try:
        import pkcs11
    except ImportError:
        raise ConfigError(_("PKCS#11 support is not installed (python-pkcs11)"),
                          hint="pip install 'sohs-cli[pkcs11]'") from None
    return pkcs11


def _lib(module: str) -> Any:
    pkcs11 = _pkcs11()
    try:
        return pkcs11.lib(module)
    except Exception as exc:  # python-pkcs11 raises its own errors for a bad or missing module
        raise ConfigError(_("--pkcs11-module {module}: cannot be loaded ({reason})", module=module, reason=exc),
                          hint=_("give the token vendor's PKCS#11 library (.so), e.g. "
                                 "/usr/lib/softhsm/libsofthsm2.so")) from None


def _token(lib: Any, label: str) -> Any:
    tokens = [t for t in lib.get_tokens() if getattr(t, "label", "")]
    labels = ", ".join(repr(t.label) for t in tokens) or _("none")
    chosen = [t for t in tokens if t.label == label] if label else tokens
    if len(chosen) != 1:
        what = _("token {label} is not present", label=repr(label)) if label else \
            _("{n} tokens are present", n=len(chosen))
        raise ConfigError(_("{what} (tokens: {labels})", what=what, labels=labels),
                          hint=_("plug the token in, or choose one with --token-label"))
    return chosen[0]


def _open(token: Any, pin: SecretSource) -> Any:
    import pkcs11.exceptions as errors

    secret = pin.configured()
    if secret is None:
        secret = pin.ask(_("PIN for token {label}: ", label=token.label))
    try:
        return token.open(user_pin=secret.decode("utf-8"))
    except errors.UserAlreadyLoggedIn:  # login is per application: another session of ours is open
        return token.open()
    except errors.PinIncorrect:
        raise CredentialError(_("wrong PIN for token {label}; not tried again: the token locks after a few wrong "
                                "PINs", label=repr(token.label)),
                              hint=_("check the PIN ({where})", where=pin.describe())) from None
    except errors.PinLocked:
        raise CredentialError(_("token {label} is locked", label=repr(token.label)),
                              hint=_("unlock it with the CA's tool (SO PIN)")) from None


def _certificate(obj: Any) -> x509.Certificate:
    from pkcs11 import Attribute

    return x509.load_der_x509_certificate(obj[Attribute.VALUE])


class Pkcs11Signer:
    """A :class:`sohs_cli.signing.sign.Signer` whose RSA operation runs on a PKCS#11 token."""

    def __init__(self, ref: TokenRef, pin: SecretSource, cert_path: str | None = None) -> None:
        _pkcs11()
        from pkcs11 import Attribute, KeyType, ObjectClass

        self._lock = threading.Lock()
        token = _token(_lib(ref.module), ref.token_label)
        self._session = _open(token, pin)
        query: dict[Any, Any] = {Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.KEY_TYPE: KeyType.RSA}
        if ref.key_label:
            query[Attribute.LABEL] = ref.key_label
        if ref.key_id:
            query[Attribute.ID] = bytes.fromhex(ref.key_id)
        keys = list(self._session.get_objects(query))
        if len(keys) != 1:
            self.close()
            what = _("no RSA private key") if not keys else _("{n} RSA private keys", n=len(keys))
            raise ConfigError(_("{what} on token {label} match", what=what, label=repr(token.label)),
                              hint=_("choose the key with --key-label or --key-id; sohs cert show --pkcs11-module "
                                     "lists them"))
        self._key = keys[0]
        self._cert = self._find_certificate(cert_path)
        modulus = int.from_bytes(self._key[Attribute.MODULUS], "big")
        public = self._cert.public_key()
        if not isinstance(public, rsa.RSAPublicKey) or public.public_numbers().n != modulus:
            self.close()
            raise CertificateError(_("the key on token {label} does not belong to certificate '{subject}'",
                                     label=repr(token.label), subject=self._cert.subject.rfc4514_string()),
                                   hint=_("give the certificate issued for this key, or pick the key with --key-id"))

    def _find_certificate(self, cert_path: str | None) -> x509.Certificate:
        from pkcs11 import Attribute, ObjectClass

        key_id = self._key[Attribute.ID]
        on_token = [_certificate(c) for c in self._session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE,
                                                                         Attribute.ID: key_id})] if key_id else []
        if on_token:
            return on_token[0]
        if cert_path:
            try:
                return load_certificates(read_file(cert_path), cert_path)[0]
            except InputError as exc:
                raise CertificateError(exc.message) from None
        self.close()
        raise ConfigError(_("the token holds no certificate for the key"),
                          hint=_("give the certificate with --cert"))

    @property
    def certificate(self) -> x509.Certificate:
        return self._cert

    @property
    def chain(self) -> list[x509.Certificate]:
        return []

    def sign(self, data: bytes) -> bytes:
        from pkcs11 import Mechanism

        digest_info = SHA256_DIGEST_INFO + hashlib.sha256(data).digest()
        with self._lock:
            signature: bytes = self._key.sign(digest_info, mechanism=Mechanism.RSA_PKCS)
        return signature

    def close(self) -> None:
        session, self._session = getattr(self, "_session", None), None
        if session is not None:
            session.close()

    def __repr__(self) -> str:
        return "Pkcs11Signer(…)"


def describe_token(ref: TokenRef, pin: SecretSource | None) -> tuple[str, list[dict[str, str]]]:
    """The token's label and its objects (keys with the PIN; certificates and public keys without)."""
    _pkcs11()
    from pkcs11 import Attribute, ObjectClass

    token = _token(_lib(ref.module), ref.token_label)
    session = _open(token, pin) if pin is not None and pin.configured() is not None else token.open()
    rows: list[dict[str, str]] = []
    try:
        for cls, kind in ((ObjectClass.PRIVATE_KEY, "private key"), (ObjectClass.PUBLIC_KEY, "public key"),
                          (ObjectClass.CERTIFICATE, "certificate")):
            for obj in session.get_objects({Attribute.CLASS: cls}):
                row = {"kind": kind, "label": str(obj[Attribute.LABEL] or ""), "id": bytes(obj[Attribute.ID]).hex()}
                if cls == ObjectClass.CERTIFICATE:
                    cert = _certificate(obj)
                    row["subject"] = cert.subject.rfc4514_string()
                    row["valid"] = f"{cert.not_valid_before_utc:%Y-%m-%d} – {cert.not_valid_after_utc:%Y-%m-%d}"
                else:
                    row["bits"] = str(len(obj[Attribute.MODULUS]) * 8)
                rows.append(row)
    finally:
        session.close()
    return token.label, rows
