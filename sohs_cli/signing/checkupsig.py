"""The two signatures of a checkup record (``KHAMSUCKHOE``, QĐ 2062/QĐ-BYT), bound to their slot and role.

``CHUKYDONVI/CKS_NGUOI_KET_LUAN`` holds the concluding doctor's signature, ``CHUKYDONVI/CKS_BENH_VIEN``
the facility's. The order is fixed and the facility's signature **covers the doctor's**:

* the doctor signs the document with **both slots empty**;
* the facility signs the document with **the doctor's signature in place** and its own slot empty.

So a signature verifies only in the slot it was made for: the doctor's copied into ``CKS_BENH_VIEN``
was made over a document whose doctor slot was empty, not over one holding a doctor's signature; two
signatures swapped between the slots fail both. A record signed twice by one certificate is refused.

Two inner forms (the decision's example shows base64 text in both slots and leaves the form open):

* ``base64`` (default, as the example prints it): the slot's text is the base64 of a detached CMS
  SignedData (:mod:`sohs_cli.signing.cms`: SHA-256, RSA, the signer's certificate inside) over the inclusive
  C14N 1.0 (no comments) of the whole document with the slot(s) emptied as above. Any CMS verifier
  checks it on those bytes (``xmllint --c14n`` then ``openssl cms -verify -binary``).
* ``xmldsig``: an XML-DSig ``Signature`` element in the slot (the profile of :mod:`sohs_cli.signing.dsig`); the
  doctor's Reference subtracts the signatures of both slots, the facility's only its own, which is
  the same binding.

Both slots of one record use one form.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

from cryptography import x509
from lxml import etree

from sohs_cli.foundation.i18n import N_, _
from sohs_cli.foundation.xmlsafe import ParseLimits, parse_bytes
from sohs_cli.signing import dsig
from sohs_cli.signing.cms import CmsError, sign_detached, verify_detached

DOCTOR, FACILITY = dsig.CHECKUP_SLOTS["doctor"], dsig.CHECKUP_SLOTS["facility"]
FORMS = ("base64", "xmldsig")


def slot_text(container: etree._Element | None) -> str:
    """The base64 text of a slot ('' when it holds none or holds elements)."""
    if container is None or len(container):
        return ""
    return "".join((container.text or "").split())


def unsigned(root: etree._Element, name: str) -> bool:
    """Whether slot ``name`` holds nothing (no text, no element)."""
    container = root.find(f"CHUKYDONVI/{name}")
    return container is None or not (len(container) or (container.text or "").strip())


def form_of(root: etree._Element) -> str:
    """``base64``, ``xmldsig``, ``mixed`` or ``""`` (nothing signed yet) for a checkup record."""
    forms = set()
    for name in (DOCTOR, FACILITY):
        container = root.find(f"CHUKYDONVI/{name}")
        if container is None:
            continue
        if slot_text(container):
            forms.add("base64")
        if any(c.tag == dsig.SIGNATURE for c in container):
            forms.add("xmldsig")
    return "mixed" if len(forms) > 1 else next(iter(forms), "")


def emptied(name: str) -> tuple[str, ...]:
    """The slots that are empty when ``name``'s signer signs."""
    return (DOCTOR, FACILITY) if name == DOCTOR else (FACILITY,)


def signed_content(data: bytes, name: str, limits: ParseLimits | None = None) -> bytes:
    """The exact bytes the signer of slot ``name`` signed in the base64 form."""
    root = parse_bytes(data, source=_("checkup record"), limits=limits)
    for slot in emptied(name):
        container = root.find(f"CHUKYDONVI/{slot}")
        if container is not None:
            for child in list(container):
                container.remove(child)
            container.text = None
    canonical: bytes = etree.tostring(root.getroottree(), method="c14n", exclusive=False, with_comments=False)
    return canonical


def verify_text(data: bytes, name: str, text: str,
                limits: ParseLimits | None = None) -> tuple[x509.Certificate, list[x509.Certificate]]:
    """``(signer, other certificates)`` of the base64 signature ``text`` in slot ``name``; CmsError if not valid."""
    try:
        der = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise CmsError("profile", N_("{slot} holds text that is not base64"),
                       slot=f"{name} ({dsig.SLOT_LABELS[name]})") from None
    try:
        return verify_detached(der, signed_content(data, name, limits))
    except CmsError as exc:
        if exc.code == "changed" and name == FACILITY:
            raise CmsError("changed", N_("the document or the doctor's signature, CKS_NGUOI_KET_LUAN (Chữ ký số người "
                                         "kết luận), changed after the facility signed, or this signature was made "
                                         "for another slot")) \
                from None
        if exc.code == "changed":
            raise CmsError("changed", N_("the document changed after the doctor signed, or this signature was made "
                                         "for another slot")) from None
        raise


def sign_text(data: bytes, name: str, certificates: list[x509.Certificate], rsa_sign: Callable[[bytes], bytes],
              limits: ParseLimits | None = None) -> str:
    """The base64 text for slot ``name`` of ``data`` (whose slots are as :func:`emptied` wants them)."""
    return base64.b64encode(sign_detached(signed_content(data, name, limits), certificates, rsa_sign)).decode("ascii")
