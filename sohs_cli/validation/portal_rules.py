"""The portal's own rules: every row of the BHXH validation sheet (CTN4750, ``portal_rules.csv``).

Each row keeps its stable id (``XML3.NGAY_TH_YL.gte-NGAY_YL``) and says how sohs checks it:

* ``checked``: a rule registered here under that id (or an older sohs rule, ``implemented_by``);
* ``schema``: the check is the table's XSD (the sheet's "Như 4210": type, length, required; its small
  code lists are enumerations), so its findings are ``xsd:*`` on that element;
* ``catalogue``: "Check Danh mục" against a national catalogue: the code's form is checked offline,
  the code itself only when ``--catalogue DIR`` gives the catalogue (:mod:`catalogues`);
* ``not published``: the sheet names a check it does not spell out ("Theo File công thức": the formula
  file; "Như QĐ 4210" for a requirement whose condition it does not give). Listed, not guessed.

Most rules are built from their id (``req-if-MA_NHOM-12``, ``gte-NGAY_YL``, ``numeric`` …); the few
that are not are written out below. ``tests/unit/test_portal_rules.py`` breaks and keeps each one.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import os
import re
from collections.abc import Iterator

from sohs_cli.documents.schemas import xsd_dir
from sohs_cli.foundation.i18n import N_
from sohs_cli.foundation.plain import Frozen
from sohs_cli.validation.catalogues import FORMS
from sohs_cli.validation.report import Finding
from sohs_cli.validation.rulebase import Doc, Episode, Rule, rule, value

SHEET = "CTN4750 (Check_Valid_QD4750)"

# Portal rules an older sohs rule already checks: portal id -> the code its findings carry.
ALIASES = {
    "XML0.SO_CCCD.format-id-number": "cccd-shape",
    "XML1.SO_CCCD.format-id-number": "cccd-shape",
    "XML1.MA_TTDV.10-digits": "ma-ttdv-4750",
    "XML0.NGAY_VAO_NOI_TRU.gte-NGAY_VAO": "ngay-vao-noi-tru-before-ngay-vao",
    "XML1.NGAY_VAO_NOI_TRU.gte-NGAY_VAO": "ngay-vao-noi-tru-before-ngay-vao",
    "XML14.NGAY_HEN_KL.gte-NGAY_RA": "ngay-hen-kl-before-ngay-ra",
    "XML14.NGAY_CT.gte-NGAY_VAO": "ngay-ct-before-ngay-vao",
}
SCHEMA_KINDS = ("other", "code-list")


class PortalRule(Frozen):
    __slots__ = ("element", "id", "implemented_by", "kind", "rule_en", "rule_vi", "source", "status", "table")

    def __init__(self, id: str, table: str, element: str, kind: str, rule_en: str,
                 rule_vi: str, source: str, status: str, implemented_by: str) -> None:
        self.id = id
        self.table = table
        self.element = element
        self.kind = kind  # the sheet's: other, required, cross-field, cross-table, format, code-list, catalogue
        self.rule_en = rule_en
        self.rule_vi = rule_vi  # the cell as written
        self.source = source  # "CTN4750 'Bang 3_DVKT, VTYT' G37"
        self.status = status  # checked | schema | catalogue | not published
        self.implemented_by = implemented_by  # the finding code that reports it


def _status(row: dict[str, str]) -> tuple[str, str]:
    rid, kind = row["rule_id"], row["kind"]
    if rid in ALIASES:
        return "checked", ALIASES[rid]
    if kind in SCHEMA_KINDS or rid.endswith("changed-not-required"):
        return "schema", "xsd:*"
    if rid.endswith((".req-as-QD4210", ".formula")):
        return "not published", ""
    if kind == "catalogue":
        return "catalogue", rid
    if kind == "cross-table" and row["table"] in ("XML13", "XML14"):
        return "checked", "copy-differs-from-xml1"
    return "checked", rid


@functools.cache
def portal_rules() -> tuple[PortalRule, ...]:
    with open(os.path.join(xsd_dir(), "tables", "portal_rules.csv"), encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for r in rows:
        status, by = _status(r)
        out.append(PortalRule(r["rule_id"], r["table"], r["element"], r["kind"], r["rule_en"],
                              " ".join(r["rule_vi_original"].split()),
                              f"{SHEET} '{r['source_sheet']}' {r['source_cell']}", status, by))
    return tuple(out)


# ------------------------------------------------------------------ the parts of a rule id


def _either(values: tuple[str, ...]) -> tuple[str, str]:
    return " or ".join(values), " hoặc ".join(values)


def _required(rid: str, table: str, element: str, slug: str) -> None:
    """``req-if-F`` (F has a value), ``req-if-F-v1-v2`` (F is v1 or v2, or lists one of them),
    ``req-if-no-A-B`` (A and B both empty), ``req-unless-F-v…`` (F is none of the values)."""
    tokens = slug.split("-")
    if slug.startswith("req-if-no-"):
        others = tuple(tokens[3:])
        cond_en, cond_vi = " and ".join(others) + " are empty", " và ".join(others) + " đều trống"

        def applies(rec: dict[str, str | None]) -> str | None:
            return "" if all(not value(rec, o) for o in others) else None
        reads = (element, *others)
    else:
        unless = tokens[1] == "unless"
        field, wanted = tokens[2], tuple(tokens[3:])
        wanted_set = frozenset(wanted)
        reads = (element, field)
        if not wanted:
            cond_en, cond_vi = f"{field} has a value", f"{field} có dữ liệu"
        else:
            en, vi = _either(wanted)
            cond_en, cond_vi = (f"{field} is not {en}", f"{field} không là {vi}") if unless else (
                f"{field} is {en}", f"{field} là {vi}")

        def applies(rec: dict[str, str | None]) -> str | None:
            v = rec.get(field)  # value() inlined, the list split on ";": this runs for every row of the table
            v = v.strip() if v else ""
            if not wanted:
                return v or None
            hit = bool(v) and (any(p in wanted_set for p in v.split(";") if p) if ";" in v else v in wanted_set)
            return (v or "(empty)") if hit != unless else None

    @rule(rid, "error", f"{element} is required when {cond_en} (portal)", f"{element} bắt buộc khi {cond_vi}",
          kinds=(table,), reads=reads)
    def check(r: Rule, doc: Doc) -> Iterator[Finding]:
        for row, rec in enumerate(doc.rows):
            text = rec.get(element)
            if text and not text.isspace():  # value(rec, element) is not empty
                continue
            if applies(rec) is not None:
                yield r.finding(doc, element, f"required when {cond_en}, but empty",
                                f"bắt buộc khi {cond_vi}, nhưng để trống", row=row, expected="a value",
                                found="(empty)", hint=N_("fill {element}, or check {field}"),
                                hint_fields={"element": element, "field": reads[-1]})


def _date_order(rid: str, table: str, element: str, earlier: str) -> None:
    @rule(rid, "error", f"{element} is not before {earlier} (portal)", f"{element} không được trước {earlier}",
          kinds=(table,), reads=(element, earlier))
    def check(r: Rule, doc: Doc) -> Iterator[Finding]:
        for row, rec in enumerate(doc.rows):
            a, b = value(rec, element), value(rec, earlier)
            if len(a) not in (8, 12) or len(b) not in (8, 12) or not (a.isdigit() and b.isdigit()):
                continue
            n = min(len(a), len(b))
            if a[:n] < b[:n]:
                yield r.finding(doc, element, f"{a} is before {earlier} {b}", f"{a} sớm hơn {earlier} {b}",
                                row=row, expected=f">= {b}", found=a, hint=N_("{later} must be on or after {earlier}"),
                                hint_fields={"later": element, "earlier": earlier})


def _digits(rid: str, table: str, element: str, slug: str) -> None:
    zeros = slug == "not-all-zero"
    title_en, title_vi = ((f"{element} is not all zeros (portal)", f"{element} không được toàn số 0") if zeros
                          else (f"{element} is digits only (portal)", f"{element} chỉ gồm chữ số"))

    @rule(rid, "error", title_en, title_vi, kinds=(table,), reads=(element,))
    def check(r: Rule, doc: Doc) -> Iterator[Finding]:
        for row, rec in enumerate(doc.rows):
            v = value(rec, element)
            if not v:
                continue
            if zeros and v.strip("0") == "":
                yield r.finding(doc, element, f"'{v}' is all zeros", f"'{v}' toàn số 0", row=row, found=v,
                                hint=N_("write the real BHXH number, or leave it empty when there is none"))
            elif not zeros and not (v.isascii() and v.isdigit()):
                yield r.finding(doc, element, f"'{v}' is not digits only", f"'{v}' không phải toàn chữ số",
                                row=row, found=v, expected="digits", hint=N_("the BHXH number is 10 digits"))


def _copied(rid: str, table: str, element: str) -> None:
    @rule(rid, "error", f"{table} {element} equals XML1 {element} when present (portal)",
          f"{table} {element} phải giống XML1 khi có dữ liệu", scope="episode",
          sees=((table, element), ("XML1", element)))
    def check(r: Rule, ep: Episode) -> Iterator[Finding]:
        doc, xml1 = ep.docs.get(table), ep.docs.get("XML1")
        if doc is None or xml1 is None:
            return
        theirs = value(xml1.fields, element)
        for row, rec in enumerate(doc.rows):
            mine = value(rec, element)
            if mine and mine != theirs:
                yield r.finding(doc, element, f"'{mine}' differs from XML1 {element} '{theirs}'",
                                f"'{mine}' khác XML1 {element} '{theirs}'", row=row, expected=theirs, found=mine,
                                hint=N_("copy the value from XML1, or leave it empty"))


def _catalogue(rid: str, table: str, element: str) -> None:
    form = FORMS[element]

    @rule(rid, "error", f"{element} is a code of the national catalogue {element} (portal)",
          f"{element} là mã thuộc danh mục {element}", kinds=(table,), reads=(element,))
    def check(r: Rule, doc: Doc) -> Iterator[Finding]:
        known = doc.catalogues.get(element) if doc.catalogues else None
        for row, rec in enumerate(doc.rows):
            v = value(rec, element)
            if not v:
                continue
            if known is not None:
                if v not in known:
                    yield r.finding(doc, element, f"'{v}' is not in the catalogue {element}",
                                    f"'{v}' không có trong danh mục {element}", row=row, found=v,
                                    hint=N_("use a code of {catalogue}.csv, or update the catalogue"),
                                    hint_fields={"catalogue": element})
            elif not form.fullmatch(v):
                yield r.finding(doc, element, f"'{v}' does not look like a code of {element} "
                                "(catalogue: not checked offline)",
                                f"'{v}' không giống mã của danh mục {element} (chưa đối chiếu danh mục)",
                                row=row, found=v, expected=form.pattern,
                                hint=N_("give --catalogue DIR to check the code itself")).replace(severity="warning")


def _register() -> None:
    for pr in portal_rules():
        if pr.status not in ("checked", "catalogue") or pr.implemented_by != pr.id:
            continue
        slug = pr.id.split(".", 2)[2]
        if slug.startswith(("req-if-", "req-unless-")):
            _required(pr.id, pr.table, pr.element, slug)
        elif slug.startswith("gte-") and pr.table in ("XML2", "XML3"):
            _date_order(pr.id, pr.table, pr.element, slug[4:])
        elif slug in ("numeric", "not-all-zero"):
            _digits(pr.id, pr.table, pr.element, slug)
        elif slug == "catalogue":
            _catalogue(pr.id, pr.table, pr.element)
        elif slug == "eq-XML1":
            _copied(pr.id, pr.table, pr.element)
        elif pr.id not in WRITTEN_OUT:
            raise AssertionError(f"portal rule {pr.id} has no implementation")


# ------------------------------------------------------------------ rules written out

WRITTEN_OUT = {
    "XML1.SO_NGAY_DTRI.by-MA_LOAI_KCB-01-07-09", "XML1.SO_NGAY_DTRI.by-MA_LOAI_KCB-02-03-04-06",
    "XML3.GOI_VTYT.format-G1-999", "XML6.SO_NGAY_CAP_THUOC_ARV.lte-treatment-days",
    "XML7.SO_NGAY_NGHI.co-required-leave", "XML7.NGOAITRU_TUNGAY.co-required-leave",
    "XML7.NGOAITRU_DENNGAY.co-required-leave", "XML8.MA_LK.only-if-XML1-MA_LOAI_KCB-03-04-06",
}


def _day(v: str) -> dt.date | None:
    if len(v) < 8 or not v[:8].isdigit():
        return None
    try:
        return dt.date(int(v[:4]), int(v[4:6]), int(v[6:8]))
    except ValueError:
        return None


@rule("XML1.SO_NGAY_DTRI.by-MA_LOAI_KCB-01-07-09", "error", "SO_NGAY_DTRI is 0 for MA_LOAI_KCB 01, 07, 09 (portal)",
      "SO_NGAY_DTRI = 0 khi MA_LOAI_KCB là 01, 07, 09", kinds=("XML1",), reads=("SO_NGAY_DTRI", "MA_LOAI_KCB"))
def _days_outpatient(r: Rule, doc: Doc) -> Iterator[Finding]:
    loai, days = value(doc.fields, "MA_LOAI_KCB"), value(doc.fields, "SO_NGAY_DTRI")
    if loai in ("01", "07", "09") and days and days != "0":
        yield r.finding(doc, "SO_NGAY_DTRI", f"is {days}; an episode of MA_LOAI_KCB {loai} counts 0 days",
                        f"là {days}; lượt MA_LOAI_KCB {loai} ghi 0 ngày", expected="0", found=days,
                        hint=N_("outpatient visits (01, 07, 09) count 0 treatment days"))


@rule("XML1.SO_NGAY_DTRI.by-MA_LOAI_KCB-02-03-04-06", "error",
      "SO_NGAY_DTRI = NGAY_RA - NGAY_VAO + 1 for MA_LOAI_KCB 02, 03, 04, 06 (portal)",
      "SO_NGAY_DTRI = ngày ra - ngày vào + 1 khi MA_LOAI_KCB là 02, 03, 04, 06", kinds=("XML1",),
      reads=("SO_NGAY_DTRI", "MA_LOAI_KCB", "NGAY_VAO", "NGAY_RA"))
def _days_inpatient(r: Rule, doc: Doc) -> Iterator[Finding]:
    f = doc.fields
    loai, days = value(f, "MA_LOAI_KCB"), value(f, "SO_NGAY_DTRI")
    vao, ra = _day(value(f, "NGAY_VAO")), _day(value(f, "NGAY_RA"))
    if loai not in ("02", "03", "04", "06") or vao is None or ra is None or not days.isdigit():
        return
    want = (ra - vao).days + 1
    if int(days) != want:
        yield r.finding(doc, "SO_NGAY_DTRI", f"is {days}; NGAY_RA - NGAY_VAO + 1 is {want}",
                        f"là {days}; ngày ra - ngày vào + 1 là {want}", expected=str(want), found=days,
                        hint=N_("count the days of the stay, the day of admission included"))


GOI_VTYT = re.compile(r"G[1-9][0-9]{0,2}")


@rule("XML3.GOI_VTYT.format-G1-999", "error", "GOI_VTYT is G followed by 1-999 (portal)",
      "GOI_VTYT gồm chữ G và số từ 1 đến 999", kinds=("XML3",), reads=("GOI_VTYT",))
def _goi_vtyt(r: Rule, doc: Doc) -> Iterator[Finding]:
    for row, rec in enumerate(doc.rows):
        v = value(rec, "GOI_VTYT")
        if v and not GOI_VTYT.fullmatch(v):
            yield r.finding(doc, "GOI_VTYT", f"'{v}' is not G followed by a number 1-999",
                            f"'{v}' không phải chữ G và số từ 1 đến 999", row=row, found=v, expected="G1 … G999",
                            hint=N_("the first package of the service is G1, the second G2 …"))


@rule("XML6.SO_NGAY_CAP_THUOC_ARV.lte-treatment-days", "error",
      "SO_NGAY_CAP_THUOC_ARV is at most NGAY_KET_THUC_XU_TRI - NGAY_BAT_DAU_XU_TRI (portal)",
      "SO_NGAY_CAP_THUOC_ARV không quá số ngày xử trí", kinds=("XML6",),
      reads=("SO_NGAY_CAP_THUOC_ARV", "NGAY_BAT_DAU_XU_TRI", "NGAY_KET_THUC_XU_TRI"))
def _arv_days(r: Rule, doc: Doc) -> Iterator[Finding]:
    for row, rec in enumerate(doc.rows):
        days = value(rec, "SO_NGAY_CAP_THUOC_ARV")
        start, end = _day(value(rec, "NGAY_BAT_DAU_XU_TRI")), _day(value(rec, "NGAY_KET_THUC_XU_TRI"))
        if days.isdigit() and start and end and int(days) > (end - start).days:
            most = (end - start).days
            yield r.finding(doc, "SO_NGAY_CAP_THUOC_ARV", f"{days} days of ARV, the treatment spans {most}",
                            f"cấp {days} ngày ARV, đợt xử trí chỉ {most} ngày", row=row, expected=f"<= {most}",
                            found=days)


LEAVE = ("SO_NGAY_NGHI", "NGOAITRU_TUNGAY", "NGOAITRU_DENNGAY")


def _leave_rule(element: str) -> None:
    @rule(f"XML7.{element}.co-required-leave", "error",
          "SO_NGAY_NGHI, NGOAITRU_TUNGAY and NGOAITRU_DENNGAY come together (portal)",
          "SO_NGAY_NGHI, NGOAITRU_TUNGAY, NGOAITRU_DENNGAY phải có cả ba", kinds=("XML7",), reads=LEAVE)
    def check(r: Rule, doc: Doc) -> Iterator[Finding]:
        given = [n for n in LEAVE if value(doc.fields, n)]
        if given and not value(doc.fields, element):
            yield r.finding(doc, element, f"empty, but {', '.join(given)} given: the three come together",
                            f"để trống nhưng có {', '.join(given)}: phải ghi cả ba", expected="a value",
                            found="(empty)", hint=N_("give the days and both dates of the outpatient leave, or none"))


for _name in LEAVE:
    _leave_rule(_name)


CHECKIN_ITEMS = ("MA_DICH_VU", "MA_THUOC", "MA_VAT_TU")


@rule("checkin-one-item", "warning", "A check-in row names one service, drug or supply (CTN4750 Bang Check-in)",
      "Mỗi dòng check-in ghi một dịch vụ, thuốc hoặc vật tư", kinds=("XML0",), reads=CHECKIN_ITEMS)
def _checkin_one_item(r: Rule, doc: Doc) -> Iterator[Finding]:
    """The sheet makes each of the three required only when the other two are empty (the rules
    XML0.*.req-if-no-*): one row is one of them. Two or three in one row is not what it describes; the
    portal's behaviour then is not published, so a warning."""
    for row, rec in enumerate(doc.rows):
        given = [n for n in CHECKIN_ITEMS if value(rec, n)]
        if len(given) > 1:
            yield r.finding(doc, given[1], f"{' and '.join(given)} in one row; a check-in row names one of them",
                            f"{' và '.join(given)} trong cùng một dòng; mỗi dòng check-in chỉ ghi một loại", row=row,
                            expected="one of MA_DICH_VU, MA_THUOC, MA_VAT_TU", found=", ".join(given),
                            hint=N_("send one check-in row per service, drug or supply"))


@rule("XML8.MA_LK.only-if-XML1-MA_LOAI_KCB-03-04-06", "error",
      "XML8 is sent only when XML1 MA_LOAI_KCB is 03, 04 or 06 (portal)",
      "Chỉ gửi XML8 khi MA_LOAI_KCB của XML1 là 03, 04 hoặc 06", scope="episode", sees=(("XML1", "MA_LOAI_KCB"),))
def _xml8(r: Rule, ep: Episode) -> Iterator[Finding]:
    doc, xml1 = ep.docs.get("XML8"), ep.docs.get("XML1")
    if doc is None or xml1 is None:
        return
    loai = value(xml1.fields, "MA_LOAI_KCB")
    if loai not in ("03", "04", "06"):
        yield r.finding(doc, "MA_LK", f"a medical-record summary XML8, but XML1 MA_LOAI_KCB is {loai or '(empty)'}",
                        f"có tóm tắt hồ sơ XML8 nhưng MA_LOAI_KCB của XML1 là {loai or '(trống)'}",
                        expected="03, 04 or 06", found=loai, hint=N_("send XML8 only for inpatient stays"))


_register()
