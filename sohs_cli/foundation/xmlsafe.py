"""The one hardened XML parser. Every module that reads XML from outside goes through here.

Input XML is hostile until proven otherwise: no DTD is loaded or honoured, no entity is expanded,
nothing is fetched from the network, and sizes and depths are bounded. A document that declares a
DOCTYPE is refused outright: the standards (QĐ 4750/3176, QĐ 2062) never use one, so its only use
in a health-record file is an attack (XXE, billion laughs) or a mistake.

What is read is what is signed (issue 15): the signature covers the document through C14N 1.0
without comments, so comments are dropped here, while parsing. ``<MACSKCB>79<!---->001</MACSKCB>``
reads ``79001`` in every module, exactly the value the digest covers; nobody downstream can read a
half of it. Processing instructions are not dropped, because C14N keeps them and the digest would
change: one inside the document element (where it could split a value) is refused instead. Before
or after the document element one splits nothing and is kept.
"""

from __future__ import annotations

import codecs
import re
import threading

from lxml import etree

from sohs_cli.foundation.errors import InputError
from sohs_cli.foundation.i18n import _
from sohs_cli.foundation.plain import Frozen

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
MAX_DEPTH = 64  # the deepest legitimate document (a signed envelope) is about 8 levels
#: "<" in a document (tags, comments, PIs): an upper bound of its nodes, counted before the tree is
#: built. libxml2 spends ~120 bytes a node, so 12 million empty elements in 50 MB took 1.5 GB before a
#: single check ran (issue 15). A real episode's largest table (XML2, a long inpatient stay) has a
#: few thousand rows of ~30 fields: 200,000 tags; an envelope carries its tables as base64.
MAX_TAGS = 1_500_000
_CHUNK = 1 << 20
_SMALL = 1 << 14  # bytes: a document this small has its "<" counted


class ParseLimits(Frozen):
    __slots__ = ("max_bytes", "max_depth", "max_tags")

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES, max_depth: int = MAX_DEPTH, max_tags: int = MAX_TAGS,
                 ) -> None:
        self.max_bytes, self.max_depth, self.max_tags = max_bytes, max_depth, max_tags


#: the document element of an envelope, at the start of the bytes (BOM, declaration, blanks before)
_ENVELOPE = re.compile(rb"(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]{0,200}\?>\s*)?<(?:GIAMDINHHS|KHAMSUCKHOE)[\s>]")


def _make_parser(keep_blanks: bool, huge: bool) -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        # libxml2's "huge" limits refuse a text node over 10 MB: a NOIDUNGFILE carrying an inner
        # table over 7.5 MB ("Text node too long"), below the documented 50 MB file limit (issue 15).
        # They are lifted for envelopes only, the one place a text that long is legitimate, because
        # the limits that matter there are ours: the file size (max_bytes, checked before parsing),
        # the tag count, the depth (MAX_DEPTH) and no DTD, hence no entity to expand. Every other
        # document keeps libxml2's limits (a 37 MB value in a table broke its schema validator).
        huge_tree=huge,
        remove_blank_text=not keep_blanks,
        remove_comments=True,  # C14N without comments: the signed content has none (see above)
        remove_pis=False,  # C14N keeps them: dropping them would change the digest
        collect_ids=False,
    )


_LOCAL = threading.local()


def _parser(keep_blanks: bool = True, huge: bool = False) -> etree.XMLParser:
    """One parser of each kind per thread: an lxml parser must not be used by two threads at once."""
    name = ("parser" if keep_blanks else "lean_parser") + ("_huge" if huge else "")
    parser: etree.XMLParser | None = getattr(_LOCAL, name, None)
    if parser is None:
        parser = _make_parser(keep_blanks, huge)
        setattr(_LOCAL, name, parser)
    return parser


def _deeper_than(limit: int) -> etree.XPath:
    """``/*/*/…/*`` with limit+1 steps: evaluated in C, it dies out at once on a flat document.
    Compiled once per thread, like the parser: lxml evaluators are not shared between threads."""
    cache: dict[int, etree.XPath] | None = getattr(_LOCAL, "depth", None)
    if cache is None:
        cache = _LOCAL.depth = {}
    if limit not in cache:
        cache[limit] = etree.XPath("boolean(/*" + "/*" * limit + ")")
    return cache[limit]


_PROBE = 8  # levels: deeper than every legitimate document (a signed envelope has about 8)


def _depth_exceeds(root: etree._Element, limit: int) -> bool:
    # A 65-step path costs a third more than an 8-step one even where it dies out at the fourth
    # level (libxml2 goes through every step): the short one first proves almost every document.
    if limit > _PROBE and not _deeper_than(_PROBE)(root):
        return False
    return bool(_deeper_than(limit)(root))


def declaration_end(data: bytes) -> int:
    """Where the bytes after the XML declaration begin (0 without one): the declaration is no PI."""
    return data.find(b"?>") + 2 if data[:12].lstrip(b"\xef\xbb\xbf")[:6] == b"<?xml " else 0


def _declares_doctype(root: etree._Element) -> bool:
    docinfo = root.getroottree().docinfo
    return bool(docinfo.doctype) or docinfo.internalDTD is not None


def _first_pi_inside(root: etree._Element) -> etree._Element | None:
    return next(root.iter(etree.PI), None)


def _not_utf8_at(data: bytes) -> int | None:
    """The offset of the first byte that is not UTF-8, or None. ASCII at once; else decoded a
    megabyte at a time, so 50 MB of Vietnamese text is never a 200 MB string at once."""
    if data.isascii():
        return None
    if len(data) <= _CHUNK:  # one piece: decoded at once (an incremental decoder costs more on small blocks)
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            return exc.start
        return None
    decoder = codecs.getincrementaldecoder("utf-8")()
    for start in range(0, len(data), _CHUNK):
        try:
            decoder.decode(data[start:start + _CHUNK], final=start + _CHUNK >= len(data))
        except UnicodeDecodeError as exc:
            return start + exc.start
    return None


_FEW_TAGS = 20_000


def _count_tags(data: bytes) -> int:
    """``data.count(b"<")``. An envelope's megabytes of base64 hold a few thousand tags: found one by
    one with memchr (``find``) they cost a twentieth of a count, which walks every byte; a document
    with more tags than that is counted."""
    n, i = 0, data.find(b"<")
    while i != -1:
        n += 1
        if n == _FEW_TAGS:
            return n + data.count(b"<", i + 1)
        i = data.find(b"<", i + 1)
    return n


def _tags_below(data: bytes, enough: int) -> int:
    """``data.count(b"<")`` when it is below ``enough``, else a number of them that is not: counted a
    kilobyte at a time, since only a document with at most 2 * max_depth tags is proved shallow by
    the count (a checkup block), and a table of an export has that many in its first kilobytes
    (counting all of them cost 15 million instructions an export)."""
    n = 0
    for start in range(0, len(data), 1024):
        n += data.count(b"<", start, start + 1024)
        if n >= enough:
            break
    return n


def parse_bytes(data: bytes, *, source: str = "<input>", limits: ParseLimits | None = None,
                keep_blanks: bool = True) -> etree._Element:
    """Parse untrusted bytes into an element tree, or raise :class:`InputError` with one clear line.

    ``keep_blanks=False`` drops the whitespace-only text between elements (indentation), which
    nothing but a signature depends on: validation reads the tree faster without it (about 3 % of
    a slip's time). A text that is all an element holds (``<HO_TEN> </HO_TEN>``) is kept either way.
    """
    limits = limits or ParseLimits()
    if len(data) > limits.max_bytes:
        raise InputError(
            # read_file stops one byte past the limit: then the file's own size is not known here
            _("{file}: larger than the {limit:,}-byte limit", file=source, limit=limits.max_bytes)
            if len(data) == limits.max_bytes + 1 else
            _("{file}: {size:,} bytes is over the {limit:,}-byte limit", file=source, size=len(data),
              limit=limits.max_bytes),
            hint=_("split the export, or raise the limit with --max-size if the file is genuine"),
            code="file-too-large",
        )
    if not data or data.isspace():
        raise InputError(_("{file}: the file is empty", file=source), hint=_("re-export it from the HIS"),
                         code="file-empty")
    bad = _not_utf8_at(data)
    if bad is not None:
        raise InputError(
            _("{file}: not UTF-8 (byte {byte:,}); QĐ 130 Điều 1 requires UTF-8", file=source, byte=bad),
            hint=_("re-export the file as UTF-8 from the HIS"),
            code="not-utf8",
        )
    # a document holds at most one "<" a byte: one no longer than the cap needs no count for the cap.
    # A small one is counted all the same (a block of an envelope, a few hundred bytes: the count is
    # a fraction of a microsecond), since fewer tags than max_depth prove it shallow below, without
    # the depth walk (5 µs a block, a tenth of a checkup envelope's time).
    shallow = 2 * limits.max_depth  # at most this many "<": proved shallow without the walk (below)
    if len(data) > limits.max_tags:
        tags = _count_tags(data)
    elif len(data) <= _SMALL:
        tags = _tags_below(data, shallow + 1)  # exact up to the proof's bound, which is all it needs
    else:
        tags = len(data)
    if tags > limits.max_tags:
        raise InputError(
            _("{file}: {tags:,} tags, over the {limit:,} a health-record file can hold", file=source, tags=tags,
              limit=limits.max_tags),
            hint=_("split the export; the file may be hostile (millions of elements)"),
            code="too-many-elements",
        )
    try:
        huge = len(data) > 10_000_000 and _ENVELOPE.match(data) is not None
        root = etree.fromstring(data, _parser(keep_blanks, huge), base_url=None)
    except etree.XMLSyntaxError as exc:
        line = getattr(exc, "lineno", None) or getattr(exc, "position", (0, 0))[0]
        msg = str(exc.msg if hasattr(exc, "msg") else exc)
        raise InputError(
            _("{file}: not well-formed XML at line {line} (the parser says: {detail})", file=source, line=line,
              detail=msg),
            hint=_("check the file is complete and UTF-8 encoded"),
            code="xml-malformed",
        ) from None
    except ValueError as exc:  # e.g. unicode strings with encoding declarations
        raise InputError(_("{file}: cannot be parsed as XML (the parser says: {detail})", file=source, detail=exc),
                         code="xml-malformed") from None
    if root is None:
        raise InputError(_("{file}: no root element", file=source), code="xml-malformed")
    # UTF-8 (checked above) spells a DOCTYPE in ASCII: look at the tree only when the bytes have one
    if b"<!DOCTYPE" in data and _declares_doctype(root):
        raise InputError(
            _("{file}: declares a DOCTYPE, which health-record XML never uses", file=source),
            hint=_("remove the DOCTYPE; the file may be hostile (XXE, entity expansion)"),
            code="doctype-forbidden",
        )
    # the XML declaration is no PI: look at the tree only when the bytes hold another "<?" (looked
    # for from the first "?" after it: a one-byte search is memchr, a two-byte one a tenth as fast)
    after_declaration = declaration_end(data)
    question = data.find(b"?", after_declaration)
    if question != -1 and data.find(b"<?", max(question - 1, after_declaration)) != -1:
        pi = _first_pi_inside(root)
        if pi is not None:
            raise InputError(
                _("{file}: a processing instruction <?{target}?> at line {line} inside the document; health-record "
                  "XML never uses one, and it would split the value it sits in", file=source, target=pi.target,
                  line=pi.sourceline),
                hint=_("remove it and export again; the file may be hostile"),
                code="pi-forbidden",
            )
    # The document is well-formed (it parsed): each ancestor of an element at depth d has a start and
    # an end tag, and the element itself one tag at least, so d levels take 2d - 1 "<" or more (a
    # comment, a PI or a CDATA section only adds to the count). A document of at most 2 * max_depth
    # "<" is proved shallow without walking the tree: a checkup envelope of 8 blocks has ~120.
    # (Counting "</" instead proved little more and cost a fifth of the parse: two-byte counts are slow.)
    if tags > shallow and _depth_exceeds(root, limits.max_depth):
        raise InputError(
            _("{file}: nested deeper than {depth} levels", file=source, depth=limits.max_depth),
            hint=_("health-record XML is flat; the file is malformed or hostile"),
            code="too-deep",
        )
    return root
