"""Business rules of a checkup record that QĐ 2062 Phụ lục 01 states beyond its schemas (issue 13).

What the form schemas already hold is not repeated here: each coded field's codes (enumerations,
``DOI_TUONG`` as ``;``-separated codes), the required set of each form, lengths, ``MA_CSKCB`` as 5
characters and ``MA_GTIN_CSKCB`` as 13 digits (their findings carry ``ksk-ma-cskcb`` /
``ksk-ma-gtin-cskcb``, :mod:`sohs_cli.validation.checkup`). Here are the rules between fields and
inside a value:

* ``ksk-icd10-list``: the fields PL01 describes as "mã ICD-10 … nhiều mã cách nhau bằng dấu ';'"
  (``KET_LUAN_BENH``, the ``*_MA_BENH*`` history fields): each code's shape, no empty code, no other
  separator (``,``, spaces, ``/``, ``|``), with the value rewritten as the fix;
* ``ksk-conclusion-contradicts`` / ``ksk-conclusion-unexplained``: the conclusion block. Form 1
  (``KET_LUAN_VA_TU_VAN``, XML8) ticks "Bình thường", "Có nguy cơ mắc lao", "Có vấn đề về sức khỏe"
  (then "Ghi rõ vấn đề sức khỏe"); Forms 2 and 3 (``KET_LUAN``, XML12) give ``PHAN_LOAI_SK`` Loại I-V,
  ``KET_LUAN_BENH`` and the health status in words. PL01 marks only ``BINH_THUONG`` / ``PHAN_LOAI_SK``
  required, so a conclusion that says nothing of the problem it reports is a warning (``--strict``
  makes it an error); normal and a health problem at once is an error;
* ``bmi-mismatch``, ``blood-pressure``: the physical exam (Forms 2 and 3, XML10);
* ``ksk-date-in-future``: birth, ID-card issue and checkup dates are not after today (Việt Nam time).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

from sohs_cli.documents.kskforms import parse_day
from sohs_cli.documents.schemas import named
from sohs_cli.foundation.i18n import N_
from sohs_cli.validation.report import Finding
from sohs_cli.validation.rulebase import Doc, Rule, rule, value

# The PL01 fields whose description is "ICD-10 code(s) …; multiple codes separated by ';'", in the
# three forms (a test proves this is what the shipped CSVs say).
ICD10_LISTS = ("KET_LUAN_BENH", "TSBT_MA_BENH", "TSGD_MA_BENH", "TSBT_MA_BENH_KHAC", "TSBT_MA_BENH_THAI_SAN",
               "MA_BENH_SAN_KHOA_KHONG_BT")
ICD10 = re.compile(r"[A-Z][0-9]{2}(\.?[0-9]{1,4}[A-Z]?)?")
_OTHER_SEPARATOR = re.compile(r"[,/|\s]")
_KSK_ICD_KINDS = ("KSK:XML1", "KSK:XML8", "KSK:XML9", "KSK:XML12")  # where those fields are


def _icd_fix(text: str) -> str:
    """The value as PL01 writes it: codes in capitals, ';' between them, no empty code."""
    return ";".join(p.upper() for p in re.split(r"[;,/|\s]+", text) if p)


@rule("ksk-icd10-list", "error", "ICD-10 lists are codes separated by ';' (QĐ 2062 PL01)",
      "Danh sách mã ICD-10 cách nhau bằng dấu ';' (QĐ 2062 PL01)", kinds=_KSK_ICD_KINDS, reads=ICD10_LISTS)
def _icd10_list(r: Rule, doc: Doc) -> Iterator[Finding]:
    fields = doc.fields
    for name in ICD10_LISTS:
        text = fields.get(name)  # value() inlined: most of these fields are absent from most blocks
        if not text or not (text := text.strip()):
            continue
        fix = _icd_fix(text)
        if _OTHER_SEPARATOR.search(text):
            yield r.finding(doc, name, f"'{text}' separates its codes with something other than ';'",
                            f"'{text}' phân cách các mã bằng ký tự khác ';'", expected=fix, found=text,
                            hint=N_("separate the codes with ';' and no spaces: {fix}"), hint_fields={"fix": fix})
            continue
        codes = text.split(";")
        if "" in codes:
            yield r.finding(doc, name, f"'{text}' has an empty code (';' at the start, at the end or twice)",
                            f"'{text}' có mã rỗng (dấu ';' ở đầu, ở cuối hoặc hai dấu liền nhau)",
                            expected=fix, found=text, hint=N_("remove the extra ';': {fix}"), hint_fields={"fix": fix})
        for code in filter(None, codes):
            if ICD10.fullmatch(code):
                continue
            upper = ICD10.fullmatch(code.upper()) is not None
            yield r.finding(doc, name, f"'{code}' is not an ICD-10 code (a letter, 2 digits, an optional subcode)",
                            f"'{code}' không phải mã ICD-10 (1 chữ cái, 2 chữ số, mã chi tiết nếu có)",
                            expected="e.g. J45 or J45.0", found=code,
                            hint=N_("ICD-10 codes are written in capitals: {fix}") if upper else
                            N_("write the ICD-10 code of the Ministry of Health's list, e.g. J45.0"),
                            hint_fields={"fix": code.upper()} if upper else None)


def _ticked(doc: Doc, name: str) -> bool:
    return value(doc.fields, name) == "1"


CLASS_NAMES = {"3": "Loại III: Trung bình", "4": "Loại IV: Yếu", "5": "Loại V: Rất yếu"}
STATUS_FIELD = {"CAC_VAN_DE_SUC_KHOE", "CAC_BENH_TAT_NEU_CO"}  # Form 2's and Form 3's name for it


@rule("ksk-conclusion-contradicts", "error", "A Form 1 conclusion is normal or has a health problem, not both "
      "(QĐ 2062 PL01 VIII)", "Kết luận của mẫu 1 là bình thường hoặc có vấn đề sức khỏe, không đồng thời cả hai",
      kinds=("KSK:XML8",), reads=("BINH_THUONG", "VAN_DE_SUC_KHOE"))
def _conclusion_contradicts(r: Rule, doc: Doc) -> Iterator[Finding]:
    if _ticked(doc, "BINH_THUONG") and _ticked(doc, "VAN_DE_SUC_KHOE"):
        yield r.finding(doc, "VAN_DE_SUC_KHOE", f"is 1 while {named('BINH_THUONG')} is 1 too",
                        f"là 1 trong khi {named('BINH_THUONG')} cũng là 1", expected="0", found="1",
                        hint=N_("keep one: BINH_THUONG 1 for a normal child, or VAN_DE_SUC_KHOE 1 with "
                                "BINH_THUONG 0 and the problem in GHI_RO_VAN_DE_SUC_KHOE"))


@rule("ksk-conclusion-unexplained", "warning", "A conclusion that is not normal says what the problem is "
      "(QĐ 2062 PL01 VIII Form 1, VII Forms 2-3)", "Kết luận không bình thường phải ghi rõ vấn đề sức khỏe",
      kinds=("KSK:XML8", "KSK:XML12"),
      reads=("BINH_THUONG", "NGUY_CO_MAC_LAO", "VAN_DE_SUC_KHOE", "GHI_RO_VAN_DE_SUC_KHOE", "KET_LUAN_BENH",
             "PHAN_LOAI_SK", *STATUS_FIELD))
def _conclusion_unexplained(r: Rule, doc: Doc) -> Iterator[Finding]:
    said = value(doc.fields, "KET_LUAN_BENH")
    if doc.kind == "KSK:XML8":
        if _ticked(doc, "VAN_DE_SUC_KHOE") and not said and not value(doc.fields, "GHI_RO_VAN_DE_SUC_KHOE"):
            yield r.finding(doc, "VAN_DE_SUC_KHOE", "is 1 (a health problem), but neither GHI_RO_VAN_DE_SUC_KHOE "
                            "nor KET_LUAN_BENH says which", "là 1 (có vấn đề sức khỏe) nhưng GHI_RO_VAN_DE_SUC_KHOE "
                            "và KET_LUAN_BENH đều trống", found="1",
                            hint=N_("write the problem in GHI_RO_VAN_DE_SUC_KHOE, or its ICD-10 code in KET_LUAN_BENH"))
        elif value(doc.fields, "BINH_THUONG") == "0" and not _ticked(doc, "NGUY_CO_MAC_LAO") \
                and not _ticked(doc, "VAN_DE_SUC_KHOE"):
            yield r.finding(doc, "BINH_THUONG", "is 0 (not normal), but neither NGUY_CO_MAC_LAO nor "
                            "VAN_DE_SUC_KHOE is 1", "là 0 (không bình thường) nhưng NGUY_CO_MAC_LAO và "
                            "VAN_DE_SUC_KHOE đều không là 1", found="0",
                            hint=N_("set NGUY_CO_MAC_LAO or VAN_DE_SUC_KHOE to 1, or BINH_THUONG to 1"))
        return
    klass = value(doc.fields, "PHAN_LOAI_SK")
    status = next((n for n in sorted(STATUS_FIELD) if n in doc.fields), "CAC_BENH_TAT_NEU_CO")
    if klass in CLASS_NAMES and not said and not any(value(doc.fields, n) for n in STATUS_FIELD):
        yield r.finding(doc, "PHAN_LOAI_SK", f"is {klass} ({CLASS_NAMES[klass]}), but KET_LUAN_BENH and "
                        f"{status} are empty", f"là {klass} ({CLASS_NAMES[klass]}) nhưng KET_LUAN_BENH và {status} "
                        "đều trống", found=klass,
                        hint=N_("write the diseases in KET_LUAN_BENH (ICD-10) or the health status in words"))


@rule("bmi-mismatch", "error", "CHI_SO_BMI agrees with CAN_NANG / (CHIEU_CAO in m)² (QĐ 2062 PL01 IV)",
      "CHI_SO_BMI khớp với cân nặng và chiều cao", kinds=("KSK:XML10",),
      reads=("CHIEU_CAO", "CAN_NANG", "CHI_SO_BMI"))
def _bmi(r: Rule, doc: Doc) -> Iterator[Finding]:
    try:
        h = float(value(doc.fields, "CHIEU_CAO")) / 100
        w = float(value(doc.fields, "CAN_NANG"))
        bmi_text = value(doc.fields, "CHI_SO_BMI")
        bmi = float(bmi_text)
    except ValueError:
        return
    if h <= 0:
        return
    expected = w / (h * h)
    if abs(expected - bmi) > 0.5:
        yield r.finding(doc, "CHI_SO_BMI", f"{bmi_text} but {w:g} kg / ({h:.2f} m)² = {expected:.1f}",
                        f"{bmi_text} nhưng {w:g} kg / ({h:.2f} m)² = {expected:.1f}",
                        expected=f"{expected:.1f}", found=bmi_text,
                        hint=N_("recompute BMI, or check the units (cm, kg)"))


BLOOD_PRESSURE = re.compile(r"([0-9]{2,3})/([0-9]{2,3})")


@rule("blood-pressure", "error", "HUYET_AP is systolic/diastolic in mmHg, systolic above diastolic (QĐ 2062 PL01 IV)",
      "Huyết áp ghi tâm thu/tâm trương (mmHg), tâm thu lớn hơn tâm trương", kinds=("KSK:XML10",),
      reads=("HUYET_AP",))
def _blood_pressure(r: Rule, doc: Doc) -> Iterator[Finding]:
    text = value(doc.fields, "HUYET_AP").strip()
    if not text:
        return
    m = BLOOD_PRESSURE.fullmatch(text)
    if m is None or not 50 <= int(m.group(1)) <= 300 or not 20 <= int(m.group(2)) <= 200:
        yield r.finding(doc, "HUYET_AP", f"'{text}' is not a blood pressure systolic/diastolic such as 120/80",
                        f"'{text}' không phải huyết áp dạng tâm thu/tâm trương như 120/80",
                        expected="120/80", found=text, hint=N_("write it as systolic/diastolic in mmHg, e.g. 120/80"))
    elif int(m.group(1)) <= int(m.group(2)):
        yield r.finding(doc, "HUYET_AP", f"systolic {m.group(1)} is not above diastolic {m.group(2)}",
                        f"tâm thu {m.group(1)} không lớn hơn tâm trương {m.group(2)}", found=text,
                        hint=N_("the two numbers may be swapped: systolic first"))


VN = dt.timezone(dt.timedelta(hours=7))
FUTURE_DATES = ("NGAY_SINH", "NGAYCAP_CCCD", "NGAY_VAO")


@rule("ksk-date-in-future", "error",
      "A checkup's birth, ID-card issue and visit dates are not in the future (QĐ 2062 PL01 I-II)",
      "Ngày sinh, ngày cấp CCCD và ngày khám không được sau hôm nay", kinds=("KSK:XML1", "KSK:XML2"),
      reads=FUTURE_DATES)
def _checkup_future(r: Rule, doc: Doc) -> Iterator[Finding]:
    today = dt.datetime.now(VN).date()
    for name in FUTURE_DATES:
        text = value(doc.fields, name)
        day = parse_day(text) if text else None
        if day is not None and day > today:
            yield r.finding(doc, name, f"{day:%Y-%m-%d} is after today ({today:%Y-%m-%d})",
                            f"{day:%Y-%m-%d} sau hôm nay ({today:%Y-%m-%d})", expected=f"<= {today:%Y%m%d}",
                            found=text, hint=N_("check the year, and the HIS's clock"))
