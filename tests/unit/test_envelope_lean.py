"""The GIAMDINHHS read with its payloads set aside (lean.parse_envelope_lean, issue 14 speed): the same
tree but for the NOIDUNGFILE texts, the same payloads, the same report as the whole parse, and the whole
parse whenever the bytes are anything but plain."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from lxml import etree

from sohs_cli.documents import samples
from sohs_cli.documents.lean import parse_envelope_lean
from sohs_cli.foundation.xmlsafe import ParseLimits, parse_bytes
from sohs_cli.validation import engine
from sohs_cli.validation.engine import ValidateOptions, validate_bytes
from sohs_cli.validation.reporting.json_report import file_json

EXPORT = samples.export([samples.hospital_episode(f"LK2025110{i:05d}", drugs=2, services=2, results=2, notes=1)
                         for i in range(3)])
FIRST = EXPORT.index(b"<NOIDUNGFILE>") + len(b"<NOIDUNGFILE>")
PAYLOAD = EXPORT[FIRST:EXPORT.index(b"<", FIRST)]


def at_first(new: bytes) -> bytes:
    """The export with its first NOIDUNGFILE's payload replaced."""
    return EXPORT[:FIRST] + new + EXPORT[FIRST + len(PAYLOAD):]


def one_line(data: bytes) -> bytes:
    return b"".join(line.strip() for line in data.splitlines())


#: envelopes the lean reading takes, and envelopes it must leave to the whole parse
TAKEN = {
    "export": EXPORT,
    "one line": one_line(EXPORT),
    "a bad payload among good ones": at_first(b"QUJD" * 10 + b"!"),
    "a wrapped payload": at_first(PAYLOAD[:40] + b"\n" + PAYLOAD[40:]),
    "an empty payload": at_first(b""),
    "an XML1 that is not XML": at_first(base64.b64encode(b"<TONG_HOP><MA_LK>1</MA_LK>")),
    "BOM and declaration": b"\xef\xbb\xbf" + EXPORT,
    "a NOIDUNGFILE outside FILEHOSO": EXPORT.replace(b"<SOLUONGHOSO>", b"<NOIDUNGFILE>QUJD</NOIDUNGFILE><SOLUONGHOSO>",
                                                     1),
    "two NOIDUNGFILE in a FILEHOSO": EXPORT.replace(b"</NOIDUNGFILE>", b"</NOIDUNGFILE><NOIDUNGFILE>QUJD</NOIDUNGFILE>",
                                                    1),
    "a reference in a payload (left in place)": at_first(b"&#81;" + PAYLOAD[1:]),
    "Vietnamese text": EXPORT.replace(b"<SOLUONGHOSO>", "<GHI_CHU>Bệnh viện</GHI_CHU><SOLUONGHOSO>".encode(), 1),
}
LEFT = {
    "a comment holding a payload": EXPORT.replace(b"<SOLUONGHOSO>", b"<!-- <NOIDUNGFILE>QUJD</NOIDUNGFILE> -->"
                                                  b"<SOLUONGHOSO>", 1),
    "a CDATA payload": at_first(b"<![CDATA[" + PAYLOAD + b"]]>"),
    "a processing instruction": EXPORT.replace(b"<SOLUONGHOSO>", b"<?pi x?><SOLUONGHOSO>", 1),
    "a DOCTYPE": EXPORT.replace(b"?>", b"?><!DOCTYPE GIAMDINHHS [<!ENTITY e 'x'>]>", 1),
    "not well-formed after a payload, on one line": one_line(EXPORT).replace(b"</DANHSACHHOSO>", b"</DANHSACH>", 1),
    "not UTF-8 after a payload": EXPORT.replace(b"</SOLUONGHOSO>", b"\xff</SOLUONGHOSO>", 1),
    "a start tag with an attribute": EXPORT.replace(b"<NOIDUNGFILE>", b'<NOIDUNGFILE a="1">', 1),
    "no payload at all": EXPORT.replace(PAYLOAD, b"", 1).replace(b"<NOIDUNGFILE>", b"<NOIDUNGFILE >"),
    "a checkup envelope": (samples.examples_dir() / "checkup_adult_2062.xml").read_bytes(),
}


def _full_tree(data: bytes) -> etree._Element:
    return parse_bytes(data, source="x", keep_blanks=False)


def _shape(root: etree._Element) -> list[tuple[object, ...]]:
    return [(el.tag, el.sourceline, None if el.tag == "NOIDUNGFILE" else el.text, el.tail, dict(el.attrib))
            for el in root.iter()]


@pytest.mark.parametrize("name", sorted(TAKEN))
def test_the_lean_tree_is_the_whole_tree_but_for_the_payloads(name: str) -> None:
    data = TAKEN[name]
    lean = parse_envelope_lean(data, source="x")
    assert lean is not None, name
    root, payloads = lean
    full = _full_tree(data)
    assert _shape(root) == _shape(full)
    texts = [el.text or "" for el in full.iter("NOIDUNGFILE")]
    for el, text in zip(root.iter("NOIDUNGFILE"), texts, strict=True):
        if el in payloads:
            assert payloads[el] == base64.b64decode(text, validate=True) and el.text == "A"
        else:
            assert el.text == (text or None)  # left in place: what the whole parse has
    assert payloads  # the good payloads were set aside


@pytest.mark.parametrize("name", sorted(LEFT))
def test_anything_but_plain_bytes_is_left_to_the_whole_parse(name: str) -> None:
    assert parse_envelope_lean(LEFT[name], source="x") is None


def test_a_checkup_envelope_is_not_parsed_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    """A KHAMSUCKHOE is left at once, before any parse (its own fast path reads it)."""
    from sohs_cli.documents import lean

    calls: list[bytes] = []
    monkeypatch.setattr(lean, "parse_bytes", lambda data, **kw: calls.append(data))
    assert parse_envelope_lean(LEFT["a checkup envelope"], source="x") is None and not calls


def test_over_the_limits_it_is_left_to_the_whole_parse() -> None:
    assert parse_envelope_lean(EXPORT, source="x", limits=ParseLimits(max_bytes=len(EXPORT) - 1)) is None
    assert parse_envelope_lean(EXPORT, source="x", limits=ParseLimits(max_depth=2)) is None  # too deep: whole


@pytest.mark.parametrize("name", sorted(TAKEN) + sorted(LEFT))
@pytest.mark.parametrize("options", [ValidateOptions(), ValidateOptions(max_findings=2), ValidateOptions(rules=False)],
                         ids=["default", "cap", "no-rules"])
def test_the_report_is_the_whole_parses(name: str, options: ValidateOptions, monkeypatch: pytest.MonkeyPatch) -> None:
    data = {**TAKEN, **LEFT}[name]
    lean = file_json(validate_bytes(data, "e.xml", options))
    monkeypatch.setattr(engine, "parse_envelope_lean", lambda *a, **k: None)
    assert lean == file_json(validate_bytes(data, "e.xml", options))


def test_the_examples_read_the_same(examples: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = sorted(examples.glob("*.xml"))
    lean = [file_json(validate_bytes(p.read_bytes(), p.name)) for p in files]
    assert sum(parse_envelope_lean(p.read_bytes(), source="x") is not None for p in files) >= 8
    monkeypatch.setattr(engine, "parse_envelope_lean", lambda *a, **k: None)
    assert lean == [file_json(validate_bytes(p.read_bytes(), p.name)) for p in files]
