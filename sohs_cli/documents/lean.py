"""A ``GIAMDINHHS`` read with its base64 payloads set aside (:func:`parse_envelope_lean`): what ``sohs
validate`` reads a big export with (issue 14, speed). Every other reader parses an envelope whole."""

from __future__ import annotations

from lxml import etree

from sohs_cli.documents.kinds import GIAMDINHHS, strict_base64
from sohs_cli.foundation.errors import InputError
from sohs_cli.foundation.xmlsafe import ParseLimits, declaration_end, parse_bytes

_OPEN, _CLOSE = b"<NOIDUNGFILE>", b"</NOIDUNGFILE>"
_PLACEHOLDER = b"A"
LEAN_MAX = 10_000_000  # bytes: past this an envelope is parsed whole (huge_tree: libxml2's text-node limit)


class Payloads(dict[etree._Element, bytes]):
    """Each ``NOIDUNGFILE`` of an envelope read by :func:`parse_envelope_lean`: its payload, decoded.
    Holding the elements keeps their proxies, so a lookup by the element found again is a hit."""


def parse_envelope_lean(data: bytes, *, source: str, limits: ParseLimits | None = None,
                        ) -> tuple[etree._Element, Payloads] | None:
    """A ``GIAMDINHHS`` parsed by the hardened parser with its base64 payloads set aside: the tree of
    ``data`` in which each ``NOIDUNGFILE`` that holds canonical base64 holds ``A``, and those payloads,
    decoded. None when the bytes are not plainly such an envelope: then parse them whole.

    A 101-episode export is 4 MB of base64 in 60 KB of XML. Parsed whole, libxml2 copies the 4 MB into
    its tree and lxml again into a Python string before they are decoded: a tenth of validating the
    export (issue 14, speed). Here each payload is the bytes between a ``<NOIDUNGFILE>`` start tag and
    the next ``<``, and is set aside only when it decodes as canonical base64, so it holds no markup,
    no reference and no line break: the tree is the one of ``data`` but for those texts, every element
    on the same line, every limit of the hardened parser met or broken the same. What could make a
    ``<NOIDUNGFILE>`` of the bytes no start tag (a comment, a CDATA section, a DOCTYPE, a processing
    instruction) sends the envelope to the whole parse, as do a skeleton that does not parse (its error
    is told from the bytes themselves), an element count that differs from the payloads found, and an
    envelope over ``LEAN_MAX`` (libxml2 refuses a text node over 10 MB without ``huge_tree``)."""
    limits = limits or ParseLimits()
    if len(data) > min(limits.max_bytes, LEAN_MAX) or data.find(b"<GIAMDINHHS", 0, 4096) < 0 or data.find(_OPEN) < 0:
        return None  # (a checkup envelope has its own fast path: it was parsed twice, skeleton and whole)
    if not data.isascii():  # a byte that is not UTF-8 is told at its offset in the bytes as they are
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return None
    pieces: list[bytes | memoryview] = []
    decoded: list[bytes | None] = []  # per <NOIDUNGFILE> of the bytes: its payload, or None (left in place)
    view = memoryview(data)
    done = 0
    start = data.find(_OPEN)
    while start >= 0:
        begin = start + len(_OPEN)
        end = data.find(b"<", begin)
        payload = strict_base64(view[begin:end]) if end > begin and data.startswith(_CLOSE, end) else None
        if payload is not None:
            pieces += (view[done:begin], _PLACEHOLDER)
            done = end
        decoded.append(payload)
        start = data.find(_OPEN, begin)
    if not any(p is not None for p in decoded):
        return None
    pieces.append(view[done:])
    skeleton = b"".join(pieces)
    if b"<!" in skeleton or skeleton.find(b"<?", declaration_end(skeleton)) != -1:
        return None  # a comment, CDATA, DOCTYPE or PI: a <NOIDUNGFILE> may not be a tag
    try:
        root = parse_bytes(skeleton, source=source, limits=limits, keep_blanks=False)
    except InputError:
        return None  # told from the bytes as they are (the error's column would differ here)
    elements = list(root.iter("NOIDUNGFILE"))
    if len(elements) != len(decoded) or root.tag != GIAMDINHHS:
        return None
    payloads = Payloads()
    for element, payload in zip(elements, decoded, strict=True):
        if payload is not None:
            if element.text != "A" or len(element):
                return None
            payloads[element] = payload
    return root, payloads
