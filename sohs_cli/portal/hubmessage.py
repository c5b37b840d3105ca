"""The checkup hub's message checksum (QĐ 2062 PL02 §4; shared/spec/ksk/hub_api.md §5), defined once
for both sides: the client that signs a push and the simulated hub that verifies it.

* ``A = Uppercase(hex(SHA256(header)))``: the header's JSON text, with spaces and line breaks
  removed before hashing (``{}`` when there is no header);
* ``B = Uppercase(hex(SHA256(data)))``: the base64 text of ``data`` itself (not the decoded XML),
  whitespace and line breaks removed (a line-wrapped base64 is unwrapped first);
* ``C = A + "." + B``, signed RSASSA-PKCS1-v1_5 with SHA-256 ("RSASHA256") by the **message key**:
  the RSA key pair the Ministry of Health issues to the sending unit for this purpose ("Bộ Y Tế sẽ
  cung cấp 1 cặp khóa bí mật / khóa công khai cho đơn vị đồng bộ dữ liệu"). It is not the
  facility's CA certificate, which signs the XML (``CKS_*``).
* The signature is standard **base64**, case preserved. The decision's table reads
  ``Uppercase(RSASHA256(C))``, but its third bullet upper-cases "the values after the hash
  algorithms", and the sandbox exchange and both vendors send base64 (hub_api.md §5.2 step 7).

The decision fixes no key order or number format for the header, so the client serialises it once,
compactly, hashes that exact text and sends that exact text; the simulated hub re-serialises the
header it received compactly, keys in the order received.

**The hub's replies are signed too**: the Ministry hands the unit "khóa công khai của Trục dữ liệu
Bộ Y tế để đơn vị kiểm định bản tin Response" (PL02 §4), and a push reply carries ``signature``
("Chữ ký số dùng cho checksum (RSASHA256) giữa header và data tạo bởi bên nhận tin", PL02 §5.2 b 3).
The reply's ``data`` is an object (or ``null``), not base64, and the decision does not say how it is
hashed: sohs reads the recipe the same way, with ``data`` as its compact JSON text and ``{}`` when
it is null (as "nếu không có giá trị thì truyền vào {}" reads for the header) — :func:`reply_text`.
The login reply has no ``signature`` field (PL02 §5.1 b), so only push replies are verified.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sohs_cli.foundation.credentials import SecretSource
from sohs_cli.foundation.errors import ConfigError, CredentialError, InputError
from sohs_cli.foundation.fileio import read_file
from sohs_cli.foundation.i18n import _
from sohs_cli.signing.certs import rsa_sign, rsa_verify_key


def compact(header: dict[str, Any]) -> str:
    """The header's JSON text as sent and hashed: no spaces, no line breaks, keys in the given order."""
    return json.dumps(header, separators=(",", ":"), ensure_ascii=False)


def _unspaced(text: str) -> str:
    # "Trước khi hash thì loại bỏ khoảng trắng, xuống dòng" (PL02 §4)
    return "".join(text.split())


def signed_text(header_json: str, data: str) -> bytes:
    """``C = A + "." + B`` for a header (its JSON text) and the base64 ``data``."""
    a = hashlib.sha256(_unspaced(header_json or "{}").encode("utf-8")).hexdigest().upper()
    b = hashlib.sha256(_unspaced(data).encode("utf-8")).hexdigest().upper()
    return f"{a}.{b}".encode("ascii")


@dataclass(frozen=True)
class MessageKey:
    """The private half of the Ministry-issued message key (``hub.message_key``). Never in a repr."""

    source: str
    key: rsa.RSAPrivateKey = field(repr=False)

    def sign(self, header_json: str, data: str) -> str:
        return base64.b64encode(rsa_sign(self.key, signed_text(header_json, data))).decode("ascii")

    def public_pem(self) -> bytes:
        return self.key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo)


def reply_text(header: dict[str, Any], data: Any) -> tuple[str, str]:
    """What a reply's checksum covers: the header and ``data`` as compact JSON text (``{}`` for null)."""
    return compact(header), "{}" if data is None else json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def verify(public_key: rsa.RSAPublicKey, header_json: str, data: str, signature: str) -> bool:
    """Whether ``signature`` (base64) is the checksum of this header and data under ``public_key``."""
    try:
        raw = base64.b64decode(_unspaced(signature), validate=True)
    except (binascii.Error, ValueError):
        return False
    return rsa_verify_key(public_key, raw, signed_text(header_json, data))


def no_message_key() -> ConfigError:
    return ConfigError(_("checkup pushes need the message key the Ministry of Health issued to this facility"),
                       hint=_("set hub.message_key in sohs.toml (or SOHS_HUB_MESSAGE_KEY) to its PEM or PKCS#12 "
                              "file; it is not the facility's signing certificate"))


def load_message_key(path: str, password: SecretSource) -> MessageKey:
    """The issued key from a PEM private key (encrypted or not) or a PKCS#12 file (``hub.message_key``)."""
    from sohs_cli.signing.certs import load_private_key

    if not path:
        raise no_message_key()
    key = load_private_key(path, password)
    return MessageKey(path, key)


def load_public_key(path: str, setting: str = "") -> rsa.RSAPublicKey:
    """A public half: a PEM or DER public key, or a certificate holding it (the sender's message key for
    the simulated hub; the hub's reply key, ``hub.reply_key``, for the client). ``setting``: what names
    the file, for the hint (a message of the catalog, ``_()``)."""
    from cryptography import x509

    setting = setting or _("message_key in the accounts file names the sender's public key")
    try:
        data = read_file(path)
    except InputError as exc:
        raise ConfigError(exc.message, hint=setting) from None
    loaded: Any = None
    for load in (serialization.load_pem_public_key, serialization.load_der_public_key):
        try:
            loaded = load(data)
            break
        except (ValueError, TypeError):
            continue
    if loaded is None:
        for cert_load in (x509.load_pem_x509_certificate, x509.load_der_x509_certificate):
            try:
                loaded = cert_load(data).public_key()
                break
            except ValueError:
                continue
    if not isinstance(loaded, rsa.RSAPublicKey):
        raise CredentialError(_("{file}: not an RSA public key or certificate", file=path),
                              hint=_("{setting}, as PEM", setting=setting))
    return loaded
