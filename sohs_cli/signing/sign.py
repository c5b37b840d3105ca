"""Signing documents exactly as the portal verifies them (profile: :mod:`sohs_cli.signing.dsig`).

Why our own XML-DSig code rather than signxml: signxml re-serialises the tree it signs (the portal
answers 125 when anything changes after signing, DOMAIN.md §1.2), cannot express the two checkup
signatures that must each survive the other (XPath Filter 2.0), and costs several times a raw RSA
signature per document. The signer here is small: C14N and SHA-256 from lxml and hashlib, RSA from
cryptography. signxml and ``xmlsec1`` verify its output in the tests, and it verifies theirs.

The original bytes are kept: the ``Signature`` is spliced into the empty slot of the file as read,
nothing else changes (declaration, CRLF line ends, attribute quotes, base64 in ``NOIDUNGFILE``). The
result is parsed again and verified before it is returned, so a signature that would not verify is
never written.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from dataclasses import dataclass
from typing import Protocol
from xml.sax.saxutils import escape

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree

from sohs_cli.foundation.errors import SigningError, UsageError
from sohs_cli.foundation.i18n import _, language
from sohs_cli.foundation.xmlsafe import ParseLimits, parse_bytes
from sohs_cli.signing import dsig
from sohs_cli.signing.certs import KeyMaterial, rsa_sign


class Signer(Protocol):
    """Anything that holds a certificate and can make an RSA-SHA256 (PKCS#1 v1.5) signature:
    a key in a file here, a PKCS#11 token later. The private key never needs to leave it."""

    @property
    def certificate(self) -> x509.Certificate: ...

    @property
    def chain(self) -> list[x509.Certificate]: ...

    def sign(self, data: bytes) -> bytes: ...


class FileSigner:
    """A signer over a key loaded from PKCS#12 or PEM (loaded once per batch: ~40 ms)."""

    def __init__(self, material: KeyMaterial) -> None:
        self._material = material

    @property
    def certificate(self) -> x509.Certificate:
        return self._material.cert

    @property
    def chain(self) -> list[x509.Certificate]:
        return self._material.chain

    def sign(self, data: bytes) -> bytes:
        return rsa_sign(self._material.key, data)

    def __repr__(self) -> str:
        return f"FileSigner({self._material.cert.subject.rfc4514_string()!r})"


def _transforms_xml(slot: dsig.Slot) -> str:
    parts = []
    for algorithm, xpath in slot.transforms:
        if xpath:
            parts.append(f'<Transform Algorithm="{algorithm}"><XPath xmlns="{dsig.DSIG2_NS}" '
                         f'xmlns:dsig="{dsig.DS_NS}" Filter="subtract">{xpath}</XPath></Transform>')
        else:
            parts.append(f'<Transform Algorithm="{algorithm}"></Transform>')
    return "".join(parts)


def signed_info_xml(slot: dsig.Slot, digest: bytes) -> str:
    return (
        f'<SignedInfo><CanonicalizationMethod Algorithm="{dsig.C14N}"></CanonicalizationMethod>'
        f'<SignatureMethod Algorithm="{dsig.RSA_SHA256}"></SignatureMethod>'
        f'<Reference URI=""><Transforms>{_transforms_xml(slot)}</Transforms>'
        f'<DigestMethod Algorithm="{dsig.SHA256}"></DigestMethod>'
        f"<DigestValue>{base64.b64encode(digest).decode()}</DigestValue></Reference></SignedInfo>"
    )


@functools.lru_cache(maxsize=16)
def _key_info(certs: tuple[x509.Certificate, ...]) -> tuple[str, bytes]:
    """``KeyInfo`` for a signer (its certificate first, then the chain) and the signer's DER.

    The same for every document of a batch, so it is built once (it was a third of the cost of a
    signature beyond the RSA operation itself).
    """
    ders = [c.public_bytes(serialization.Encoding.DER) for c in certs]
    b64 = "".join(f"<X509Certificate>{base64.b64encode(d).decode()}</X509Certificate>" for d in ders)
    subject = escape(certs[0].subject.rfc4514_string())
    return f"<KeyInfo><X509Data><X509SubjectName>{subject}</X509SubjectName>{b64}</X509Data></KeyInfo>", ders[0]


def choose_slot(root: etree._Element, role: str, source: str) -> dsig.Slot:
    slots = dsig.slots_for(root.tag if isinstance(root.tag, str) else "")
    if not slots:
        raise SigningError(
            _("{file}: <{root}> is not a document that is signed; sign the envelope (GIAMDINHHS, KHAMSUCKHOE) or "
              "the check-in file", file=source, root=root.tag),
            hint=_("pack the tables first: sohs pack TABLE.xml... --facility CODE -o envelope.xml"))
    for slot in slots:
        if slot.role == role:
            return slot
    raise UsageError(_("--as {role} applies to checkup envelopes (KHAMSUCKHOE) only; {root} has one facility "
                       "signature", role=role, root=root.tag), hint=_("drop --as, or use --as facility"))


def _check_slot(root: etree._Element, slot: dsig.Slot, source: str) -> etree._Element:
    containers = root.findall(slot.path)
    if len(containers) != 1:
        raise SigningError(
            _("{file}: {n} {slot} elements where one is expected; the portal needs it present and empty before "
              "signing", file=source, n=len(containers), slot=slot.label),
            hint=_("re-pack the document with sohs pack, which writes the empty signature slot"))
    container = containers[0]
    if dsig.slot_signatures(root, slot):
        raise SigningError(_("{file}: {slot} is already signed", file=source, slot=slot.label),
                           hint=_("sign the unsigned file; a slot holds one signature"))
    if len(container) or (container.text or "").strip():
        raise SigningError(_("{file}: {slot} is not empty; it may hold only the signature", file=source,
                             slot=slot.label))
    allowed = [s for other in dsig.slots_for(root.tag) for s in dsig.slot_signatures(root, other)]
    stray = [s for s in root.iter(dsig.SIGNATURE) if s not in allowed]
    if stray:
        raise SigningError(_("{file}: a Signature outside the signature slots, line {line}", file=source,
                             line=stray[0].sourceline),
                           hint=_("remove it; only the slots in CHUKYDONVI carry signatures"))
    return container


def _slot_bounds(data: bytes, tag: str) -> tuple[bytes | memoryview, bytes | memoryview]:
    """Split the raw bytes where a signature goes into the slot ``tag``: ``head + signature + tail``
    (join them with ``b"".join``: a slot closed by its own tag is split as views of ``data``, not
    copies of its 50 MB, issue 15).

    The last ``<tag/>`` or ``</tag>`` of the file is the slot (it is the last element of the
    document); a self-closing slot is opened. A tag inside a trailing comment would mislead this,
    which is why the placement is proved by parsing the result before anything is handed out.
    """
    pattern = re.compile(rb"<" + tag.encode() + rb"(\s[^<>]*?)?/>|</" + tag.encode() + rb"\s*>")
    matches = list(pattern.finditer(data))
    if not matches:
        raise SigningError(_("the {tag} element could not be found in the bytes of the file", tag=tag))
    match = matches[-1]
    if match.group(0).endswith(b"/>"):
        opening = b"<" + tag.encode() + (match.group(1) or b"") + b">"
        return data[:match.start()] + opening, b"</" + tag.encode() + b">" + data[match.end():]
    view = memoryview(data)
    return view[:match.start()], view[match.start():]


_VALUE_PLACEHOLDER = "SOHS-SIGNATURE-VALUE"


def insert_slot(data: bytes, root: etree._Element, source: str) -> bytes | None:
    """``data`` with an empty ``<CHUKYDONVI></CHUKYDONVI>`` added as the last child of the root, for a
    BHXH document that lacks it; None when it has one (or is not a BHXH document).

    Where the guide puts it: the last element of the file, after THONGTINHOSO (CV 1245 §I.3.4, the
    QĐ 3176 signing guide: "thẻ <CHUKYDONVI> nằm ở cuối file"). Every vendor signing tool adds it
    the same way. Only the element is inserted, just before the closing root tag: every byte
    before and after it stays as it was.
    """
    tag = root.tag if isinstance(root.tag, str) else ""
    if tag not in dsig.SINGLE_SIGNATURE_ROOTS or root.find("CHUKYDONVI") is not None:
        return None
    closing = list(re.finditer(rb"</" + tag.encode() + rb"\s*>", data))
    if not closing:
        raise SigningError(_("{file}: the closing </{tag}> could not be found to add CHUKYDONVI before it",
                             file=source, tag=tag))
    at = closing[-1].start()
    return data[:at] + b"<CHUKYDONVI></CHUKYDONVI>" + data[at:]


@dataclass(frozen=True)
class Signed:
    data: bytes
    slot_added: bool = False  # CHUKYDONVI was missing and was added before signing


def sign_document(data: bytes, signer: Signer, *, role: str = "facility", source: str = "<input>",
                  limits: ParseLimits | None = None, checkup_form: str | None = None,
                  root: etree._Element | None = None) -> bytes:
    """Return ``data`` with one enveloped signature added in the slot for ``role`` (adding an empty
    ``CHUKYDONVI`` first where a BHXH document lacks it: :func:`insert_slot`). A checkup record's
    slot gets the base64 form unless ``checkup_form`` is ``xmldsig`` (:mod:`sohs_cli.signing.checkupsig`).

    ``root``: the tree of ``data`` the caller parsed already (blanks kept), instead of a second parse;
    it is spent: signing changes it (issue 19: ``sohs run`` parses a document once).

    Raises :class:`SigningError` (exit 1) for a document that cannot be signed; never writes.
    """
    return sign(data, signer, role=role, source=source, limits=limits, checkup_form=checkup_form, root=root).data


def sign(data: bytes, signer: Signer, *, role: str = "facility", source: str = "<input>",
         limits: ParseLimits | None = None, checkup_form: str | None = None,
         root: etree._Element | None = None) -> Signed:
    """:func:`sign_document`, saying whether the signature slot had to be added."""
    root = parse_bytes(data, source=source, limits=limits) if root is None else root
    with_slot = insert_slot(data, root, source)
    if with_slot is not None:
        data = with_slot
        root = parse_bytes(data, source=source, limits=limits)
    slot = choose_slot(root, role, source)
    _check_slot(root, slot, source)
    if slot.checkup and _checkup_form(root, slot, checkup_form, source) == "base64":
        return Signed(_sign_base64(data, slot, signer, source, limits))
    digest = dsig.document_digest(root, slot)
    del root  # the tree is spent (the digest mutates it): freed before the placed copy is parsed
    key_info, cert_der = _key_info((signer.certificate, *signer.chain))
    sig_id = "sig-" + hashlib.sha256(digest + slot.name.encode() + cert_der).hexdigest()[:20]
    head, tail = _slot_bounds(data, slot.name)

    def signature(value: str) -> bytes:
        return (f'<Signature xmlns="{dsig.DS_NS}" Id="{sig_id}">{signed_info_xml(slot, digest)}'
                f"<SignatureValue>{value}</SignatureValue>{key_info}</Signature>").encode()

    # SignedInfo is canonicalised exactly as a verifier will see it: in the spliced file, parsed
    # again (inclusive C14N takes the ancestors' namespaces). The same parse proves the placement:
    # the document seen through the slot's transforms must still have the digest just computed.
    placed = parse_bytes(b"".join((head, signature(_VALUE_PLACEHOLDER), tail)), source=source, limits=limits)
    own = dsig.slot_signatures(placed, slot)
    if len(own) != 1 or own[0].get("Id") != sig_id:
        raise SigningError(_("{file}: the signature could not be placed in {slot}", file=source, slot=slot.label),
                           hint=_("the file may hold the slot's tag inside a comment; report it with --debug"))
    value = signer.sign(dsig.c14n(own[0][0]))
    if dsig.document_digest(placed, slot, own[0]) != digest:
        raise SigningError(_("{file}: placing the signature changed the signed content of {slot}", file=source,
                             slot=slot.label), hint=_("report it with --debug"))
    return Signed(b"".join((head, signature(base64.b64encode(value).decode("ascii")), tail)), with_slot is not None)


def _checkup_form(root: etree._Element, slot: dsig.Slot, wanted: str | None, source: str) -> str:
    """The inner form for this slot of a checkup record, after the order checks (QĐ 2062: the doctor
    signs with both slots empty, the facility over the doctor's signature)."""
    from sohs_cli.signing import checkupsig

    if slot.name == checkupsig.FACILITY and checkupsig.unsigned(root, checkupsig.DOCTOR):
        raise SigningError(_("{file}: CKS_NGUOI_KET_LUAN (Chữ ký số người kết luận) is not signed; the facility's "
                             "signature covers the doctor's", file=source),
                           hint=_("sign as the concluding doctor first: sohs sign FILE --as doctor, then --as "
                                  "facility"))
    if slot.name == checkupsig.DOCTOR and not checkupsig.unsigned(root, checkupsig.FACILITY):
        raise SigningError(_("{file}: CKS_BENH_VIEN (Chữ ký số bệnh viện) is already signed; the doctor signs "
                             "first, with both slots empty", file=source),
                           hint=_("take the record as exported (unsigned), sign --as doctor, then --as facility"))
    existing = checkupsig.form_of(root)
    if wanted is not None and wanted not in checkupsig.FORMS:
        raise UsageError(_("--checkup-form {form}: base64 or xmldsig", form=wanted))
    form = wanted or existing or "base64"
    if existing and form != existing:
        raise SigningError(_("{file}: CKS_NGUOI_KET_LUAN (Chữ ký số người kết luận) is signed in the {form} form; "
                             "both slots of a record use one form", file=source, form=existing),
                           hint=_("sign with --checkup-form {form}", form=existing))
    return form


def _sign_base64(data: bytes, slot: dsig.Slot, signer: Signer, source: str, limits: ParseLimits | None) -> bytes:
    """The record with the slot's base64 CMS signature spliced in, verified before it is returned."""
    from sohs_cli.signing import checkupsig
    from sohs_cli.signing.cms import CmsError

    text = checkupsig.sign_text(data, slot.name, [signer.certificate, *signer.chain], signer.sign, limits)
    head, tail = _slot_bounds(data, slot.name)
    out = b"".join((head, text.encode("ascii"), tail))
    placed = parse_bytes(out, source=source, limits=limits)
    try:
        got, _chain = checkupsig.verify_text(out, slot.name, checkupsig.slot_text(placed.find(slot.path)), limits)
    except CmsError as exc:
        raise SigningError(_("{file}: the signature placed in {slot} does not verify: {reason}", file=source,
                             slot=slot.label, reason=exc.vi if language() == "vi" else exc.en),
                           hint=_("report it with --debug")) from None
    if got != signer.certificate:
        raise SigningError(_("{file}: the signature in {slot} is not the signer's", file=source, slot=slot.label),
                           hint=_("report it with --debug"))
    return out
