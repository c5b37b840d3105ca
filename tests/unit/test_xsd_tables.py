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

PATHS = {
    "XML0": "CHI_TIEU_TRANG_THAI_KCB/DSACH_TRANG_THAI_KCB/TRANG_THAI_KCB",
    "XML1": "TONG_HOP",
    "XML2": "CHITIEU_CHITIET_THUOC/DSACH_CHI_TIET_THUOC/CHI_TIET_THUOC",
    "XML3": "CHITIEU_CHITIET_DVKT_VTYT/DSACH_CHI_TIET_DVKT/CHI_TIET_DVKT",
    "XML4": "CHITIEU_CHITIET_DICHVUCANLAMSANG/DSACH_CHI_TIET_CLS/CHI_TIET_CLS",
    "XML5": "CHITIEU_CHITIET_DIENBIENLAMSANG/DSACH_CHI_TIET_DIEN_BIEN_BENH/CHI_TIET_DIEN_BIEN_BENH",
    "XML6": "CHI_TIEU_HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS/DSACH_HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS/"
            "HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS",
    "XML7": "CHI_TIEU_DU_LIEU_GIAY_RA_VIEN",
    "XML8": "CHI_TIEU_DU_LIEU_TOM_TAT_HO_SO_BENH_AN",
    "XML9": "CHI_TIEU_DU_LIEU_GIAY_CHUNG_SINH/DSACH_GIAYCHUNGSINH/DU_LIEU_GIAY_CHUNG_SINH",
    "XML10": "CHI_TIEU_DU_LIEU_GIAY_NGHI_DUONG_THAI",
    "XML11": "CHI_TIEU_DU_LIEU_GIAY_CHUNG_NHAN_NGHI_VIEC_HUONG_BAO_HIEM_XA_HOI",
    "XML12": "CHI_TIEU_GIAM_DINH_YKHOA/DSACH_GIAM_DINH_YKHOA/GIAM_DINH_YKHOA",
    "XML13": "CHI_TIEU_GIAYCHUYENTUYEN",
    "XML14": "CHI_TIEU_GIAYHEN_KHAMLAI",
    "XML15": "CHI_TIEU_DIEUTRI_BENHLAO/DSACH_CHITIET_DIEUTRI_BENHLAO/CHITIET_DIEUTRI_BENHLAO",
}
# every table of QĐ 4750 and QĐ 3176 (check-in: QĐ 3176 did not amend it)
CASES = [(f"bhxh/{std}/{loai}.xsd", path, "xml0_4750.csv" if loai == "XML0" else f"{loai.lower()}_{std}.csv")
         for std in ("4750", "3176") for loai, path in PATHS.items()]
PORTAL_LENGTH = re.compile(r"portal sheet lists max length (\d+)")


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
        decision = [int(a.text or "") for a in
                    (el.annotation.appinfo if el.annotation else []) if a.get("source") == "decision-max-length"]
        if decision:  # the portal sheet is looser: maxLength is the sheet's, the decision's is kept
            assert decision == [want_max], f"{el.name} decision length"
            want_max = int(PORTAL_LENGTH.findall(
                next(r for r in rows(table.replace("3176", "4750")) if r["element"] == el.name)["rules"])[0])
            assert want_max > decision[0]
        assert max_len == want_max, f"{el.name} maxLength"
        required = row["required"] == "yes"
        assert (el.min_occurs == 1) == required, f"{el.name} minOccurs"
        assert (min_len == 1) == required, f"{el.name} non-empty when required"
        if row["type"] == "number":
            assert patterns or enum, f"{el.name} is a number: needs a numeric pattern or a code list"
            for p in patterns:
                assert not re.fullmatch(p, "1a") and any(re.fullmatch(p, d) for d in ("1", "12", "2025")), el.name
        codes = re.search(r"code-list:\w+\(([0-9A-Z,]+)\)", row["format"])
        if codes and " + " not in row["format"]:  # "+ ;-separated" is a pattern; "+ 5-char …" a prefix
            assert [v for v in enum if v] == codes.group(1).split(","), f"{el.name} code list"
            assert ("" in enum) == (not required), f"{el.name} optional codes allow empty"
        if "yyyymmddHHMM" in row["format"] and "or" not in row["format"]:
            assert any("[0-5][0-9]" in p for p in patterns), f"{el.name} date-time pattern"
        doc = el.annotation.documentation if el.annotation else []
        assert doc and doc[0].text and doc[0].text.strip(), f"{el.name} has a Vietnamese label"


@pytest.mark.parametrize("form", [1, 2, 3])
def test_ksk_form_schemas_match_the_pl01_tables(form: int) -> None:
    """Each block of each QĐ 2062 PL01 form: the table's fields (any order), lengths, required, labels."""
    from sohs_cli.documents import kskforms
    from sohs_cli.documents.kinds import KSK_LOAIHOSO_ROOT

    name = {1: "ksk_2062_form1_under6.csv", 2: "ksk_2062_form2_6to18.csv", 3: "ksk_2062_form3_18plus.csv"}[form]
    with open(TABLES / name, encoding="utf-8", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == {1: 109, 2: 87, 3: 123}[form]
    required = {r["element"] for r in table if r["required"] == "yes"}
    assert len(required) == {1: 18, 2: 16, 3: 17}[form]  # NOTES: Form 1 18, Form 2 16, Form 3 + MA_NGHE_NGHIEP
    assert {"HO_TEN", "NGAY_SINH", "SO_CCCD", "GIOI_TINH", "MA_DAN_TOC", "DIA_CHI", "MATINH_CU_TRU",
            "MAXA_CU_TRU"} <= required  # the identity block, in every form
    seen = set()
    for block, fields in kskforms.blocks(form, str(TABLES)).items():
        if block == "CHUKYDONVI":
            assert [f.element for f in fields] == ["CKS_NGUOI_KET_LUAN", "CKS_BENH_VIEN"]
            continue
        schema = xmlschema.XMLSchema(str(XSD / "ksk" / "2062" / f"form{form}" / f"{block}.xsd"))
        root = KSK_LOAIHOSO_ROOT[block]
        assert list(schema.elements) == [root]
        elements = {e.name: e for e in schema.elements[root].type.content.iter_elements()}
        assert set(elements) == {f.element for f in fields}, block
        for f in fields:
            el = elements[f.element]
            max_len, _, _, _ = facets(el)
            assert max_len == (None if f.max_length == "n" else int(f.max_length)), f"{block} {f.element}"
            assert (el.min_occurs == 1) == f.required, f"{block} {f.element}"
            assert el.annotation is not None and el.annotation.documentation[0].text == f.label_vi
            seen.add(f.element)
    assert seen | {"CKS_NGUOI_KET_LUAN", "CKS_BENH_VIEN"} == {r["element"] for r in table}


@pytest.mark.parametrize("std", ["4750", "3176"])
def test_envelope_shape(std: str) -> None:
    schema = xmlschema.XMLSchema(str(XSD / "bhxh" / std / "GIAMDINHHS.xsd"))
    root = schema.elements["GIAMDINHHS"]
    assert [e.name for e in root.type.content.iter_elements()] == ["THONGTINDONVI", "THONGTINHOSO", "CHUKYDONVI"]
    loai = schema.find("GIAMDINHHS/THONGTINHOSO/DANHSACHHOSO/HOSO/FILEHOSO/LOAIHOSO")
    assert [str(v) for v in loai.type.enumeration] == [f"XML{i}" for i in (*range(1, 12), 13, 14, 15)]


def test_every_label_in_use_is_documented() -> None:
    from sohs_cli.documents.schemas import label

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
