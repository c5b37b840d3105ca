"""Business rules of a checkup record that QĐ 2062 PL01 states (issue 13): each fires on a record that
breaks it and stays silent on a good one; every check the checkup validator can report is listed by
``sohs validate --list-rules``."""

from __future__ import annotations

import ast
import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sohs_cli.cli.app import build_app
from sohs_cli.documents import kskforms, samples
from sohs_cli.documents.kinds import KSK_LOAIHOSO_ROOT, pack
from sohs_cli.validation.engine import validate_bytes
from sohs_cli.validation.report import Finding

ROOT = Path(__file__).resolve().parents[2]


def envelope(blocks: list[bytes]) -> bytes:
    return pack([(f"b{i}", b) for i, b in enumerate(blocks)], facility="01001", envelope="KHAMSUCKHOE").data


def findings(blocks: list[bytes]) -> list[Finding]:
    return list(validate_bytes(envelope(blocks), "k.xml").findings)


def found(blocks: list[bytes]) -> list[tuple[str, str]]:
    return [(f.code, f.element) for f in findings(blocks)]


def with_block(blocks: list[bytes], loai: str, values: dict[str, str], form: int) -> list[bytes]:
    """The record with block ``loai`` rebuilt from ``values``."""
    root = f"<{KSK_LOAIHOSO_ROOT[loai]}>".encode()
    index = next(i for i, b in enumerate(blocks) if b.split(b"?>", 1)[-1].lstrip().startswith(root))
    return [*blocks[:index], samples.ksk_block(loai, values, form), *blocks[index + 1:]]


def adult_conclusion(**values: str) -> list[bytes]:
    return with_block(samples.adult_checkup("KSK1"), "XML12", values, 3)


# ------------------------------------------------------------------ ICD-10 lists


def test_the_icd10_list_fields_are_those_pl01_describes() -> None:
    from sohs_cli.validation.checkup_rules import ICD10_LISTS

    described = set()
    for name in kskforms.FORM_FILES.values():
        with open(ROOT / "xsd" / "tables" / name, encoding="utf-8", newline="") as fh:
            described |= {r["element"] for r in csv.DictReader(fh) if "ICD-10" in r["explanation_en"]}
    assert set(ICD10_LISTS) == described


@pytest.mark.parametrize(("text", "hint"), [
    ("J45, J30", "separate the codes with ';' and no spaces: J45;J30"),
    ("J45; J30", "separate the codes with ';' and no spaces: J45;J30"),
    ("J45/J30", "separate the codes with ';' and no spaces: J45;J30"),
    ("J45;;J30", "remove the extra ';': J45;J30"),
    ("J45;J30;", "remove the extra ';': J45;J30"),
    ("j45", "ICD-10 codes are written in capitals: J45"),
    ("125.9", "write the ICD-10 code of the Ministry of Health's list, e.g. J45.0"),
])
def test_an_icd10_list_that_breaks_pl01_is_one_finding_naming_the_fix(text: str, hint: str) -> None:
    report = findings(adult_conclusion(PHAN_LOAI_SK="2", KET_LUAN_BENH=text))
    assert [(f.code, f.element) for f in report] == [("ksk-icd10-list", "KET_LUAN_BENH")]
    assert report[0].hint == hint and report[0].hint_vi and report[0].hint_vi != hint
    assert "KET_LUAN_BENH (Kết luận bệnh)" in report[0].message_en


@pytest.mark.parametrize("text", ["J45", "J45;J30.1", "I10;E11.9;R51"])
def test_a_good_icd10_list_is_silent(text: str) -> None:
    assert found(adult_conclusion(PHAN_LOAI_SK="2", KET_LUAN_BENH=text)) == []


def test_every_icd10_list_of_every_form_is_checked() -> None:
    child = samples.child_checkup("KSK1")
    xml1 = child[0].replace(b"<TSBT_MAC_BENH>0</TSBT_MAC_BENH>",
                            b"<TSBT_MAC_BENH>1</TSBT_MAC_BENH><TSGD_MA_BENH>J45,J30</TSGD_MA_BENH>")
    assert found([xml1, *child[1:]]) == [("ksk-icd10-list", "TSGD_MA_BENH")]
    pupil = with_block(samples.pupil_checkup("KSK1"), "XML9", {"SAN_KHOA": "1", "MA_BENH_SAN_KHOA_KHONG_BT": "P07;"},
                       2)
    assert found(pupil) == [("ksk-icd10-list", "MA_BENH_SAN_KHOA_KHONG_BT")]


# ------------------------------------------------------------------ the conclusion


def child_conclusion(**values: str) -> list[bytes]:
    return with_block(samples.child_checkup("KSK1"), "XML8", values, 1)


@pytest.mark.parametrize(("values", "expected"), [
    ({"BINH_THUONG": "1", "VAN_DE_SUC_KHOE": "1", "GHI_RO_VAN_DE_SUC_KHOE": "Sâu răng"},
     [("ksk-conclusion-contradicts", "VAN_DE_SUC_KHOE")]),
    ({"BINH_THUONG": "0", "VAN_DE_SUC_KHOE": "1"}, [("ksk-conclusion-unexplained", "VAN_DE_SUC_KHOE")]),
    ({"BINH_THUONG": "0"}, [("ksk-conclusion-unexplained", "BINH_THUONG")]),
    ({"BINH_THUONG": "0", "NGUY_CO_MAC_LAO": "0", "VAN_DE_SUC_KHOE": "0"},
     [("ksk-conclusion-unexplained", "BINH_THUONG")]),
    ({"BINH_THUONG": "2"}, [("xsd:enumeration", "BINH_THUONG")]),  # PL01's codes 0/1
    ({"NGUY_CO_MAC_LAO": "0"}, [("xsd:missing-element", "BINH_THUONG")]),  # required in Form 1
    # good ones
    ({"BINH_THUONG": "1"}, []),
    ({"BINH_THUONG": "0", "NGUY_CO_MAC_LAO": "1"}, []),
    ({"BINH_THUONG": "0", "VAN_DE_SUC_KHOE": "1", "GHI_RO_VAN_DE_SUC_KHOE": "Sâu răng"}, []),
    ({"BINH_THUONG": "0", "VAN_DE_SUC_KHOE": "1", "KET_LUAN_BENH": "K02.1"}, []),
])
def test_the_form1_conclusion(values: dict[str, str], expected: list[tuple[str, str]]) -> None:
    assert found(child_conclusion(**values)) == expected


def test_a_contradiction_is_an_error_and_a_conclusion_without_its_problem_a_warning() -> None:
    bad = findings(child_conclusion(BINH_THUONG="1", VAN_DE_SUC_KHOE="1", KET_LUAN_BENH="K02.1"))
    assert [(f.code, f.severity) for f in bad] == [("ksk-conclusion-contradicts", "error")]
    unexplained = findings(child_conclusion(BINH_THUONG="0", VAN_DE_SUC_KHOE="1"))
    assert [f.severity for f in unexplained] == ["warning"]
    assert "GHI_RO_VAN_DE_SUC_KHOE" in unexplained[0].hint


@pytest.mark.parametrize(("values", "expected"), [
    ({"PHAN_LOAI_SK": "4"}, [("ksk-conclusion-unexplained", "PHAN_LOAI_SK")]),
    ({"PHAN_LOAI_SK": "5", "KET_LUAN_BENH": ""}, [("ksk-conclusion-unexplained", "PHAN_LOAI_SK")]),
    ({"PHAN_LOAI_SK": "6"}, [("xsd:enumeration", "PHAN_LOAI_SK")]),  # Loại I-V
    ({"KET_LUAN_BENH": "I10"}, [("xsd:missing-element", "PHAN_LOAI_SK")]),  # required in Forms 2 and 3
    ({"PHAN_LOAI_SK": "4", "KET_LUAN_BENH": "I10"}, []),
    ({"PHAN_LOAI_SK": "3", "CAC_BENH_TAT_NEU_CO": "Tăng huyết áp độ 1"}, []),
    ({"PHAN_LOAI_SK": "2"}, []),
])
def test_the_form3_conclusion(values: dict[str, str], expected: list[tuple[str, str]]) -> None:
    assert found(adult_conclusion(**values)) == expected


def test_the_form2_conclusion_reads_its_own_status_field() -> None:
    pupil = samples.pupil_checkup("KSK1")
    assert found(with_block(pupil, "XML12", {"PHAN_LOAI_SK": "3"}, 2)) == \
        [("ksk-conclusion-unexplained", "PHAN_LOAI_SK")]
    assert found(with_block(pupil, "XML12", {"PHAN_LOAI_SK": "3", "CAC_VAN_DE_SUC_KHOE": "Cận thị"}, 2)) == []


# ------------------------------------------------------------------ facility codes, dates


def test_the_facility_codes_carry_their_rule_and_say_which_goes_where() -> None:
    blocks = samples.adult_checkup("KSK1")
    swapped = blocks[1].replace(b"<MA_CSKCB>01001<", b"<MA_CSKCB>8930000000017<") \
        .replace(b"<MA_GTIN_CSKCB>8930000000017<", b"<MA_GTIN_CSKCB>01001<")
    report = findings([blocks[0], swapped, *blocks[2:]])
    assert [(f.code, f.element) for f in report] == [("ksk-ma-cskcb", "MA_CSKCB"),
                                                     ("ksk-ma-gtin-cskcb", "MA_GTIN_CSKCB")]
    assert "MA_GTIN_CSKCB" in report[0].hint and "MA_CSKCB" in report[1].hint and report[0].hint_vi
    short = blocks[1].replace(b"<MA_CSKCB>01001<", b"<MA_CSKCB>0100<")
    assert found([blocks[0], short, *blocks[2:]]) == [("ksk-ma-cskcb", "MA_CSKCB")]
    assert found(blocks) == []


def test_an_id_card_issued_in_the_future_is_refused() -> None:
    blocks = samples.adult_checkup("KSK1", NGAYCAP_CCCD="20990101")
    assert found(blocks) == [("ksk-date-in-future", "NGAYCAP_CCCD")]
    assert found(samples.adult_checkup("KSK1", NGAYCAP_CCCD="20210101")) == []


# ------------------------------------------------------------------ --list-rules


VALIDATOR = ("sohs_cli/validation/engine.py", "sohs_cli/validation/checkup.py", "sohs_cli/validation/xsd.py",
             "sohs_cli/documents/kskjson.py", "sohs_cli/foundation/xmlsafe.py", "sohs_cli/foundation/fileio.py")
MAKERS = {"finding_at", "_finding", "Finding", "InputError"}  # _finding: xsd.py's, an element-led one


def _codes_in(path: Path) -> set[str]:
    """The finding codes ``path`` makes: the first argument of a finding maker, a ``code=`` keyword; an
    f-string code as its constant prefix and ``*`` (``xsd:{kind}`` -> ``xsd:*``)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        args = [kw.value for kw in node.keywords if kw.arg == "code"]
        if name in MAKERS - {"InputError"} and node.args:
            args.append(node.args[0])
        for arg in args:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and "-" in arg.value + ":":
                out.add(arg.value)
            elif isinstance(arg, ast.JoinedStr) and isinstance(arg.values[0], ast.Constant):
                out.add(f"{arg.values[0].value}*")
    return out


def test_every_check_the_checkup_validator_can_report_is_in_list_rules() -> None:
    from sohs_cli.validation.checkup import CHECKS, FACILITY_CODES
    from sohs_cli.validation.rulebase import KSK_ALL
    from sohs_cli.validation.rules import RULES

    made = set().union(*(_codes_in(ROOT / p) for p in VALIDATOR))
    assert {"ksk-form-unknown", "ksk-form-content", "ksk-inner-declaration", "xsd:*", "json-invalid"} <= made
    made -= {"unwritable"}  # fileio's: writing a report, never a finding
    made |= {code for code, _ in FACILITY_CODES.values()}  # facility_codes' (a mapping)
    ksk_rules = {r.id for r in RULES if r.kinds & set(KSK_ALL) or any(
        k.startswith("KSK:") for k, _ in (r.sees or ()))}
    assert {"ksk-icd10-list", "ksk-conclusion-contradicts", "ksk-conclusion-unexplained", "bmi-mismatch",
            "blood-pressure", "ksk-date-in-future", "phan-loai-sk-better-than-organ"} <= ksk_rules
    result = CliRunner().invoke(build_app(), ["validate", "--list-rules"])
    assert result.exit_code == 0
    listed = {line.split()[0] for line in result.stdout.splitlines() if line.strip()}
    missing = sorted((made | ksk_rules) - listed)
    assert not missing, f"not listed by --list-rules: {missing}"
    assert len({c.id for c in CHECKS}) == len(CHECKS)
    for line in result.stdout.splitlines():
        if line.startswith(("ksk-form", "ksk-block")):
            assert "QĐ 2062 PL01" in line, line  # with its source


def test_the_scan_sees_a_new_finding_code(tmp_path: Path) -> None:
    """The listing test can fail: a code made in the validator and not listed is found by the scan."""
    module = tmp_path / "m.py"
    module.write_text('finding_at("ksk-new-check", "error", where, "en", "vi")\nFinding(code=f"xsd:{x}")\n')
    assert _codes_in(module) == {"ksk-new-check", "xsd:*"}


def test_a_date_written_ddmmyyyy_as_the_decisions_example_says_so_and_gives_the_fix() -> None:
    report = findings(samples.adult_checkup("KSK1", NGAY_SINH="20071985"))
    assert [(f.code, f.element) for f in report] == [("date-not-real", "NGAY_SINH")]
    assert "ddmmyyyy" in report[0].message_en and report[0].hint == "write it yyyymmdd[HHMM]: 19850720"
    real = [f for f in findings(samples.adult_checkup("KSK1", NGAY_SINH="19853107")) if f.code == "date-not-real"]
    assert "not a real date" in real[0].message_en  # neither yyyymmdd nor ddmmyyyy


def test_the_episode_rules_left_out_of_a_family_see_only_the_other_familys_tables() -> None:
    """validate runs on a checkup record only the episode rules that can see its blocks (speed, issue 13):
    a rule left out reads only tables of the other family, so it could never fire there."""
    from sohs_cli.validation.rulebase import episode_rules

    for family, other in (("ksk", False), ("bhxh", True)):
        kept = {r.id for r in episode_rules(family)}
        for r in episode_rules():
            if r.id not in kept:
                assert r.sees and all(k != "*" and k.startswith("KSK:") is other for k, _ in r.sees), r.id
    assert "phan-loai-sk-better-than-organ" in {r.id for r in episode_rules("ksk")}
    assert "phan-loai-sk-better-than-organ" not in {r.id for r in episode_rules("bhxh")}


def test_a_checkup_field_is_named_with_the_label_of_its_form() -> None:
    """Regression (issue 13): NGAY_VAO was named 'Ngày vào' (the BHYT table's label), not PL01's."""
    blocks = samples.adult_checkup("KSK1")
    blocks[1] = blocks[1].replace(b"<NGAY_VAO>202611100800<", b"<NGAY_VAO>209911100800<")
    report = findings(blocks)
    assert "NGAY_VAO (Ngày khám sức khỏe)" in report[0].message_en and report[0].label == "Ngày khám sức khỏe"
    assert "NGAY_VAO (Ngày khám sức khỏe)" in report[0].message_vi


@pytest.mark.parametrize("form", kskforms.FORMS)
def test_every_coded_field_of_every_form_holds_only_its_pl01_codes(form: int) -> None:
    """Issue 13 item 3, "codes of every coded field": each field with a code list in the PL01 table is an
    enumeration of exactly those codes in its form's schema (a ';'-list, DOI_TUONG, a pattern of them),
    and a value outside them is refused."""
    import re as regex

    import xmlschema

    checked = 0
    for block, fields in kskforms.blocks(form).items():
        if block == "CHUKYDONVI":
            continue
        schema = xmlschema.XMLSchema(str(ROOT / "xsd" / "ksk" / "2062" / f"form{form}" / f"{block}.xsd"))
        elements = {e.name: e for e in schema.elements[KSK_LOAIHOSO_ROOT[block]].type.content.iter_elements()}
        for f in (f for f in fields if f.codes):
            t = elements[f.element].type
            enum = [str(v) for v in t.enumeration or []]
            if enum:
                assert [v for v in enum if v] == list(f.codes), f"{block} {f.element}"
                assert ("" in enum) == (not f.required), f"{block} {f.element}: an optional code may be empty"
            else:  # codes separated by ';'
                pattern = t.patterns.regexps[0]
                assert regex.fullmatch(pattern, ";".join(f.codes)) and not regex.fullmatch(pattern, "99"), f.element
            assert not t.is_valid("99") or "99" in f.codes, f"{block} {f.element} takes a code PL01 does not list"
            for code in f.codes:  # TIEM_CHUNG_CAC_LOAI_KHAC was S1 with a code 99, which it then refused
                assert t.is_valid(code), f"{block} {f.element} refuses its own code {code}"
            checked += 1
    assert checked >= {1: 60, 2: 15, 3: 28}[form]  # the scan found the coded fields
