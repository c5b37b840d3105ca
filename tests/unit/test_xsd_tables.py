"""Each shipped XSD says what the field tables say: names, order, lengths, required, types, labels.

The XSDs are read back with xmlschema (an implementation independent of the generator and of
libxml2), so a hand edit of an XSD or of a table that breaks the match fails here.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
import xmlschema

ROOT = Path(__file__).resolve().parents[2]
XSD = ROOT / "xsd"
TABLES = XSD / "tables"

CASES = [
    ("bhxh/4750/XML1.xsd", "TONG_HOP", "xml1_4750.csv"),
    ("bhxh/3176/XML1.xsd", "TONG_HOP", "xml1_3176.csv"),
    ("bhxh/4750/XML13.xsd", "CHI_TIEU_GIAYCHUYENTUYEN", "xml13_4750.csv"),
    ("bhxh/3176/XML13.xsd", "CHI_TIEU_GIAYCHUYENTUYEN", "xml13_3176.csv"),
    ("bhxh/4750/XML14.xsd", "CHI_TIEU_GIAYHEN_KHAMLAI", "xml14_4750.csv"),
    ("bhxh/3176/XML14.xsd", "CHI_TIEU_GIAYHEN_KHAMLAI", "xml14_3176.csv"),
    ("bhxh/4750/XML0.xsd", "CHI_TIEU_TRANG_THAI_KCB/DSACH_TRANG_THAI_KCB/TRANG_THAI_KCB", "xml0_4750.csv"),
    ("bhxh/3176/XML0.xsd", "CHI_TIEU_TRANG_THAI_KCB/DSACH_TRANG_THAI_KCB/TRANG_THAI_KCB", "xml0_4750.csv"),
]


def rows(name: str) -> list[dict[str, str]]:
    with open(TABLES / name, encoding="utf-8", newline="") as fh:
        return sorted(csv.DictReader(fh), key=lambda r: int(r["order"]))


def record(schema: xmlschema.XMLSchema, path: str) -> list[xmlschema.validators.XsdElement]:
    parts = path.split("/")
    el = schema.elements[parts[0]]
    for p in parts[1:]:
        el = next(c for c in el.type.content.iter_elements() if c.name == p)
    return list(el.type.content.iter_elements())


def facets(el: xmlschema.validators.XsdElement) -> tuple[int | None, int | None, list[str], list[str]]:
    t = el.type
    max_len = t.max_length if hasattr(t, "max_length") else None
    min_len = t.min_length if hasattr(t, "min_length") else None
    patterns = list(t.patterns.regexps) if getattr(t, "patterns", None) else []
    enum = [str(v) for v in t.enumeration] if getattr(t, "enumeration", None) else []
    return max_len, min_len, patterns, enum


@pytest.mark.parametrize(("xsd", "path", "table"), CASES, ids=[c[0] for c in CASES])
def test_schema_matches_table(xsd: str, path: str, table: str) -> None:
    schema = xmlschema.XMLSchema(str(XSD / xsd))
    elements = record(schema, path)
    expected = rows(table)
    assert [e.name for e in elements] == [r["element"] for r in expected], "names and order"
    for el, row in zip(elements, expected, strict=True):
        max_len, min_len, patterns, enum = facets(el)
        want_max = None if row["max_length"] == "n" else int(row["max_length"])
        assert max_len == want_max, f"{el.name} maxLength"
        required = row["required"] == "yes"
        assert (el.min_occurs == 1) == required, f"{el.name} minOccurs"
        assert (min_len == 1) == required, f"{el.name} non-empty when required"
        if row["type"] == "number":
            assert patterns or enum, f"{el.name} is a number: needs a numeric pattern or a code list"
            for p in patterns:
                assert not re.fullmatch(p, "1a") and any(re.fullmatch(p, d) for d in ("1", "12", "2025")), el.name
        codes = re.search(r"code-list:\w+\(([0-9A-Z,]+)\)", row["format"])
        if codes:
            assert [v for v in enum if v] == codes.group(1).split(","), f"{el.name} code list"
            assert ("" in enum) == (not required), f"{el.name} optional codes allow empty"
        if "yyyymmddHHMM" in row["format"] and "or" not in row["format"]:
            assert any("[0-5][0-9]" in p for p in patterns), f"{el.name} date-time pattern"
        doc = el.annotation.documentation if el.annotation else []
        assert doc and doc[0].text and doc[0].text.strip(), f"{el.name} has a Vietnamese label"


def test_ksk_blocks_match_table() -> None:
    with open(TABLES / "ksk_2062_blocks.csv", encoding="utf-8", newline="") as fh:
        table = [r for r in csv.DictReader(fh) if r["block"] != "ENVELOPE"]
    blocks: dict[str, list[dict[str, str]]] = {}
    for r in table:
        blocks.setdefault(r["block"], []).append(r)
    assert len(blocks) == 12
    for block, brows in blocks.items():
        schema = xmlschema.XMLSchema(str(XSD / "ksk" / "2062" / f"{block}.xsd"))
        root = brows[0]["root"]
        assert list(schema.elements) == [root]
        if block == "XML11":
            elements = record(schema, f"{root}/DANH_SACH_CLS/CHI_TIET_CLS")
            brows = [r for r in brows if r["element"] not in ("DANH_SACH_CLS", "CHI_TIET_CLS")]
        else:
            elements = record(schema, root)
        assert [e.name for e in elements] == [r["element"] for r in brows], block
        for el, row in zip(elements, brows, strict=True):
            max_len, _, _, _ = facets(el)
            want = None if row["max_length"] in ("", "n") else int(row["max_length"])
            assert max_len == want, f"{block} {el.name}"
            assert (el.min_occurs == 1) == (row["required"] == "yes"), f"{block} {el.name}"


@pytest.mark.parametrize("std", ["4750", "3176"])
def test_envelope_shape(std: str) -> None:
    schema = xmlschema.XMLSchema(str(XSD / "bhxh" / std / "GIAMDINHHS.xsd"))
    root = schema.elements["GIAMDINHHS"]
    assert [e.name for e in root.type.content.iter_elements()] == ["THONGTINDONVI", "THONGTINHOSO", "CHUKYDONVI"]
    loai = schema.find("GIAMDINHHS/THONGTINHOSO/DANHSACHHOSO/HOSO/FILEHOSO/LOAIHOSO")
    assert [str(v) for v in loai.type.enumeration] == [f"XML{i}" for i in (*range(1, 12), 13, 14, 15)]


def test_every_label_in_use_is_documented() -> None:
    from sohs_cli.validation.schemas import label

    assert label("MA_THE_BHYT") == "Mã thẻ BHYT"
    assert label("NGAY_HEN_KL") == "Ngày hẹn khám lại"
    assert label("PHAN_LOAI_SK") == "Phân loại sức khỏe"


def test_generator_output_is_committed(tmp_path: Path) -> None:
    """Regenerating the XSDs from the tables changes nothing: the committed files are the build."""
    import shutil
    import subprocess
    import sys

    copy = tmp_path / "xsd"
    shutil.copytree(XSD, copy)
    subprocess.run([sys.executable, str(copy / "_build.py")], check=True)
    for f in XSD.rglob("*.xsd"):
        assert (copy / f.relative_to(XSD)).read_bytes() == f.read_bytes(), f
