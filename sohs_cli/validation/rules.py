"""Business rules beyond the XSD, in one declarative registry.

Why a Python registry and not ISO Schematron: lxml's Schematron is XSLT 1.0 (no date arithmetic,
no regex), runs one XSLT pass per document (several times slower than these checks, and validate
must stay within 2x of xmllint), and cannot carry bilingual messages with expected/found values
cleanly. Here each rule is one small function with a stable id, severity and vi/en text, listed in
``RULES`` (``sohs validate --list-rules`` prints them). The vi/en texts are inline pairs, the rules'
own catalog; hints go through ``N_()`` (rulebase.py, "Languages", says why and how).

Two scopes: ``document`` rules see one table; ``episode`` rules see all tables of one HOSO (the
cross-checks the portal runs against Bảng 1, CTN4750: "Nếu có dữ liệu thì phải giống … bảng 1").
"""

from __future__ import annotations

import csv
import functools
import os
import re
from collections.abc import Iterator

from sohs_cli.documents.schemas import decision_lengths, xsd_dir
from sohs_cli.foundation.i18n import N_
from sohs_cli.validation import portal_rules as _portal_rules  # noqa: F401 - registers the sheet's rules
from sohs_cli.validation.report import Finding
from sohs_cli.validation.rulebase import (
    BHXH,
    KSK_ALL,
    NO_CATALOGUE,
    RULES,
    Doc,
    Episode,
    Rule,
    document_reads,
    document_rules,
    episode_reads,
    episode_rules,
    rule,
    value,
)
from sohs_cli.validation.xsd import portal_length

# The engine, the CLI and the SARIF renderer import the registry from here, so that importing it
# also registers every rule below, and the portal sheet's rules (portal_rules); the checkup rules
# join it with ``with_checkup_rules()``.
__all__ = ["NO_CATALOGUE", "RULES", "Doc", "Episode", "Rule", "document_reads", "document_rules", "episode_reads",
           "episode_rules", "with_checkup_rules"]


def with_checkup_rules() -> list[Rule]:
    """Every rule, the checkup rules (QĐ 2062, ``checkup_rules``) among them: imported only for a
    checkup record, a listing of the rules or a SARIF report, not for a BHYT export (start-up)."""
    from sohs_cli.validation import checkup_rules  # noqa: F401 - registers the checkup rules

    return RULES


# A quick yes for almost every date: days 01-28 of any month, 29-30 of any month but February, 31 of
# the long months (29 February and anything odd go to _real_date).
_SURELY_REAL = re.compile(r"(?:19|20)\d\d(?:(?:0[1-9]|1[0-2])(?:0[1-9]|1\d|2[0-8])|(?:0[13-9]|1[0-2])(?:29|30)"
                          r"|(?:0[13578]|1[02])31)(?:(?:[01]\d|2[0-3])[0-5]\d)?")
_MONTH_DAYS = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _real_date(v: str, allow_unknown: bool) -> bool:
    if len(v) not in (8, 12) or not v.isdigit():
        return True  # shape is the XSD's business; only judge well-shaped values here
    y, m, d = int(v[:4]), int(v[4:6]), int(v[6:8])
    if allow_unknown and m == 0 and d == 0:
        return True
    if y < 1900 or not (1 <= m <= 12) or not (1 <= d <= _MONTH_DAYS[m]):
        return False
    if m == 2 and d == 29 and not (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)):
        return False
    return len(v) == 8 or (int(v[8:10]) < 24 and int(v[10:12]) < 60)


DATE_FIELDS = (
    "NGAY_SINH", "NGAY_VAO", "NGAY_VAO_NOI_TRU", "NGAY_RA", "NGAY_YL", "NGAY_TTOAN", "NGAY_HEN_KL",
    "GT_THE_TU", "GT_THE_DEN", "NGAY_CT", "NAM_NAM_LIEN_TUC", "NGAY_TAI_KHAM", "NGAY_MIEN_CCT",
    "NGAYCAP_CCCD",
)


_DATE_ORDER = DATE_FIELDS
_DATE_SET = frozenset(DATE_FIELDS)

# ------------------------------------------------------------------ document rules

@rule("date-not-real", "error", "Dates are real calendar dates", "Ngày tháng phải là ngày có thật",
      kinds=BHXH + KSK_ALL, reads=DATE_FIELDS)
def _dates_real(r: Rule, doc: Doc) -> Iterator[Finding]:
    for row, rec in enumerate(doc.rows):
        for name in _DATE_ORDER if len(rec) > 14 else sorted(rec.keys() & _DATE_SET, key=_DATE_ORDER.index):
            text = rec.get(name)  # value() inlined: this loop runs for every record
            if not text or not (text := text.strip()):
                continue
            for part in filter(None, text.split(";")) if ";" in text else (text,):
                if not _SURELY_REAL.fullmatch(part) and not _real_date(part, allow_unknown=name == "NGAY_SINH"):
                    if doc.kind.startswith("KSK:") and len(part) == 8 and _real_date(part[4:] + part[2:4] + part[:2],
                                                                                     False):
                        # the decision's checkup example prints dates ddmmyyyy; PL01 says "as QĐ 3176"
                        fixed = part[4:] + part[2:4] + part[:2]
                        yield r.finding(doc, name, f"'{part}' is a date written ddmmyyyy (as the decision's example "
                                        "prints it), not yyyymmdd as QĐ 3176 writes it, which PL01 refers to",
                                        f"'{part}' là ngày ghi ddmmyyyy (như ví dụ của quyết định), không phải "
                                        "yyyymmdd theo QĐ 3176 mà PL01 dẫn chiếu", row=row, found=part, expected=fixed,
                                        hint=N_("write it yyyymmdd[HHMM]: {fixed}"), hint_fields={"fixed": fixed})
                        continue
                    yield r.finding(doc, name, f"'{part}' is not a real date or time",
                                    f"'{part}' không phải ngày giờ có thật", row=row, found=part,
                                    expected="a real date (month 01-12, day within the month, hour < 24)")


def _order_rule(rule_id: str, later: str, earlier: str, kinds: tuple[str, ...], source: str) -> None:
    @rule(rule_id, "error", f"{later} is not before {earlier} ({source})",
          f"{later} không được trước {earlier} ({source})", kinds=kinds, reads=(later, earlier))
    def check(r: Rule, doc: Doc) -> Iterator[Finding]:
        for row, rec in enumerate(doc.rows):
            a = value(rec, later)
            b = value(rec, earlier)
            if len(a) not in (8, 12) or len(b) not in (8, 12) or not (a.isdigit() and b.isdigit()):
                continue
            n = min(len(a), len(b))  # 3176 NGAY_HEN_KL is a date: compare on the date part
            if a[:n] < b[:n]:
                yield r.finding(doc, later, f"{a} is before {earlier} {b}",
                                f"{a} sớm hơn {earlier} {b}", row=row, expected=f">= {b}", found=a,
                                hint=N_("{later} must be on or after {earlier}"),
                                hint_fields={"later": later, "earlier": earlier})


_order_rule("ngay-hen-kl-before-ngay-ra", "NGAY_HEN_KL", "NGAY_RA", ("XML14",), "CTN4750 Bảng 14")
_order_rule("ngay-ct-before-ngay-vao", "NGAY_CT", "NGAY_VAO", ("XML14",), "CTN4750 Bảng 14")
_order_rule("ngay-vao-noi-tru-before-ngay-vao", "NGAY_VAO_NOI_TRU", "NGAY_VAO", BHXH, "CTN4750")
_order_rule("ngay-ra-before-ngay-vao", "NGAY_RA", "NGAY_VAO", ("XML1", "XML13", "XML14"), "QĐ 4750 Bảng 1")

CARD_RE = re.compile(r"[A-Z]{2}[1-5][0-9]{2}[0-9]{10}")


@rule("card-length", "error", "Each MA_THE_BHYT card has 15 characters (QĐ 4750 Bảng 1 #16)",
      "Mỗi mã thẻ BHYT gồm 15 ký tự", kinds=BHXH, reads=("MA_THE_BHYT",))
def _card_length(r: Rule, doc: Doc) -> Iterator[Finding]:
    for row, rec in enumerate(doc.rows):
        for card in filter(None, value(rec, "MA_THE_BHYT").split(";")):
            if len(card) != 15:
                yield r.finding(doc, "MA_THE_BHYT", f"card '{card}' has {len(card)} characters, "
                                "each card needs 15", f"thẻ '{card}' có {len(card)} ký tự, mỗi thẻ cần 15",
                                row=row, expected="15 characters", found=f"{len(card)} characters",
                                hint=N_("several cards are separated by ';' with no spaces"))


@rule("card-shape", "warning", "A card code reads: 2 letters, benefit level 1-5, province, BHXH number",
      "Mã thẻ gồm 2 chữ cái, mức hưởng 1-5, mã tỉnh, mã số BHXH", kinds=BHXH, reads=("MA_THE_BHYT",))
def _card_shape(r: Rule, doc: Doc) -> Iterator[Finding]:
    for row, rec in enumerate(doc.rows):
        for card in filter(None, value(rec, "MA_THE_BHYT").split(";")):
            if len(card) == 15 and not CARD_RE.fullmatch(card):
                yield r.finding(doc, "MA_THE_BHYT", f"card '{card}' does not read as group "
                                "(2 letters) + level (1-5) + province (2 digits) + BHXH number (10 digits)",
                                f"thẻ '{card}' không đúng cấu trúc nhóm + mức hưởng + tỉnh + mã số BHXH",
                                row=row, found=card)


@rule("card-count", "error", "One GT_THE_TU/GT_THE_DEN/MA_DKBD value per card",
      "Mỗi thẻ có một giá trị GT_THE_TU/GT_THE_DEN/MA_DKBD", kinds=("XML1", "XML13", "XML14"),
      reads=("MA_THE_BHYT", "GT_THE_TU", "GT_THE_DEN", "MA_DKBD"))
def _card_count(r: Rule, doc: Doc) -> Iterator[Finding]:
    fields = doc.fields
    cards_text = value(fields, "MA_THE_BHYT")
    cards = [c for c in cards_text.split(";") if c]
    if not cards:
        return
    for name in ("GT_THE_TU", "GT_THE_DEN", "MA_DKBD"):
        text = value(fields, name)
        if not text or (len(cards) == 1 and ";" not in text):  # the usual one card, one value
            continue
        n = len([p for p in text.split(";") if p])
        if n != len(cards):
            yield r.finding(doc, name, f"{n} value(s) for {len(cards)} card(s)",
                            f"{n} giá trị cho {len(cards)} thẻ", expected=str(len(cards)), found=str(n),
                            hint=N_("write one value per card, ';'-separated, in the order of MA_THE_BHYT"))


CCCD_4750 = re.compile(r"\d{9}|\d{12}|[A-Z]\d{7}")
CCCD_12 = re.compile(r"\d{12}")


@rule("cccd-shape", "error", "SO_CCCD is 9 or 12 digits, or a letter and 7 digits (CTN4750)",
      "SO_CCCD gồm 9 hoặc 12 chữ số, hoặc 1 chữ cái và 7 chữ số", kinds=(*BHXH, "KSK:XML1"),
      reads=("SO_CCCD",))
def _cccd(r: Rule, doc: Doc) -> Iterator[Finding]:
    for row, rec in enumerate(doc.rows):
        text = value(rec, "SO_CCCD")
        if not text:
            continue
        if doc.kind == "KSK:XML1":
            if not CCCD_12.fullmatch(text):
                yield r.finding(doc, "SO_CCCD", f"'{text}' is not a 12-digit personal ID "
                                "(the KSK hub drops the row)", f"'{text}' không phải số định danh 12 chữ số",
                                row=row, expected="12 digits", found=text)
        elif not CCCD_4750.fullmatch(text):
            if doc.standard == "3176":  # 3176 also allows a foreigner's passport number: warn only
                yield r.finding(
                    doc, "SO_CCCD", f"'{text}' is neither a 12-digit personal ID nor a 9-digit "
                    "ID card", f"'{text}' không phải số định danh 12 số hay CMND 9 số", row=row,
                    found=text).replace(severity="warning")
            else:
                yield r.finding(doc, "SO_CCCD", f"'{text}' is not 9 or 12 digits or a letter "
                                "and 7 digits", f"'{text}' không đúng dạng 9/12 chữ số hoặc 1 chữ + 7 số",
                                row=row, expected="9 or 12 digits, or [A-Z] + 7 digits", found=text)


ICD10_RE = re.compile(r"[A-Z][0-9]{2}(\.?[0-9]{1,4}[A-Z]?)?")
ICD_SINGLE = ("MA_BENH_CHINH",)
ICD_LISTS = {"MA_BENH_KT": 12}  # a checkup's ICD-10 lists: ksk-icd10-list (checkup_rules)
ICD_FIELDS = (*ICD_SINGLE, *ICD_LISTS)


@rule("icd10-shape", "error", "ICD-10 codes are well formed (letter, 2 digits, optional subcode)",
      "Mã ICD-10 đúng cấu trúc", kinds=BHXH, reads=ICD_FIELDS)
def _icd10(r: Rule, doc: Doc) -> Iterator[Finding]:
    for row, rec in enumerate(doc.rows):
        for name in ICD_FIELDS:
            text = rec.get(name)  # value() inlined, as in the date rule
            if not text or not (text := text.strip()):
                continue
            if "," in text:
                yield r.finding(doc, name, f"'{text}' uses ',' between codes; use ';'",
                                f"'{text}' dùng dấu ',' giữa các mã; phải dùng ';'", row=row, found=text)
                continue
            codes = text.split(";")
            if name in ICD_SINGLE and len(codes) > 1:
                yield r.finding(doc, name, f"holds {len(codes)} codes; exactly one is allowed",
                                f"có {len(codes)} mã; chỉ được một mã", row=row, expected="1 code", found=text,
                                hint=N_("put the other codes in MA_BENH_KT"))
                continue
            limit = ICD_LISTS.get(name, 0)
            if limit and len(codes) > limit:
                yield r.finding(doc, name, f"{len(codes)} codes, at most {limit} allowed",
                                f"{len(codes)} mã, tối đa {limit}", row=row, expected=f"<= {limit}",
                                found=str(len(codes)))
            for code in codes:
                if not ICD10_RE.fullmatch(code):
                    yield r.finding(doc, name, f"'{code}' is not an ICD-10 code",
                                    f"'{code}' không phải mã ICD-10", row=row, expected="e.g. J18.9 or J189",
                                    found=code)


@rule("ma-ttdv-4750", "error", "MA_TTDV is the 10-digit BHXH number under QĐ 4750 (CTN4750)",
      "MA_TTDV là mã số BHXH 10 chữ số theo QĐ 4750", kinds=("XML1", "XML13", "XML14"),
      reads=("MA_TTDV",))
def _ma_ttdv(r: Rule, doc: Doc) -> Iterator[Finding]:
    if doc.standard != "4750":
        return
    text = value(doc.fields, "MA_TTDV")
    if text and not (len(text) == 10 and text.isascii() and text.isdigit()):
        yield r.finding(doc, "MA_TTDV", f"'{text}' is not 10 digits", f"'{text}' không phải 10 chữ số",
                        expected="10 digits", found=text)


# Fields whose decision length is stricter than the portal sheet (CTN4750), by table: the schema
# holds the sheet's length (an error past it) and the decision's in xs:appinfo. A test proves this
# list is what the schemas say; it is written out so that each table's index reads only its own.
DECISION_STRICTER: dict[str, tuple[str, ...]] = {
    "XML0": ("MA_DOITUONG_KCB", "MA_LY_DO_VNT", "TEN_THUOC", "TEN_VAT_TU"),
    "XML1": ("NHOM_MAU", "MA_TAI_NAN", "MA_DOITUONG_KCB"),
    "XML3": ("GOI_VTYT", "TT_THAU"),
    "XML4": ("MA_DICH_VU",),
    "XML13": ("MA_LK", "SO_HOSO", "SO_CHUYENTUYEN", "GIAY_CHUYEN_TUYEN", "MA_BENH_CHINH", "MA_BENH_KT"),
    "XML14": ("MA_LK", "SO_GIAYHEN_KL", "MA_BENH_CHINH", "MA_BENH_KT", "MA_DOITUONG_KCB"),
    "XML15": ("MA_LK", "MA_BN"),
}


def _decision_length_rule(kind: str, names: tuple[str, ...]) -> None:
    @rule("length-over-decision", "warning", "Longer than the decision allows, within the portal sheet's length",
          "Dài hơn độ dài quyết định cho phép, trong giới hạn của bảng kiểm tra cổng", kinds=(kind,), reads=names)
    def check(r: Rule, doc: Doc) -> Iterator[Finding]:
        limits = decision_lengths("bhxh", doc.standard, doc.kind)
        for row, rec in enumerate(doc.rows):
            for name in names:
                text, (limit, sheet) = rec.get(name), limits.get(name, (0, 0))
                # past the sheet's length it is the schema's error (xsd:maxLength), not a warning too
                if text and limit and limit < (n := portal_length(text)) <= sheet:
                    std = "QĐ 3176" if doc.standard == "3176" else "QĐ 4750"
                    yield r.finding(doc, name, f"{n} characters; {std} allows {limit} (the portal sheet takes it)",
                                    f"{n} ký tự; {std} cho phép {limit} (cổng vẫn tiếp nhận)", row=row,
                                    expected=f"≤ {limit} characters", found=f"{n} characters",
                                    hint=N_("shorten it to {limit} characters: the portal may enforce the decision"),
                                    hint_fields={"limit": limit})


for _kind, _names in DECISION_STRICTER.items():
    _decision_length_rule(_kind, _names)


# ------------------------------------------------------------------ episode rules (one HOSO)


@functools.cache
def copied_fields(table: str, standard: str) -> tuple[tuple[str, str], ...]:
    """(field, XML1 field) pairs the portal cross-checks, read from the shipped field table."""
    path = os.path.join(xsd_dir(), "tables")
    with open(os.path.join(path, f"{table.lower()}_{standard}.csv"), encoding="utf-8", newline="") as fh:
        pairs = []
        for row in csv.DictReader(fh):
            m = re.search(r"if present must equal XML1\.(\w+)", row["rules"])
            if m:
                pairs.append((row["element"], m.group(1)))
    return tuple(pairs)


@rule("xml1-missing", "error", "XML13/XML14 travel with the XML1 of their episode",
      "XML13/XML14 phải đi kèm XML1 của cùng đợt điều trị", scope="episode", sees=())
def _xml1_missing(r: Rule, ep: Episode) -> Iterator[Finding]:
    if "XML1" in ep.docs:
        return
    for kind in ("XML13", "XML14"):
        if kind in ep.docs:
            doc = ep.docs[kind]
            yield r.finding(doc, doc.root.tag, "no XML1 (TONG_HOP) in the same HOSO: the "
                            "portal cross-checks this table against Bảng 1",
                            "không có XML1 (TONG_HOP) trong cùng HOSO để đối chiếu", hint=N_("pack XML1 with it"))


@rule("ma-lk-mismatch", "error", "All tables of a HOSO share XML1's MA_LK", "Các bảng cùng MA_LK với XML1",
      scope="episode", sees=(("*", "MA_LK"),))
def _ma_lk(r: Rule, ep: Episode) -> Iterator[Finding]:
    if "XML1" not in ep.docs:
        return
    key = value(ep.docs["XML1"].fields, "MA_LK")
    for kind, doc in ep.docs.items():
        if kind == "XML1" or not kind.startswith("XML"):
            continue
        for row, rec in enumerate(doc.rows):
            mine = value(rec, "MA_LK")
            if mine and mine != key:
                yield r.finding(doc, "MA_LK", f"'{mine}' differs from XML1 MA_LK '{key}'",
                                f"'{mine}' khác MA_LK của XML1 '{key}'", row=row, expected=key, found=mine)


#: the XML1 fields XML13 and XML14 copy (``copied_fields`` of both tables in both standards, which a
#: test compares): written out, so that an export's XML1 is indexed for these and not all its fields
XML1_COPIED = ("CHAN_DOAN_RV", "DIA_CHI", "GIOI_TINH", "GT_THE_DEN", "HO_TEN", "MA_BENH_CHINH", "MA_BENH_KT",
               "MA_BENH_YHCT", "MA_CSKCB", "MA_DANTOC", "MA_DOITUONG_KCB", "MA_LOAI_RV", "MA_NGHE_NGHIEP",
               "MA_NOI_DEN", "MA_NOI_DI", "MA_QUOCTICH", "MA_THE_BHYT", "NGAY_RA", "NGAY_SINH", "NGAY_VAO",
               "NGAY_VAO_NOI_TRU", "PP_DIEU_TRI")


@rule("copy-differs-from-xml1", "error", "Copied fields of XML13/XML14 equal XML1 when present (CTN4750)",
      "Trường sao chép ở XML13/XML14 phải giống XML1", scope="episode",
      sees=(*(("XML1", f) for f in XML1_COPIED), ("XML13", "*"), ("XML14", "*")))
def _copies(r: Rule, ep: Episode) -> Iterator[Finding]:
    if "XML1" not in ep.docs:
        return
    xml1 = ep.docs["XML1"].fields
    for kind in ("XML13", "XML14"):
        doc = ep.docs.get(kind)
        if doc is None:
            continue
        for name, source in copied_fields(kind, doc.standard):
            mine = value(doc.fields, name)
            if not mine:
                continue
            theirs = value(xml1, source)
            if mine != theirs:
                yield r.finding(doc, name, f"'{mine}' differs from XML1 {source} '{theirs}'",
                                f"'{mine}' khác XML1 {source} '{theirs}'", expected=theirs, found=mine,
                                hint=N_("copy the value from XML1, or leave it empty"))


@rule("xml13-without-referral", "error", "XML13 is sent only when MA_LOAI_RV is 2 or 5 (PL4750 ghi chú)",
      "Chỉ gửi XML13 khi MA_LOAI_RV là 2 hoặc 5", scope="episode", sees=(("XML1", "MA_LOAI_RV"),))
def _referral(r: Rule, ep: Episode) -> Iterator[Finding]:
    if "XML13" not in ep.docs or "XML1" not in ep.docs:
        return
    loai = value(ep.docs["XML1"].fields, "MA_LOAI_RV")
    if loai and loai not in ("2", "5"):
        yield r.finding(ep.docs["XML1"], "MA_LOAI_RV", f"is {loai}, but a referral slip XML13 is "
                        "attached; XML13 goes only with 2 or 5 (referral)",
                        f"là {loai} nhưng có giấy chuyển tuyến XML13; chỉ gửi XML13 khi là 2 hoặc 5",
                        expected="2 or 5", found=loai)


# The ``*_PL`` classification fields of XML7 and XML10 in any form (what the rule below reads), as
# the form CSVs have them (tests/unit/test_checkup_rules.py proves it): written out, since reading
# those CSVs at import cost every BHYT validation its share of the start-up.
ORGAN_CLASSES = tuple((f"KSK:XML{block}", f"{name}_PL") for block, names in (
    ("10", ("KHAM_THE_LUC",)),
    ("7", ("KHAM_DA_LIEU", "KHAM_MAT", "KHAM_NGOAI_KHOA", "KHAM_RANG_HAM_MAT", "KHAM_SAN_PHU_KHOA", "KHAM_TAI_MUI_HONG",
           "NOI_KHOA_CO_XUONG_KHOP", "NOI_KHOA_HO_HAP", "NOI_KHOA_NOI_TIET", "NOI_KHOA_TAM_THAN", "NOI_KHOA_THAN_KINH",
           "NOI_KHOA_THAN_TN_SD", "NOI_KHOA_TIEU_HOA", "NOI_KHOA_TUAN_HOAN"))) for name in names)


@rule("phan-loai-sk-better-than-organ", "error",
      "PHAN_LOAI_SK is no better than the worst organ class (QĐ 1613 mục III.3.3)",
      "Phân loại sức khỏe không tốt hơn phân loại thấp nhất của các chuyên khoa", scope="episode",
      sees=(("KSK:XML12", "PHAN_LOAI_SK"), *ORGAN_CLASSES))
def _phan_loai(r: Rule, ep: Episode) -> Iterator[Finding]:
    ket_luan = ep.docs.get("KSK:XML12")
    if ket_luan is None:
        return
    overall = value(ket_luan.fields, "PHAN_LOAI_SK")
    if not overall.isdigit():
        return
    worst, worst_name = 0, ""
    for kind in ("KSK:XML7", "KSK:XML10"):
        doc = ep.docs.get(kind)
        if doc is None:
            continue
        for name in doc.fields:
            if isinstance(name, str) and name.endswith("_PL"):
                v = value(doc.fields, name)
                if v.isdigit() and int(v) > worst:
                    worst, worst_name = int(v), name
    if worst and int(overall) < worst:
        yield r.finding(ket_luan, "PHAN_LOAI_SK", f"class {overall} is better than {worst_name} "
                        f"class {worst}", f"loại {overall} tốt hơn {worst_name} loại {worst}",
                        expected=f">= {worst}", found=overall,
                        hint=N_("the overall class is the worst of the organ classes"))

