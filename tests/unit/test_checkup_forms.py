"""Checkup records against the three forms of QĐ 2062 Phụ lục 01 (issue 13): the form by age, what
belongs to another form, the required identity, both shapes of NOIDUNGFILE, the decision's own example.

``tests/data/qd2062_pl02_example.xml`` is the decision's example message (PL02 §6 a), as reconstructed
from its text layer (read its header comment); it mixes forms, as the issue says."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from sohs_cli.documents import samples
from sohs_cli.documents.kinds import pack
from sohs_cli.validation.engine import validate_bytes

DATA = Path(__file__).resolve().parent.parent / "data"


def envelope(blocks: list[bytes]) -> bytes:
    return pack([(f"b{i}", b) for i, b in enumerate(blocks)], facility="01001", envelope="KHAMSUCKHOE").data


def codes(data: bytes) -> list[str]:
    return [f.code for f in validate_bytes(data, "k.xml").findings]


@pytest.mark.parametrize(("name", "form"), [("checkup_child_under6_2062.xml", 1),
                                            ("checkup_pupil_6to18_2062.xml", 2), ("checkup_adult_2062.xml", 3)])
def test_a_record_of_each_form_validates_and_the_report_names_the_form(examples: Path, name: str, form: int) -> None:
    report = validate_bytes((examples / name).read_bytes(), name)
    assert report.valid, [f.message_en for f in report.findings]
    assert report.standard == f"2062 form {form}" and f"Form {form}" in report.standard_reason


def test_a_record_without_ho_ten_fails(examples: Path) -> None:
    """Regression (issue 13): only three fields were required, so a record without a name passed."""
    report = validate_bytes((examples / "invalid_checkup_missing_name_2062.xml").read_bytes(), "k.xml")
    assert not report.valid
    assert [(f.code, f.element) for f in report.errors] == [("xsd:missing-element", "HO_TEN")]
    for field in ("SO_CCCD", "GIOI_TINH", "DIA_CHI", "MAXA_CU_TRU"):  # the whole identity block is required
        errors = validate_bytes(envelope(samples.adult_checkup("KSK1", **{field: None})), "k.xml").errors
        assert [(f.code, f.element) for f in errors] == [("xsd:missing-element", field)]
    errors = validate_bytes(envelope(samples.adult_checkup("KSK1", NGAY_SINH=None)), "k.xml").errors
    assert [f.code for f in errors][:1] == ["ksk-form-unknown"]  # no birth date: no form either


def test_content_of_another_form_is_reported_once_naming_both_forms(examples: Path) -> None:
    report = validate_bytes((examples / "invalid_checkup_mixed_forms_2062.xml").read_bytes(), "k.xml")
    found = [(f.code, f.element) for f in report.errors]
    assert found == [("ksk-form-content", "TUAN_THAI"), ("ksk-form-content", "LOAIHOSO")], found
    assert "Form 1 (children under 6)" in report.errors[0].message_en
    assert "Form 3 (18 and over)" in report.errors[0].message_en


@pytest.mark.parametrize(("ngay_sinh", "form"), [("200811110000", 2), ("200811100000", 3), ("202011110000", 1),
                                                 ("202011100000", 2)])
def test_the_form_is_the_age_in_full_years_on_the_day_of_the_checkup(ngay_sinh: str, form: int) -> None:
    # NGAY_VAO 2026-11-10: born 2008-11-11 is 17 (18 the next day), born 2008-11-10 is 18 that day
    report = validate_bytes(envelope(samples.adult_checkup("KSK1", NGAY_SINH=ngay_sinh)), "k.xml")
    assert report.standard == f"2062 form {form}", report.standard_reason


def test_no_order_is_invented_inside_a_block() -> None:
    blocks = samples.adult_checkup("KSK1")
    xml1 = blocks[0].decode()
    fields = re.findall(r"  <[A-Z_]+>[^<]*</[A-Z_]+>\r\n", xml1)
    blocks[0] = xml1.replace("".join(fields), "".join(reversed(fields))).encode()
    assert validate_bytes(envelope(blocks), "k.xml").valid


def test_nested_and_base64_noidungfile_read_the_same(examples: Path) -> None:
    data = (examples / "invalid_checkup_class_and_bmi_2062.xml").read_bytes()

    def nest(m: re.Match[bytes]) -> bytes:
        inner = base64.b64decode(m.group(1)).split(b"?>", 1)[1]
        return b"<NOIDUNGFILE>" + inner + b"</NOIDUNGFILE>"

    nested = re.sub(rb"<NOIDUNGFILE>([^<]+)</NOIDUNGFILE>", nest, data)
    assert b"<NOIDUNGFILE><THONG_TIN_HANH_CHINH>" in nested.replace(b"\r\n", b"")
    assert codes(nested) == codes(data) == ["bmi-mismatch", "phan-loai-sk-better-than-organ"]


def test_the_decisions_example_is_read_and_its_mixed_forms_reported() -> None:
    report = validate_bytes((DATA / "qd2062_pl02_example.xml").read_bytes(), "pl02.xml")
    warnings = [f.code for f in report.findings if f.severity == "warning"]
    assert warnings == ["ksk-inner-declaration"]  # 12 inner <?xml?> declarations, read without them
    assert report.standard == "2062 form 1"  # born 2024-06-15, examined 2026-06-18: 2 years old
    foreign = {f.element for f in report.errors if f.code == "ksk-form-content"}
    assert {"NGUOI_GIAM_HO", "MA_NGHE_NGHIEP", "NOI_LAM_VIEC_HOC_TAP", "NHI_KHOA_TUAN_HOAN", "LOAIHOSO"} <= foreign
    blocks = [f.location for f in report.errors if f.code == "ksk-form-content" and f.element == "LOAIHOSO"]
    assert [re.search(r"XML\d+", b).group(0) for b in blocks] == ["XML9", "XML10", "XML11", "XML12"]  # type: ignore
    assert "xsd:missing-element" not in {f.code for f in report.errors}  # its identity block is complete


def test_the_json_form_of_the_message_reads_as_its_xml() -> None:
    """QĐ 2062 PL02 §6 b prints the same message as JSON: validate reads it, and finds what the XML has."""
    text = "\n".join(line for line in (DATA / "qd2062_pl02_example.jsonc").read_text(encoding="utf-8").splitlines()
                     if not line.lstrip().startswith("//")).encode()
    from_json = validate_bytes(text, "pl02.json")
    from_xml = validate_bytes((DATA / "qd2062_pl02_example.xml").read_bytes(), "pl02.xml")
    assert from_json.kind == "KHAMSUCKHOE" and from_json.standard == "2062 form 1"
    assert {(f.code, f.element) for f in from_json.errors} >= {("ksk-form-content", "NGUOI_GIAM_HO"),
                                                               ("ksk-form-content", "LOAIHOSO")}
    assert {f.element for f in from_json.errors if f.code == "ksk-form-content"} == \
        {f.element for f in from_xml.errors if f.code == "ksk-form-content"}
    # the same, as a hub message with data_type json/base64
    import json as jsonlib

    message = jsonlib.dumps({"header": {"data_type": "json/base64"}, "data": base64.b64encode(text).decode()})
    assert validate_bytes(message.encode(), "push.json").standard == "2062 form 1"
    for bad in (b'{"khamsuckhoe": [', b'{"other": {}}', b'{"khamsuckhoe": {"a b": 1}}', b"{" * 100000):
        report = validate_bytes(bad, "bad.json")
        assert not report.valid and report.errors[0].code == "json-invalid", report.errors


@pytest.mark.parametrize(("huyet_ap", "code"), [("120/80", None), ("80/120", "blood-pressure"),
                                                ("120-80", "blood-pressure"), ("12/8", "blood-pressure")])
def test_blood_pressure_is_systolic_over_diastolic(huyet_ap: str, code: str | None) -> None:
    blocks = samples.adult_checkup("KSK1")
    blocks[3] = blocks[3].replace(b"<HUYET_AP>120/80</HUYET_AP>", f"<HUYET_AP>{huyet_ap}</HUYET_AP>".encode())
    assert [f.code for f in validate_bytes(envelope(blocks), "k.xml").errors] == ([code] if code else [])


def test_checkup_dates_in_the_future_are_refused_and_the_rules_are_listed() -> None:
    blocks = samples.adult_checkup("KSK1")
    blocks[1] = blocks[1].replace(b"<NGAY_VAO>202611100800<", b"<NGAY_VAO>209911100800<")
    errors = validate_bytes(envelope(blocks), "k.xml").errors
    assert [(f.code, f.element) for f in errors] == [("ksk-date-in-future", "NGAY_VAO")]
    from sohs_cli.validation.rules import RULES  # what --list-rules prints

    assert {"blood-pressure", "ksk-date-in-future", "bmi-mismatch", "icd10-shape"} <= {r.id for r in RULES}


@pytest.mark.parametrize("family", ["checkup", "bhyt"])
def test_a_table_twice_in_one_hoso_is_a_finding(family: str) -> None:
    """A HOSO holds one of each table: a second XML1 is ``loaihoso-repeated`` in a checkup envelope as
    in a BHYT one (the walk compared the block's kind, ``KSK:XML1``, with the LOAIHOSO it had seen,
    ``XML1``: a checkup record with two XML1 passed, and only the second was read)."""
    if family == "checkup":
        blocks = samples.adult_checkup("KSK0000000001")
        data = pack([(f"b{k}", b) for k, b in enumerate(blocks)], facility="01001", envelope="KHAMSUCKHOE").data
    else:
        data = samples.export([samples.hospital_episode("LK2025110000001", drugs=1, services=1, results=1, notes=1)])
    assert validate_bytes(data, "once.xml").valid
    first = re.search(rb"<FILEHOSO>.*?</FILEHOSO>", data, re.S)
    assert first is not None
    twice = validate_bytes(data.replace(first.group(0), first.group(0) * 2, 1), "twice.xml")
    assert [f.code for f in twice.findings] == ["loaihoso-repeated"], twice.findings
