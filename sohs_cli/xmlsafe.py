"""The one hardened XML parser. Every module that reads XML from outside goes through here.

Input XML is hostile until proven otherwise: no DTD is loaded or honoured, no entity is expanded,
nothing is fetched from the network, and sizes and depths are bounded. A document that declares a
DOCTYPE is refused outright: the standards (QĐ 4750/3176, QĐ 2062) never use one, so its only use
in a health-record file is an attack (XXE, billion laughs) or a mistake.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from lxml import etree

from sohs_cli.errors import InputError

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
MAX_DEPTH = 64  # the deepest legitimate document (a signed envelope) is about 8 levels


@dataclass(frozen=True)
class ParseLimits:
    max_bytes: int = DEFAULT_MAX_BYTES
    max_depth: int = MAX_DEPTH


def _make_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
        remove_comments=False,
        remove_pis=False,
        collect_ids=False,
    )


_LOCAL = threading.local()


def _parser() -> etree.XMLParser:
    """One parser per thread: an lxml parser must not be used by two threads at once."""
    parser: etree.XMLParser | None = getattr(_LOCAL, "parser", None)
    if parser is None:
        parser = _LOCAL.parser = _make_parser()
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


def _depth_exceeds(root: etree._Element, limit: int) -> bool:
    return bool(_deeper_than(limit)(root))


def _declares_doctype(root: etree._Element) -> bool:
    docinfo = root.getroottree().docinfo
    return bool(docinfo.doctype) or docinfo.internalDTD is not None


def parse_bytes(data: bytes, *, source: str = "<input>", limits: ParseLimits | None = None) -> etree._Element:
    """Parse untrusted bytes into an element tree, or raise :class:`InputError` with one clear line."""
    limits = limits or ParseLimits()
    if len(data) > limits.max_bytes:
        raise InputError(
            f"{source}: {len(data):,} bytes is over the {limits.max_bytes:,}-byte limit "
            f"(tệp vượt giới hạn kích thước)",
            hint="split the export, or raise the limit with --max-size if the file is genuine",
            code="file-too-large",
        )
    if not data or data.isspace():
        raise InputError(f"{source}: the file is empty (tệp rỗng)", hint="re-export it from the HIS",
                         code="file-empty")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{source}: not UTF-8 (byte {exc.start:,}); QĐ 130 Điều 1 requires UTF-8 (tệp không phải UTF-8)",
            hint="re-export the file as UTF-8 from the HIS",
            code="not-utf8",
        ) from None
    try:
        root = etree.fromstring(data, _parser(), base_url=None)
    except etree.XMLSyntaxError as exc:
        line = getattr(exc, "lineno", None) or getattr(exc, "position", (0, 0))[0]
        msg = str(exc.msg if hasattr(exc, "msg") else exc)
        raise InputError(
            f"{source}: not well-formed XML at line {line}: {msg} (XML không hợp lệ)",
            hint="check the file is complete and UTF-8 encoded",
            code="xml-malformed",
        ) from None
    except ValueError as exc:  # e.g. unicode strings with encoding declarations
        raise InputError(f"{source}: cannot be parsed as XML: {exc}", code="xml-malformed") from None
    if root is None:
        raise InputError(f"{source}: no root element (không có phần tử gốc)", code="xml-malformed")
    # UTF-8 (checked above) spells a DOCTYPE in ASCII: look at the tree only when the bytes have one
    if b"<!DOCTYPE" in data and _declares_doctype(root):
        raise InputError(
            f"{source}: declares a DOCTYPE, which health-record XML never uses "
            "(tệp chứa khai báo DOCTYPE không được phép)",
            hint="remove the DOCTYPE; the file may be hostile (XXE, entity expansion)",
            code="doctype-forbidden",
        )
    # Every ancestor of the deepest element has an end tag, so depth <= count("</") + 1: most
    # documents are proved shallow without walking the tree.
    if data.count(b"</") >= limits.max_depth and _depth_exceeds(root, limits.max_depth):
        raise InputError(
            f"{source}: nested deeper than {limits.max_depth} levels (XML lồng quá sâu)",
            hint="health-record XML is flat; the file is malformed or hostile",
            code="too-deep",
        )
    return root
