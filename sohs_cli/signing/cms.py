"""Detached CMS (PKCS#7) SignedData, RFC 5652, for the base64 signatures of checkup records (QĐ 2062).

One signer, SHA-256, RSA PKCS#1 v1.5, signed attributes ``contentType`` (``data``) and
``messageDigest``; the signer's certificate and its chain travel in ``certificates``, so any
verifier (``openssl cms -verify -binary -content FILE``) can check it on the signed bytes alone.
The signature is made by a :class:`sohs_cli.signing.sign.Signer` (a key file or a PKCS#11 token): only
the RSA operation happens there, the structure is built here with asn1crypto.

asn1crypto is wrapped here and nowhere else (STYLE.md principle 4): its errors become
:class:`CmsError`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from asn1crypto import algos, cms
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from sohs_cli.foundation.i18n import N_, translate
from sohs_cli.signing.certs import rsa_verify


class CmsError(Exception):
    """Not a signature of the profile, or one that does not verify; ``en``/``vi`` say why (a catalog
    message, ``N_("…")``, and its fields: a verdict carries both languages)."""

    def __init__(self, code: str, message: str, /, **fields: object) -> None:
        super().__init__(translate("en", message, **fields))
        self.code, self.message, self.fields = code, message, fields

    @property
    def en(self) -> str:
        return translate("en", self.message, **self.fields)

    @property
    def vi(self) -> str:
        return translate("vi", self.message, **self.fields)


def _attributes(content: bytes) -> cms.CMSAttributes:
    return cms.CMSAttributes([
        cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
        cms.CMSAttribute({"type": "message_digest", "values": [hashlib.sha256(content).digest()]}),
    ])


def sign_detached(content: bytes, certificates: Sequence[x509.Certificate],
                  rsa_sign: Callable[[bytes], bytes]) -> bytes:
    """DER of a detached SignedData over ``content``; ``certificates[0]`` is the signer's."""
    certs = [ax509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in certificates]
    signer = certs[0]
    attrs = _attributes(content)
    signature = rsa_sign(attrs.dump())  # over the DER of the SET OF attributes (RFC 5652 §5.4)
    info = cms.SignerInfo({
        "version": "v1",
        "sid": cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber(
            {"issuer": signer.issuer, "serial_number": signer.serial_number})}),
        "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
        "signed_attrs": attrs,
        "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "rsassa_pkcs1v15"}),
        "signature": signature,
    })
    signed = cms.SignedData({
        "version": "v1",
        "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
        "encap_content_info": {"content_type": "data"},
        "certificates": certs,
        "signer_infos": [info],
    })
    der: bytes = cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump()
    return der


def verify_detached(der: bytes, content: bytes) -> tuple[x509.Certificate, list[x509.Certificate]]:
    """``(signer, other certificates)`` when ``der`` is a valid signature of ``content``; else CmsError."""
    try:
        info = cms.ContentInfo.load(der, strict=True)
        if info["content_type"].native != "signed_data":
            raise CmsError("profile", N_("not a CMS SignedData"))
        signed = info["content"]
        if signed["encap_content_info"]["content"].native is not None:
            raise CmsError("profile", N_("the CMS signature embeds content; the profile signs detached"))
        infos = list(signed["signer_infos"])
        if len(infos) != 1:
            raise CmsError("profile", N_("{count} signers in one slot; the profile has exactly one"), count=len(infos))
        signer_info = infos[0]
        certs = [x509.load_der_x509_certificate(c.chosen.dump()) for c in signed["certificates"] or []]
        sid = signer_info["sid"].chosen
        if not isinstance(sid, cms.IssuerAndSerialNumber):
            raise CmsError("profile", N_("the signer is not named by issuer and serial number"))
        serial = sid["serial_number"].native
        issuer = sid["issuer"].dump()
        signer = next((c for c in certs if c.serial_number == serial
                       and ax509.Certificate.load(c.public_bytes(serialization.Encoding.DER)).issuer.dump() == issuer),
                      None)
        if signer is None:
            raise CmsError("profile", N_("the signer's certificate is not in the signature"))
        if signer_info["digest_algorithm"]["algorithm"].native != "sha256":
            raise CmsError("profile", N_("the digest is not SHA-256"))
        if signer_info["signature_algorithm"]["algorithm"].native not in ("rsassa_pkcs1v15", "sha256_rsa"):
            raise CmsError("profile", N_("the signature is not RSA PKCS#1 v1.5"))
        attrs = signer_info["signed_attrs"]
        if not len(attrs):
            raise CmsError("profile", N_("the signature has no signed attributes"))
        found = {a["type"].native: a["values"].native for a in attrs}
        if found.get("content_type") != ["data"]:
            raise CmsError("profile", N_("the signed content type is not data"))
        if found.get("message_digest") != [hashlib.sha256(content).digest()]:
            raise CmsError("changed", N_("the document was changed after signing"))
        signed_bytes = b"\x31" + attrs.dump()[1:]  # [0] IMPLICIT back to SET OF (RFC 5652 §5.4)
        value = signer_info["signature"].native
    except CmsError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise CmsError("bad-signature", N_("the base64 signature is not a CMS SignedData ({reason})"),
                       reason=type(exc).__name__) from None
    if not rsa_verify(signer, value, signed_bytes):
        raise CmsError("bad-signature", N_("the signature value does not verify with its certificate"))
    return signer, [c for c in certs if c is not signer]
