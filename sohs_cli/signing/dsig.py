"""The XML-DSig profile the portal verifies, shared by the signer and the verifier.

Profile (DOMAIN.md §1.3, §5.7; SIGNDATA ``SignXml130``, PYSIGN): an enveloped signature over the
whole document (``Reference URI=""``), RSA-SHA256, SHA-256 digest, inclusive C14N 1.0 without
comments, ``Signature`` in the default xmldsig namespace (no ``ds:`` prefix) as the child of
``CHUKYDONVI``, ``KeyInfo/X509Data`` with ``X509SubjectName`` and ``X509Certificate``.

Where signatures live:

* BHXH documents (``GIAMDINHHS``, the check-in ``CHI_TIEU_TRANG_THAI_KCB``, ``CHI_TIEU_GIAM_DINH_YKHOA``):
  one signature, child of ``/ROOT/CHUKYDONVI``; transform: enveloped-signature, exactly as the portal.
* Checkup envelopes (``KHAMSUCKHOE``, QĐ 2062) in the XML-DSig form (``sohs sign --checkup-form
  xmldsig``; the default base64 form is :mod:`sohs_cli.signing.checkupsig`): the concluding doctor's signature
  in ``CHUKYDONVI/CKS_NGUOI_KET_LUAN``, then the facility's in ``CHUKYDONVI/CKS_BENH_VIEN``, which
  covers the doctor's. One XPath Filter 2.0 transform each: the doctor's subtracts the signatures of
  both slots (``/KHAMSUCKHOE/CHUKYDONVI/*/dsig:Signature``: the facility's comes later), the
  facility's only its own (``/KHAMSUCKHOE/CHUKYDONVI/CKS_BENH_VIEN/dsig:Signature``). A signature
  therefore verifies only in its own slot: the transforms are part of the slot's profile, and a
  signature moved to the other slot is refused (issue 13). The containers themselves stay signed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from lxml import etree

from sohs_cli.foundation.xmlsafe import parse_bytes

DS_NS = "http://www.w3.org/2000/09/xmldsig#"
XML_NS = "http://www.w3.org/XML/1998/namespace"
DSIG2_NS = "http://www.w3.org/2002/06/xmldsig-filter2"
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
XPATH2 = "http://www.w3.org/2002/06/xmldsig-filter2"
KSK_SUBTRACT = "/KHAMSUCKHOE/CHUKYDONVI/*/dsig:Signature"  # the doctor's: both slots' signatures
KSK_SUBTRACT_FACILITY = "/KHAMSUCKHOE/CHUKYDONVI/CKS_BENH_VIEN/dsig:Signature"  # the facility's: its own only

SIGNATURE = f"{{{DS_NS}}}Signature"

#: roots whose single signature goes into /ROOT/CHUKYDONVI (CV 3190, CV 1245 templates)
SINGLE_SIGNATURE_ROOTS = ("GIAMDINHHS", "CHI_TIEU_TRANG_THAI_KCB", "CHI_TIEU_GIAM_DINH_YKHOA")
CHECKUP_ROOT = "KHAMSUCKHOE"
#: checkup signer role -> slot inside CHUKYDONVI (QĐ 1551 PL01, HISNM KskSyncSigner)
CHECKUP_SLOTS = {"doctor": "CKS_NGUOI_KET_LUAN", "facility": "CKS_BENH_VIEN"}
SLOT_LABELS = {
    "CHUKYDONVI": "Chữ ký đơn vị",
    "CKS_NGUOI_KET_LUAN": "Chữ ký số người kết luận",
    "CKS_BENH_VIEN": "Chữ ký số bệnh viện",
}


@dataclass(frozen=True)
class Slot:
    """Where one signature of a document goes: the container path and the transforms it uses."""

    name: str  # CHUKYDONVI | CKS_NGUOI_KET_LUAN | CKS_BENH_VIEN
    path: str  # ElementPath from the root
    role: str  # facility | doctor

    @property
    def checkup(self) -> bool:
        return self.name != "CHUKYDONVI"

    @property
    def label(self) -> str:
        return f"{self.name} ({SLOT_LABELS[self.name]})"

    @property
    def transforms(self) -> tuple[tuple[str, str], ...]:
        """``(algorithm, XPath)`` pairs, in order; XPath empty for transforms without one."""
        if self.name == "CKS_BENH_VIEN":
            return ((XPATH2, KSK_SUBTRACT_FACILITY),)
        if self.checkup:
            return ((XPATH2, KSK_SUBTRACT),)
        return ((ENVELOPED, ""),)


def slots_for(root_tag: str) -> tuple[Slot, ...]:
    """The signature slots of a document kind; empty when the kind is not signed."""
    if root_tag in SINGLE_SIGNATURE_ROOTS:
        return (Slot("CHUKYDONVI", "CHUKYDONVI", "facility"),)
    if root_tag == CHECKUP_ROOT:
        return tuple(Slot(name, f"CHUKYDONVI/{name}", role) for role, name in CHECKUP_SLOTS.items())
    return ()


def slot_signatures(root: etree._Element, slot: Slot) -> list[etree._Element]:
    container = root.find(slot.path)
    return [] if container is None else [c for c in container if c.tag == SIGNATURE]


def _drop(el: etree._Element) -> None:
    """Remove an element but keep its tail text, as removing a node from an XPath node-set does."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def document_digest(root: etree._Element, slot: Slot, own: etree._Element | None = None) -> bytes:
    """SHA-256 of the document as the slot's transforms see it, then inclusive C14N 1.0.

    Mutates the tree (signatures are removed): call it last, or on a tree you own. For BHXH slots the
    enveloped-signature transform removes only ``own`` (the signature holding the Reference); for
    the doctor's slot every ``Signature`` in both slots is subtracted, for the facility's its own.
    """
    if slot.checkup:
        for s in slots_for(CHECKUP_ROOT):
            if slot.name == "CKS_BENH_VIEN" and s.name != slot.name:
                continue
            for sig in slot_signatures(root, s):
                _drop(sig)
    elif own is not None:
        _drop(own)
    # streamed into the hash: a 50 MB document is never a 50 MB canonical string as well (issue 15)
    sink = _Hashing()
    root.getroottree().write_c14n(sink, exclusive=False, with_comments=False)
    return sink.sha.digest()


class _Hashing:
    """A file-like sink that hashes what is written to it (``write_c14n`` writes in chunks)."""

    def __init__(self) -> None:
        self.sha = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        return len(data)


_XML_ATTRS = tuple(f"{{{XML_NS}}}{name}" for name in ("lang", "space", "base"))


def c14n(el: etree._Element) -> bytes:
    """Inclusive C14N 1.0 of an element in its context, as the apex of a document subset.

    The element is serialised (lxml writes every namespace in scope on it, and keeps each
    descendant's own declarations, used or not, such as ``xmlns:dsig`` on the XPath filter), parsed
    again as a document of its own, given the ``xml:*`` attributes it inherits (C14N 1.0 §2.4), and
    that whole document is canonicalised. Why not ``etree.tostring(el, method="c14n")``: with
    lxml 6.1 / libxml2 2.14 it drops the default namespace two levels below a non-root apex
    (``<Transforms xmlns="">`` inside ``SignedInfo``), which xmlsec1 and the portal do not;
    whole-document C14N is not affected. Copying the element into a new tree is no cure either: it
    drops namespace declarations that no element name uses.
    """
    # with_tail=False: the text after </SignedInfo> is no part of it (and would not parse on its own)
    apex = parse_bytes(etree.tostring(el, with_tail=False), source="SignedInfo")
    for ancestor in el.iterancestors():
        for name in _XML_ATTRS:
            value = ancestor.get(name)
            if value is not None and apex.get(name) is None:
                apex.set(name, value)
    canonical: bytes = etree.tostring(apex.getroottree(), method="c14n", exclusive=False, with_comments=False)
    return canonical


def xmlsec1_template(slot: Slot) -> bytes:
    """An empty ``Signature`` of the profile, for ``xmlsec1 --sign``. Put it in the slot and xmlsec1
    fills in the digest, the value and the certificate. The interop tests and the benchmark use it;
    so can a vendor who signs with xmlsec1."""
    transforms = "".join(
        f'<Transform Algorithm="{a}"><XPath xmlns="{DSIG2_NS}" xmlns:dsig="{DS_NS}" Filter="subtract">{x}</XPath>'
        "</Transform>" if x else f'<Transform Algorithm="{a}"/>' for a, x in slot.transforms)
    return (f'<Signature xmlns="{DS_NS}"><SignedInfo><CanonicalizationMethod Algorithm="{C14N}"/>'
            f'<SignatureMethod Algorithm="{RSA_SHA256}"/><Reference URI=""><Transforms>{transforms}</Transforms>'
            f'<DigestMethod Algorithm="{SHA256}"/><DigestValue/></Reference></SignedInfo><SignatureValue/>'
            "<KeyInfo><X509Data><X509SubjectName/><X509Certificate/></X509Data></KeyInfo></Signature>").encode()
