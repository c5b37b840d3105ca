"""The hardened parser refuses hostile and broken input with one clear error, and never fetches."""

from __future__ import annotations

import pytest

from sohs_cli.foundation.errors import InputError
from sohs_cli.foundation.xmlsafe import ParseLimits, parse_bytes

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><TONG_HOP>&lol3;</TONG_HOP>"""
XXE_FILE = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY f SYSTEM "file:///etc/passwd">]><TONG_HOP>&f;</TONG_HOP>'
XXE_NET = b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "http://127.0.0.1:9/evil.dtd"><TONG_HOP/>'


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (BILLION_LAUGHS, "doctype-forbidden"),
        (XXE_FILE, "doctype-forbidden"),
        (XXE_NET, "xml-malformed"),
        (b"<TONG_HOP><MA_LK>1</MA_LK>", "xml-malformed"),
        (b"<TONG_HOP>\xff\xfe</TONG_HOP>", "not-utf8"),
        (b"   ", "file-empty"),
        (b"<a>" * 80 + b"</a>" * 80, "too-deep"),
    ],
    ids=["billion-laughs", "xxe-file", "xxe-network", "truncated", "not-utf8", "empty", "deep"],
)
def test_hostile_input_is_refused(data: bytes, code: str) -> None:
    with pytest.raises(InputError) as err:
        parse_bytes(data, source="x.xml")
    assert err.value.code == code
    assert "x.xml" in err.value.message
    assert "root:" not in err.value.message  # nothing of /etc/passwd leaked


def test_size_limit() -> None:
    with pytest.raises(InputError) as err:
        parse_bytes(b"<TONG_HOP>" + b"a" * 2000 + b"</TONG_HOP>", limits=ParseLimits(max_bytes=1000))
    assert err.value.code == "file-too-large"


def test_plain_document_parses_with_lines() -> None:
    root = parse_bytes(b'<?xml version="1.0" encoding="utf-8"?>\n'
                       b"<TONG_HOP>\n<HO_TEN>Nguy\xe1\xbb\x85n</HO_TEN>\n</TONG_HOP>")
    assert root[0].text == "Nguyễn" and root[0].sourceline == 3


def test_a_lean_parse_drops_indentation_but_keeps_a_text_that_is_all_an_element_holds() -> None:
    data = b"<A>\n  <B> </B>\n  <C>x</C>\n</A>\n"
    kept = parse_bytes(data)
    lean = parse_bytes(data, keep_blanks=False)
    assert kept.text == "\n  " and kept[0].tail == "\n  "
    assert lean.text is None and lean[0].tail is None
    assert lean[0].text == " " and lean[1].text == "x"
    assert [e.sourceline for e in lean.iter()] == [e.sourceline for e in kept.iter()]


@pytest.mark.parametrize(
    ("data", "byte"),
    [
        (b'<?xml version="1.0" encoding="utf-8"?><A>x\xc3\x28y</A>', 42),
        (b'<A B="\xff"/>', 6),
        (b"<A><!-- \xfe --></A>", 8),
        (b"<A>\xed\xa0\x80</A>", 3),  # a surrogate
        (b"<A>\xc0\x80</A>", 3),  # an overlong NUL
        (b"<A>x</A>\n\xe1\x88", 9),  # after the root, cut short
        (b"\xef\xbb\xbf<A>\xff</A>", 6),
        (b'<?xml version="1.0" encoding="ISO-8859-1"?><A>\xe9</A>', 46),  # well-formed Latin-1
        ("<A>é</A>".encode("utf-16"), 0),
    ],
    ids=["text", "attribute", "comment", "surrogate", "overlong", "trailing", "bom", "latin-1", "utf-16"],
)
def test_every_file_that_is_not_utf8_is_refused_naming_the_first_bad_byte(data: bytes, byte: int) -> None:
    with pytest.raises(InputError) as err:
        parse_bytes(data, source="x.xml", keep_blanks=False)
    assert err.value.code == "not-utf8"
    assert f"(byte {byte})" in err.value.message


def test_utf8_however_declared_is_read() -> None:
    for head in (b"", b'<?xml version="1.0"?>', b"<?xml version='1.0' encoding='UTF8' ?>", b"\xef\xbb\xbf"):
        assert parse_bytes(head + "<A>Nguyễn</A>".encode()).text == "Nguyễn"


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0"?><A>why?<?pi x?></A>',  # a "?" in a text before the PI
        b'<?xml version="1.0"?><A><?pi x?></A>',  # the PI right after the declaration's element
        b"<A>?<B><?pi?></B></A>",  # no declaration
    ],
    ids=["question-mark-first", "after-declaration", "no-declaration"],
)
def test_a_pi_inside_is_found_whatever_comes_before_it(data: bytes) -> None:
    """The PI search starts at the first "?" after the declaration (a one-byte search)."""
    with pytest.raises(InputError) as err:
        parse_bytes(data, source="x.xml")
    assert err.value.code == "pi-forbidden"


def test_depth_and_tag_limits_hold_for_small_and_large_documents() -> None:
    """Small documents skip the tag count (one '<' a byte at most) and are walked for depth; both
    limits still hold, at their edge."""
    deep = b"<a>" * 65 + b"</a>" * 65  # 65 levels: one over 64
    with pytest.raises(InputError, match="deeper than 64"):
        parse_bytes(deep)
    parse_bytes(b"<a>" * 64 + b"</a>" * 64)  # 64 levels: within
    flat = b"<R>" + b"<F/>" * 200 + b"</R>"  # 202 "<" in 807 bytes
    with pytest.raises(InputError) as err:
        parse_bytes(flat, limits=ParseLimits(max_tags=200))
    assert err.value.code == "too-many-elements" and "202 tags" in err.value.message
    parse_bytes(flat, limits=ParseLimits(max_tags=202))
    parse_bytes(b"<R>" + b"<F/>" * 10 + b"</R>", limits=ParseLimits(max_tags=200))  # 47 bytes: not counted


@pytest.mark.parametrize("limit", [1, 2, 3, 5, 8, 64])
def test_the_depth_limit_holds_at_its_edge_however_few_tags_the_document_spends(limit: int) -> None:
    """The depth walk is skipped for a document of at most 2 * limit "<" (issue 13, speed): the
    tightest nesting, a self-closing deepest element, one level past the limit is still refused, and
    one at the limit passes, with or without text, comments and a declaration around."""
    for depth in (limit, limit + 1):
        for body in ("<a/>", "<a>x</a>", "<a><!--c--></a>"):
            doc = "<a>" * (depth - 1) + body + "</a>" * (depth - 1)
            for data in (doc.encode(), b'<?xml version="1.0"?>' + doc.encode()):
                if depth <= limit:
                    assert parse_bytes(data, limits=ParseLimits(max_depth=limit)) is not None
                else:
                    with pytest.raises(InputError) as exc:
                        parse_bytes(data, limits=ParseLimits(max_depth=limit))
                    assert exc.value.code == "too-deep", (limit, depth, data)


def test_the_tag_counts_agree_with_a_plain_count() -> None:
    from sohs_cli.foundation.xmlsafe import _count_tags, _tags_below

    for data in (b"", b"<", b"a<b<", b"<" * 63, b"x" * 1023 + b"<" * 63, b"<" * 64, b"<x/>" * 5000, b"<" * 30_000,
                 b"y" * 5000 + b"<" * 19_999, b"A" * 40_000 + b"<" * 10):
        count = data.count(b"<")
        assert _count_tags(data) == count
        below = _tags_below(data, 64)  # exact under 64, else at least 64 (and never more than there are)
        assert below == count if count < 64 else 64 <= below <= count


def test_depth_is_refused_past_the_limit_whether_or_not_the_short_probe_sees_it() -> None:
    def nested(depth: int) -> bytes:
        return b"<a>" * depth + b"x" + b"</a>" * depth

    for depth in (7, 8, 9, 30, 64):
        parse_bytes(nested(depth))
    for depth in (65, 100):
        with pytest.raises(InputError) as err:
            parse_bytes(nested(depth))
        assert err.value.code == "too-deep"


@pytest.mark.parametrize("limit", [8, 64])
def test_depth_is_refused_when_the_first_kilobyte_holds_between_limit_and_twice_limit_tags(limit: int) -> None:
    """The small document's count stops early, in kilobytes; the shallow proof needs it exact up to
    2 * max_depth. A first kilobyte of, say, 80 flat tags then 100 nested levels was let through
    (the count stopped at 80, below the proof's 128, so the depth was never walked)."""
    for flat in (limit, limit + 1, 2 * limit - 1, 2 * limit):
        head = b"<r>" + b"<x/>" * flat
        head += b" " * (1024 - len(head))  # the flat tags fill the first kilobyte, alone
        doc = head + b"<a>" * (limit + 1) + b"</a>" * (limit + 1) + b"</r>"
        with pytest.raises(InputError) as err:
            parse_bytes(doc, limits=ParseLimits(max_depth=limit))
        assert err.value.code == "too-deep", (limit, flat)
