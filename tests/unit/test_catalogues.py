"""National catalogues given with ``--catalogue DIR`` (issue 14): every catalogue rule, on every field
it covers, both ways (a code of the catalogue passes, a well-formed code outside it is an error), the
forms the decisions allow beside a catalogue code, silence without the catalogue, and one clear error
for each way a catalogue file can be malformed. The catalogue files are written here, small."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from sohs_cli.documents import samples
from sohs_cli.documents.kinds import pack
from sohs_cli.validation.catalogues import FILES, CatalogueError, load
from sohs_cli.validation.engine import ValidateOptions, validate_bytes
from sohs_cli.validation.rules import RULES

LK = "LK000000000123"
DAY = "20240603"

# the codes the sample tables carry (XML1: I25.9, I10, E11.9, 79001; XML0: 02.1896), and the test's own
CATALOGUES = {
    "ICD10": ["I25.9", "I10", "E11.9", "J18.9", "A17.0†"],
    "MA_THUOC": ["40.17", "40.573", "05C.12"],
    "MA_DICH_VU": ["02.1896", "13.0001.0100", "01.0001.1778"],
    "MA_VAT_TU": ["N07.07.010.2", "N01.01.010"],
    "MA_CSKCB": ["79001", "79010", "01001"],
}
KNOWN = {"ICD10": "J18.9", "MA_THUOC": "40.17", "MA_DICH_VU": "13.0001.0100", "MA_VAT_TU": "N07.07.010.2",
         "MA_CSKCB": "79010"}
UNKNOWN = {"ICD10": "J18.8", "MA_THUOC": "40.999", "MA_DICH_VU": "13.0001.0199", "MA_VAT_TU": "N99.99.999",
           "MA_CSKCB": "79999"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("danhmuc")
    for name, codes in CATALOGUES.items():
        with open(base / f"{name}.csv", "w", encoding="utf-8-sig", newline="") as fh:  # as Excel saves it
            w = csv.writer(fh)
            w.writerow(["code", "name"])
            for c in codes:
                w.writerow([c, f"tên {c}"])
    return base


def in_schema(table: str, element: str) -> str:
    """The standard whose table has ``element`` (XML13's MA_CSKCB_DI is QĐ 3176 only)."""
    for std in ("4750", "3176"):
        name = "xml0_4750" if table == "XML0" else f"{table.lower()}_{std}"
        if any(r["element"] == element for r in samples.table_rows(name)):
            return std
    raise AssertionError(f"{table}.{element} is in no field table")


def codes_found(table: str, values: dict[str, str], catalogues: dict[str, frozenset[str]] | None,
                std: str = "4750") -> list[tuple[str, str, str]]:
    """(code, element, found) of every finding on one table (in an envelope with its XML1 unless XML0/XML1)."""
    day = DAY if std == "4750" else "20251103"
    doc = samples.table(table, std, LK, values, day=day)
    if table not in ("XML0", "XML1"):
        x1 = samples.render("TONG_HOP", f"xml1_{std}", samples.xml1_values(std, LK, ngay_vao=day + "0800"))
        doc = pack([("x1", x1), ("t", doc)], facility="79001").data
    opts = ValidateOptions(standard=std, catalogues=catalogues)
    return [(f.code, f.element, f.found) for f in validate_bytes(doc, "t.xml", opts).findings]


FIELDS = [(cat.rule_id, cat.file, table, element) for cat in FILES.values() if cat.rule_id
          for table, names in cat.fields.items() for element in names]


def test_every_catalogue_field_is_a_field_of_its_table() -> None:
    for _, _, table, element in FIELDS:
        in_schema(table, element)
    assert {r for r, *_ in FIELDS} == {"catalogue-icd10", "catalogue-drug", "catalogue-service", "catalogue-supply",
                                       "catalogue-facility"}
    assert all(r.severity == "error" for r in RULES if r.needs)


@pytest.mark.parametrize(("rule_id", "file", "table", "element"), FIELDS, ids=[f"{t}.{e}" for _, _, t, e in FIELDS])
def test_a_catalogue_rule_both_ways(folder: Path, rule_id: str, file: str, table: str, element: str) -> None:
    cats = load(str(folder))
    std = in_schema(table, element)
    broken = codes_found(table, {element: UNKNOWN[file]}, cats, std)
    assert (rule_id, element, UNKNOWN[file]) in broken
    kept = codes_found(table, {element: KNOWN[file]}, cats, std)
    assert rule_id not in {c for c, _, _ in kept}, kept
    # without the catalogue: not checked (the form rules and the schema still are)
    assert rule_id not in {c for c, _, _ in codes_found(table, {element: UNKNOWN[file]}, None, std)}
    # with other catalogues only: not checked either
    others = {k: v for k, v in cats.items() if k != file}
    assert rule_id not in {c for c, _, _ in codes_found(table, {element: UNKNOWN[file]}, others, std)}


@pytest.mark.parametrize(("table", "element", "kept", "broken"), [
    ("XML1", "MA_BENH_CHINH", "J189", "J188"),  # compared without the dot
    ("XML1", "MA_BENH_CHINH", "A17.0", "A17.1"),  # the catalogue's dagger mark is not part of the code
    ("XML1", "MA_BENH_KT", "I10;J18.9", "I10;K29.7"),
    ("XML2", "MA_THUOC", "40.17+40.573", "40.17+40.999"),  # an in-house preparation: ingredients joined by +
    ("XML2", "MA_THUOC", "40.17.KTNAT", "40.999.KT"),  # blood products with tests added
    ("XML2", "MA_THUOC", "2019.VD-12345-19", "19.VD-12345-19"),  # YYYY.SĐK: an ingredient outside the BHYT list
    ("XML0", "MA_THUOC", "00.0000", "00.0001"),  # the check-in table's drug outside the list (QĐ 4750)
    ("XML2", "MA_DICH_VU", "02.1896;13.0001.0100", "02.1896;02.9999"),
    ("XML3", "MA_DICH_VU", "13.0001.0100_TB", "13.0001.0199_TB"),  # stopped for clinical reasons
    ("XML3", "MA_DICH_VU", "13.0001.0100_GT", "13.0001.0100_XX"),  # local anaesthesia
    ("XML3", "MA_DICH_VU", "13.0001.0000", "13.0002.0000"),  # approved, without a price: XX.YYYY.0000
    ("XML4", "MA_DICH_VU", "13.0001.0100.K.79010", "13.0001.0199.K.79010"),  # performed at another facility
    ("XML3", "MA_VAT_TU", "N07.07.010.2.K01920", "N07.07.010.9.K01920"),  # a kit from another unit
    ("XML1", "MA_DKBD", "79001;79000", "79001;79998"),  # 79000: a temporary card (province + 000)
])
def test_forms_the_decisions_allow_beside_a_catalogue_code(folder: Path, table: str, element: str, kept: str,
                                                           broken: str) -> None:
    cats = load(str(folder))
    rule_id = next(c.rule_id for c in FILES.values() if element in c.fields.get(table, ()))
    assert rule_id not in {c for c, _, _ in codes_found(table, {element: kept}, cats)}
    assert rule_id in {c for c, e, _ in codes_found(table, {element: broken}, cats) if e == element}


def test_a_malformed_code_is_left_to_its_form_rule(folder: Path) -> None:
    """One finding per mistake: a code that is no ICD-10 code at all is icd10-shape's, not the catalogue's."""
    found = codes_found("XML1", {"MA_BENH_KT": "I10;XYZ"}, load(str(folder)))
    assert ("icd10-shape", "MA_BENH_KT", "XYZ") in found
    assert "catalogue-icd10" not in {c for c, _, _ in found}


def test_the_message_names_the_catalogue_and_the_hint_the_fix(folder: Path) -> None:
    doc = samples.table("XML1", "4750", LK, {"MA_BENH_CHINH": "J18.8"}, day=DAY)
    f = next(f for f in validate_bytes(doc, "t.xml", ValidateOptions(catalogues=load(str(folder)))).findings
             if f.code == "catalogue-icd10")
    assert "'J18.8' is not in the catalogue ICD10.csv" in f.message_en and "ICD10.csv" in f.message_vi
    assert "ICD10.csv" in f.hint and f.label and f.line


# ------------------------------------------------------------------ malformed files: one line, file and line


@pytest.mark.parametrize(("name", "content", "message"), [
    ("ICD10.csv", b"code,name\nJ18.9,x\n\xff\xfe,y\n", "ICD10.csv, line 3: not UTF-8"),
    ("ICD10.csv", b"ma,ten\nJ18.9,x\n", "ICD10.csv, line 1: no 'code' column"),
    ("ICD10.csv", b"code,name\nJ18.9,x\nthuoc 40.17,y\n", "ICD10.csv, line 3: 'thuoc 40.17' is not one code"),
    ("ICD10.csv", b"code,name\nJ18.9,x\n40.17,y\n", "ICD10.csv, line 3: '40.17' is not a code of ICD10.csv"),
    ("MA_CSKCB.csv", b"code\n79001\n7900\n", "MA_CSKCB.csv, line 3: '7900' is not a code of MA_CSKCB.csv"),
    ("MA_THUOC.csv", b"name,code\nOxy,40.17\nParacetamol\n", "MA_THUOC.csv, line 3: no code in the 'code' column"),
    ("MA_DICH_VU.csv", b'code,name\n02.1896,"Kh\xc3\xa1m\n13.0001.0100,x\n', "MA_DICH_VU.csv, line 3: not a CSV"),
    ("MA_VAT_TU.csv", b'code,name\n"N07.07.010.2"x,y\n', "MA_VAT_TU.csv, line 2: not a CSV"),
    ("MA_VAT_TU.csv", b"code,name\nN01;N02,x\n", "MA_VAT_TU.csv, line 2: 'N01;N02' is not one code"),
    ("MA_THUOC.csv", b"code,name\n\n", "MA_THUOC.csv: holds no code"),
])
def test_a_malformed_catalogue_is_one_error_naming_the_file_and_the_line(tmp_path: Path, name: str, content: bytes,
                                                                          message: str) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(CatalogueError) as err:
        load(str(tmp_path))
    assert message in err.value.message and "\n" not in err.value.message
    assert err.value.exit_code == 3


def test_what_a_spreadsheet_writes_is_read(tmp_path: Path) -> None:
    """BOM or none, CRLF, quotes, blank rows, the code column anywhere, codes compared as written."""
    (tmp_path / "MA_DICH_VU.csv").write_bytes(b'\xef\xbb\xbfName,CODE\r\n"Kh\xc3\xa1m, b\xe1\xbb\x87nh",02.1896\r\n'
                                              b"\r\n,\r\nx,13.0001.0100\r\n")
    (tmp_path / "MA_CSKCB.csv").write_bytes(b"code\n79001\n")
    cats = load(str(tmp_path))
    assert cats == {"MA_DICH_VU": frozenset({"02.1896", "13.0001.0100"}), "MA_CSKCB": frozenset({"79001"})}


def test_a_folder_without_catalogues_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="no catalogue file in it"):
        load(str(tmp_path))
    with pytest.raises(CatalogueError, match="not a folder"):
        load(str(tmp_path / "missing"))


# ------------------------------------------------------------------ offline: the form of the codes


@pytest.mark.parametrize(("table", "element", "kept", "broken"), [
    ("XML2", "MA_THUOC", "40.17+40.573", "40.17, 40.573"),  # a comma and a space: no code
    ("XML2", "MA_THUOC", "2019.VD-12345-19", "40.17++40.573"),  # an empty ingredient
    ("XML2", "MA_DICH_VU", "02.1896;13.0001.0100", "02.1896,13.0001.0100"),  # services: ';', not ','
    ("XML3", "MA_DICH_VU", "13.0001.0100_TB", "13.0001.0100;02.1896"),  # one service a row
    ("XML3", "MA_VAT_TU", "N07.07.010.2.K01920", "N07.07 010.2"),
    ("XML4", "MA_DICH_VU", "13.0001.0100.K.79010", "13.0001.0100 "),  # only trailing layout: kept
    ("XML0", "MA_THUOC", "40.17", "40.17;40.573"),
    ("XML0", "MA_VAT_TU", "N01.01.010", "N01.01.010,N02"),
])
def test_codes_without_a_published_grammar_are_checked_for_form_offline(table: str, element: str, kept: str,
                                                                        broken: str) -> None:
    """Offline (no --catalogue), drug, service and supply codes are checked for what no code holds: a
    warning, listed as 'catalogue: not checked offline'."""
    assert "catalogue-code-form" not in {c for c, e, _ in codes_found(table, {element: kept}, None)}
    found = codes_found(table, {element: broken}, None)
    if broken.strip() == broken:
        assert ("catalogue-code-form", element, broken) in found
    else:  # layout around a value is not part of it (the portal trims it)
        assert "catalogue-code-form" not in {c for c, _, _ in found}
    assert next(r for r in RULES if r.id == "catalogue-code-form").severity == "warning"


def test_a_malformed_code_is_one_finding_with_the_catalogue_too(folder: Path) -> None:
    found = codes_found("XML2", {"MA_THUOC": "40.17, 40.573"}, load(str(folder)))
    assert ("catalogue-code-form", "MA_THUOC", "40.17, 40.573") in found
    assert "catalogue-drug" not in {c for c, _, _ in found}
