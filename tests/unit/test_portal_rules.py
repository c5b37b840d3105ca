"""Every rule of the portal sheet (portal_rules.csv), both ways: it fires on a file that breaks it and
stays silent on one that keeps it. One parametrized test per kind of rule; the rules that are not
built from their id have their own cases."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sohs_cli.documents import samples
from sohs_cli.documents.kinds import pack
from sohs_cli.validation.engine import ValidateOptions, validate_bytes
from sohs_cli.validation.portal_rules import PortalRule, portal_rules

LK = "LK000000000123"
DAY = "20240603"  # a 4750 episode: every rule of the sheet applies as written
STD = "4750"
RULES = {r.id: r for r in portal_rules()}


def row_of(loai: str, element: str) -> dict[str, str]:
    table = "xml0_4750" if loai == "XML0" else f"{loai.lower()}_{STD}"
    return next(r for r in samples.table_rows(table) if r["element"] == element)


def fill(loai: str, element: str) -> str:
    return samples.sample_value(row_of(loai, element), DAY)


def findings(loai: str, values: dict[str, str], xml1: dict[str, str] | None = None,
             catalogues: dict[str, frozenset[str]] | None = None) -> list[tuple[str, str]]:
    """(code, element) of every finding on one table, inside an envelope with its XML1 (unless XML0/XML1)."""
    doc = samples.table(loai, STD, LK, values, day=DAY)
    if loai not in ("XML0", "XML1"):
        base = samples.xml1_values(STD, LK, ngay_vao=DAY + "0800")
        base.update(xml1 or {})
        x1 = samples.render("TONG_HOP", f"xml1_{STD}", base)
        doc = pack([("x1", x1), ("t", doc)], facility="79001").data
    opts = ValidateOptions(standard=STD, catalogues=catalogues)
    return [(f.code, f.element) for f in validate_bytes(doc, "t.xml", opts).findings]


def by_kind(*slugs: str) -> list[PortalRule]:
    return [r for r in RULES.values() if r.status == "checked" and r.id.split(".", 2)[2].startswith(slugs)]


def test_every_row_of_the_sheet_is_a_rule() -> None:
    assert len(RULES) == 184  # portal_rules.csv: 184 rows, one id each
    assert {r.status for r in RULES.values()} == {"checked", "schema", "catalogue", "not published"}
    for r in RULES.values():
        assert r.table and r.element and r.source.startswith("CTN4750") and r.rule_vi


# ---------------------------------------------------------------- conditional requirements


def condition(rule: PortalRule) -> dict[str, str]:
    """Values that make the rule's condition true (its element then must have a value)."""
    tokens = rule.id.split(".", 2)[2].split("-")
    if tokens[:3] == ["req", "if", "no"]:
        return {o: "" for o in tokens[3:]}
    field, wanted = tokens[2], tokens[3:]
    if tokens[1] == "unless":
        return {field: "1" if "1" not in wanted else "2"}
    return {field: wanted[0] if wanted else fill(rule.table, field)}


@pytest.mark.parametrize("rule", by_kind("req-if-", "req-unless-"), ids=lambda r: r.id)
def test_conditional_requirement(rule: PortalRule) -> None:
    when = condition(rule)
    broken = findings(rule.table, {**when, rule.element: ""})
    assert (rule.id, rule.element) in broken
    kept = findings(rule.table, {**when, rule.element: fill(rule.table, rule.element) or "X"})
    assert rule.id not in {c for c, _ in kept}
    # the condition false: no requirement
    if rule.id.split(".", 2)[2].startswith("req-if-") and "-no-" not in rule.id:
        field = next(iter(when))
        other = "" if not rule.id.split(".", 2)[2].split("-")[3:] else "9"
        assert rule.id not in {c for c, _ in findings(rule.table, {field: other, rule.element: ""})}


# ---------------------------------------------------------------- dates in order


@pytest.mark.parametrize("rule", by_kind("gte-"), ids=lambda r: r.id)
def test_date_order(rule: PortalRule) -> None:
    earlier = rule.id.split(".", 2)[2][4:]
    base = {earlier: DAY + "1000"}
    if rule.table in ("XML0", "XML1"):
        base["NGAY_RA"] = DAY + "1130"
    shape = lambda d: d[:8] if len(fill(rule.table, rule.element)) == 8 else d  # noqa: E731
    day_before = str(int(DAY) - 1)
    broken = findings(rule.table, {**base, rule.element: shape(day_before + "0900")})
    assert (rule.implemented_by, rule.element) in broken
    kept = findings(rule.table, {**base, rule.element: shape(DAY + "1100")})
    assert rule.implemented_by not in {c for c, _ in kept}


# ---------------------------------------------------------------- digits, copies of XML1


@pytest.mark.parametrize("rule", by_kind("numeric", "not-all-zero"), ids=lambda r: r.id)
def test_bhxh_number(rule: PortalRule) -> None:
    bad = "0000000000" if rule.id.endswith("not-all-zero") else "79123A5678"
    assert (rule.id, rule.element) in findings(rule.table, {rule.element: bad})
    assert rule.id not in {c for c, _ in findings(rule.table, {rule.element: "7912345678"})}


@pytest.mark.parametrize("rule", [r for r in RULES.values() if r.kind == "cross-table" and r.id.endswith("eq-XML1")],
                         ids=lambda r: r.id)
def test_copy_of_xml1(rule: PortalRule) -> None:
    xml1_name = "PP_DIEU_TRI" if rule.element == "PP_DIEUTRI" else rule.element
    if rule.table in ("XML13", "XML14"):  # through the slip's own field table (copy-differs-from-xml1)
        base = samples.xml1_values(STD, LK, ma_loai_rv="2")
        make = samples.xml13 if rule.table == "XML13" else samples.xml14

        def codes(value: str) -> list[tuple[str, str]]:
            env = pack([("x1", samples.render("TONG_HOP", f"xml1_{STD}", base)),
                        ("t", make(STD, LK, base, **{rule.element: value}))], facility="79001").data
            return [(f.code, f.element) for f in validate_bytes(env, "t.xml").findings]
        theirs = base.get(xml1_name, "") or "79010"
        base[xml1_name] = theirs
        assert (rule.implemented_by, rule.element) in codes(theirs + "Z")
        assert rule.implemented_by not in {c for c, _ in codes(theirs)}
        return
    theirs = samples.xml1_values(STD, LK, ngay_vao=DAY + "0800")[xml1_name]
    other = theirs[:-1] + ("8" if theirs.endswith("9") else "9")
    assert (rule.id, rule.element) in findings(rule.table, {rule.element: other})
    assert rule.id not in {c for c, _ in findings(rule.table, {rule.element: theirs})}
    assert rule.id not in {c for c, _ in findings(rule.table, {rule.element: ""})}  # "if present"


# ---------------------------------------------------------------- written out

WRITTEN = {  # rule id -> (table, breaking values, keeping values, XML1 values)
    "XML1.SO_NGAY_DTRI.by-MA_LOAI_KCB-01-07-09": ("XML1", {"MA_LOAI_KCB": "07", "SO_NGAY_DTRI": "1"},
                                                  {"MA_LOAI_KCB": "07", "SO_NGAY_DTRI": "0"}, {}),
    "XML1.SO_NGAY_DTRI.by-MA_LOAI_KCB-02-03-04-06": (
        "XML1", {"MA_LOAI_KCB": "03", "NGAY_VAO": "202406010800", "NGAY_RA": "202406031000", "SO_NGAY_DTRI": "2"},
        {"MA_LOAI_KCB": "03", "NGAY_VAO": "202406010800", "NGAY_RA": "202406031000", "SO_NGAY_DTRI": "3"}, {}),
    "XML3.GOI_VTYT.format-G1-999": ("XML3", {"GOI_VTYT": "G0"}, {"GOI_VTYT": "G12"}, {}),
    "XML6.SO_NGAY_CAP_THUOC_ARV.lte-treatment-days": (
        "XML6", {"NGAY_BAT_DAU_XU_TRI": "20240601", "NGAY_KET_THUC_XU_TRI": "20240631"[:6] + "30",
                 "SO_NGAY_CAP_THUOC_ARV": "30"},
        {"NGAY_BAT_DAU_XU_TRI": "20240601", "NGAY_KET_THUC_XU_TRI": "20240630", "SO_NGAY_CAP_THUOC_ARV": "29"}, {}),
    "XML7.SO_NGAY_NGHI.co-required-leave": ("XML7", {"NGOAITRU_TUNGAY": DAY, "NGOAITRU_DENNGAY": DAY},
                                            {"NGOAITRU_TUNGAY": DAY, "NGOAITRU_DENNGAY": DAY, "SO_NGAY_NGHI": "1"}, {}),
    "XML7.NGOAITRU_TUNGAY.co-required-leave": ("XML7", {"SO_NGAY_NGHI": "1"}, {}, {}),
    "XML7.NGOAITRU_DENNGAY.co-required-leave": ("XML7", {"SO_NGAY_NGHI": "1", "NGOAITRU_TUNGAY": DAY},
                                                {"SO_NGAY_NGHI": "1", "NGOAITRU_TUNGAY": DAY,
                                                 "NGOAITRU_DENNGAY": DAY}, {}),
    "XML8.MA_LK.only-if-XML1-MA_LOAI_KCB-03-04-06": ("XML8", {}, {}, {"MA_LOAI_KCB": "01"}),
    "XML0.MA_DOITUONG_KCB.catalogue": ("XML0", {"MA_DOITUONG_KCB": "A1"}, {"MA_DOITUONG_KCB": "3.1"}, {}),
    "XML3.MA_KHOA.catalogue": ("XML3", {"MA_KHOA": "Khoa1"}, {"MA_KHOA": "K01"}, {}),
    "XML0.SO_CCCD.format-id-number": ("XML0", {"SO_CCCD": "12345"}, {"SO_CCCD": "079190001234"}, {}),
    "XML1.SO_CCCD.format-id-number": ("XML1", {"SO_CCCD": "A12345678"}, {"SO_CCCD": "B1234567"}, {}),
    "XML1.MA_TTDV.10-digits": ("XML1", {"MA_TTDV": "790123456"}, {"MA_TTDV": "7901234567"}, {}),
}


@pytest.mark.parametrize("rule_id", sorted(WRITTEN))
def test_written_out_rule(rule_id: str) -> None:
    rule = RULES[rule_id]
    table, bad, good, xml1 = WRITTEN[rule_id]
    if rule_id.startswith("XML8"):  # the keeping file is an inpatient stay
        assert (rule.id, rule.element) in findings(table, bad, xml1)
        assert rule.id not in {c for c, _ in findings(table, good, {"MA_LOAI_KCB": "03"})}
        return
    assert (rule.implemented_by, rule.element) in findings(table, bad, xml1)
    assert rule.implemented_by not in {c for c, _ in findings(table, good, xml1)}


def test_every_checked_rule_has_a_test() -> None:
    tested = {r.id for r in by_kind("req-if-", "req-unless-", "gte-", "numeric", "not-all-zero", "eq-XML1")}
    tested |= set(WRITTEN)
    need = {r.id for r in RULES.values() if r.status in ("checked", "catalogue")}
    assert need - tested == set()


# ---------------------------------------------------------------- the schema's share


def breaking(rule: PortalRule) -> tuple[dict[str, str], str]:
    """A value of the rule's element the schema refuses, and the finding code expected."""
    row = row_of(rule.table, rule.element)
    if row["required"] == "yes":
        return {rule.element: ""}, "xsd:required-empty"
    if row["max_length"] != "n":
        return {rule.element: "1" * (int(row["max_length"]) + 101)}, "xsd:"
    if row["type"] == "number" or row["format"]:  # a pattern, a code list, or a sohs rule (card-length)
        return {rule.element: "#"}, ""
    return {}, "repeat"


@pytest.mark.parametrize("rule", [r for r in RULES.values() if r.status == "schema"], ids=lambda r: r.id)
def test_schema_rule(rule: PortalRule) -> None:
    values, code = breaking(rule)
    if rule.id.endswith("changed-not-required"):  # TOMTAT_KQ: no longer required, an empty one passes
        assert not [f for f in findings(rule.table, {rule.element: ""}) if f[1] == rule.element]
        return
    if code == "repeat":  # free text of any length: the schema's share is its place and count
        doc = samples.table(rule.table, STD, LK, {rule.element: "A"}, day=DAY)
        doc = doc.replace(f"<{rule.element}>A</{rule.element}>".encode(),
                          f"<{rule.element}>A</{rule.element}><{rule.element}>B</{rule.element}>".encode(), 1)
        assert ("xsd:repeated-element", rule.element) in [
            (f.code, f.element) for f in validate_bytes(doc, "t.xml", ValidateOptions(standard=STD)).findings]
        return
    assert any(c.startswith(code) and e == rule.element for c, e in findings(rule.table, values))
    assert not [c for c, e in findings(rule.table, {}) if e == rule.element]


def test_rules_the_sheet_does_not_publish_are_listed_not_guessed() -> None:
    hidden = [r for r in RULES.values() if r.status == "not published"]
    assert len(hidden) == 10 and all(r.implemented_by == "" for r in hidden)
    assert all(re.search(r"(formula|req-as-QD4210)$", r.id) for r in hidden)


# ---------------------------------------------------------------- catalogues


def test_a_catalogue_turns_the_form_check_into_a_full_check(tmp_path: Path) -> None:
    from sohs_cli.validation.catalogues import CatalogueError, load

    (tmp_path / "MA_KHOA.csv").write_text("code,name\nK01,Khoa Khám bệnh\nK02,Khoa Hồi sức\n", encoding="utf-8")
    cats = load(str(tmp_path))
    rule = RULES["XML3.MA_KHOA.catalogue"]
    assert (rule.id, "MA_KHOA") in findings("XML3", {"MA_KHOA": "K48"}, catalogues=cats)  # well formed, unknown
    assert rule.id not in {c for c, _ in findings("XML3", {"MA_KHOA": "K48"})}  # offline: form only
    assert rule.id not in {c for c, _ in findings("XML3", {"MA_KHOA": "K02"}, catalogues=cats)}
    (tmp_path / "MA_KHOA.csv").write_text("ma,ten\nK01,x\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="no 'code' column"):
        load(str(tmp_path))
    (tmp_path / "MA_KHOA.csv").write_bytes(b"code\n\xff\xfe\n")
    with pytest.raises(CatalogueError, match="not UTF-8"):
        load(str(tmp_path))


def test_a_check_in_row_names_one_service_drug_or_supply() -> None:
    """Exactly one of MA_DICH_VU / MA_THUOC / MA_VAT_TU (issue 14): none is the sheet's error, two a warning."""
    assert "checkin-one-item" not in {c for c, _ in findings("XML0", {})}  # the sample names a service
    two = findings("XML0", {"MA_THUOC": "40.17", "TEN_THUOC": "Paracetamol"})
    assert ("checkin-one-item", "MA_THUOC") in two
    none = findings("XML0", {"MA_DICH_VU": "", "TEN_DICH_VU": ""})
    assert ("XML0.MA_DICH_VU.req-if-no-MA_THUOC-MA_VAT_TU", "MA_DICH_VU") in none
