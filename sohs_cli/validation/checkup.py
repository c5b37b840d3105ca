"""Which QĐ 2062 PL01 form a checkup record is, and what in it belongs to another form.

The form comes from the age on the day of the checkup (``NGAY_VAO`` of XML2 against ``NGAY_SINH``
of XML1, :mod:`sohs_cli.documents.kskforms`). Each block is then checked against that form's schema
(``xsd/ksk/2062/formN/``); a block only another form has, or a field only another form's block has
(child-development fields on an adult), is one clear finding naming both forms, and the field is
left out of the schema check so it is not reported twice. Without a usable age the blocks are
checked against what any form allows (``xsd/ksk/2062/``) and the record is reported.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from lxml import etree

from sohs_cli.documents import kskforms
from sohs_cli.documents.kinds import KSK_LOAIHOSO_ROOT, text_of
from sohs_cli.foundation.i18n import N_
from sohs_cli.validation.report import Finding, Severity, finding_at, hints


@dataclass(frozen=True)
class Check:
    """A check ``sohs validate`` makes outside the rule registry (``--list-rules`` prints both)."""

    id: str
    severity: Severity
    title_en: str
    title_vi: str
    source: str
    checkup: bool = True  # False: made on every document, a checkup record among them


# Every finding code the validation of a checkup record can carry that is not a rule of the registry
# (tests/unit/test_checkup_rules.py derives the codes from the source and finds each one here).
CHECKS: tuple[Check, ...] = (
    Check("ksk-form-unknown", "error", "The form (by age on NGAY_VAO) can be told: NGAY_SINH, NGAY_VAO are dates",
          "Xác định được mẫu phiếu theo tuổi: NGAY_SINH và NGAY_VAO là ngày hợp lệ",
          "QĐ 2062 PL01 (three forms by age)"),
    Check("ksk-form-content", "error", "No block or field of another form than the one the age gives",
          "Không có khối hay trường của mẫu khác với mẫu theo tuổi", "QĐ 2062 PL01 (fields of each form)"),
    Check("ksk-block-missing", "error", "Every block holding a required field of the form is there",
          "Có đủ các khối chứa trường bắt buộc của mẫu", "QĐ 2062 PL01 (required fields, 'x')"),
    Check("ksk-inner-declaration", "warning", "A nested NOIDUNGFILE block has no <?xml?> declaration of its own",
          "Khối NOIDUNGFILE lồng không có khai báo <?xml?> riêng", "XML 1.0; QĐ 2062 PL02 §6 prints them"),
    Check("ksk-ma-cskcb", "error", "MA_CSKCB is the facility's 5-character BHXH code",
          "MA_CSKCB là mã cơ sở KBCB 5 ký tự", "QĐ 2062 PL01 (MA_CSKCB, C5)"),
    Check("ksk-ma-gtin-cskcb", "error", "MA_GTIN_CSKCB is the facility's 13-digit GLN ID",
          "MA_GTIN_CSKCB là mã định danh GLN 13 chữ số", "QĐ 2062 PL01 (MA_GTIN_CSKCB, 13 characters)"),
    Check("xsd:missing-element", "error", "Each required field of the form is there", "Có đủ trường bắt buộc",
          "the schema (a checkup form's: PL01 'x')", False),
    Check("xsd:required-empty", "error", "A required field is not empty", "Trường bắt buộc không để trống",
          "the schema (a checkup form's: PL01 'x')", False),
    Check("xsd:enumeration", "error", "A coded field holds one of its codes", "Trường mã hóa có giá trị thuộc danh mục",
          "the schema (a checkup form's: PL01 code lists)", False),
    Check("xsd:pattern", "error", "A value has its field's format (dates, numbers, codes separated by ';')",
          "Giá trị đúng định dạng của trường", "the schema (a checkup form's: PL01 types)", False),
    Check("xsd:maxLength", "error", "A value is not longer than its field allows", "Giá trị không dài quá cho phép",
          "the schema (a checkup form's: PL01 sizes)", False),
    Check("xsd:unexpected-element", "error", "Every element is a field of its block", "Mọi phần tử là trường của khối",
          "the schema", False),
    Check("xsd:repeated-element", "error", "A field appears once", "Mỗi trường xuất hiện một lần", "the schema", False),
    Check("xsd:element-order", "error", "Fields in the order of the table (BHYT tables; no order in a checkup block)",
          "Thứ tự trường theo bảng (bảng BHYT)", "QĐ 4750/3176 tables", False),
    Check("xsd:root", "error", "The root element is the one the schema expects", "Phần tử gốc đúng lược đồ",
          "the schema", False),
    Check("xsd:unchecked", "error", "The schema validator could check the document", "Kiểm tra được theo lược đồ",
          "the schema", False),
    Check("xsd:error", "error", "Any other schema error", "Lỗi lược đồ khác", "the schema", False),
    Check("xsd:*", "error", "Any other facet of the schema (xsd:minLength …)", "Ràng buộc khác của lược đồ",
          "the schema", False),
    Check("envelope-count", "error", "SOLUONGHOSO is the number of HOSO", "SOLUONGHOSO bằng số HOSO",
          "the envelope (QĐ 4750 / QĐ 2062 PL02)", False),
    Check("envelope-base64", "error", "NOIDUNGFILE is base64 on one line", "NOIDUNGFILE là base64 trên một dòng",
          "the envelope", False),
    Check("loaihoso-mismatch", "error", "LOAIHOSO names the block NOIDUNGFILE holds", "LOAIHOSO đúng với nội dung",
          "the envelope", False),
    Check("loaihoso-repeated", "error", "A block appears once in a HOSO", "Mỗi khối xuất hiện một lần trong HOSO",
          "the envelope", False),
    Check("table-unknown", "error", "A table sohs has a schema for", "Bảng có lược đồ", "sohs", False),
    Check("unknown-document", "error", "A document sohs knows (its root element)", "Loại hồ sơ được hỗ trợ", "sohs",
          False),
    Check("chukydonvi-missing", "warning", "A BHYT document has its CHUKYDONVI slot", "Hồ sơ BHYT có thẻ CHUKYDONVI",
          "QĐ 4750", False),
    Check("json-invalid", "error", "The JSON form of the message has the decision's shape",
          "Dạng JSON của bản tin đúng cấu trúc", "QĐ 2062 PL02 §6 b", False),
    Check("not-utf8", "error", "The file is UTF-8", "Tệp mã hóa UTF-8", "QĐ 4750 / QĐ 2062", False),
    Check("xml-malformed", "error", "The file is well-formed XML", "Tệp là XML đúng cú pháp", "XML 1.0", False),
    Check("file-empty", "error", "The file is not empty", "Tệp không rỗng", "sohs", False),
    Check("file-too-large", "error", "The file is within --max-size", "Tệp không quá --max-size", "sohs", False),
    Check("too-many-elements", "error", "At most 1.5 million elements in a document", "Tối đa 1,5 triệu phần tử",
          "sohs (bounded memory)", False),
    Check("too-deep", "error", "XML not nested deeper than sohs reads", "XML không lồng quá sâu",
          "sohs (bounded memory)", False),
    Check("doctype-forbidden", "error", "No DOCTYPE (entities are refused)", "Không có DOCTYPE",
          "sohs (hardened parser)", False),
    Check("pi-forbidden", "error", "No processing instruction but the XML declaration", "Không có chỉ thị xử lý",
          "sohs (hardened parser)", False),
    Check("unreadable", "error", "The file can be read", "Đọc được tệp", "sohs", False),
)

# An XSD finding on the facility codes, as PL01 states them (a user who swapped the two is told so)
FACILITY_CODES = {
    "MA_CSKCB": ("ksk-ma-cskcb", N_("MA_CSKCB is the facility's 5-character BHXH code (e.g. 01001); the 13-digit "
                                    "ID goes in MA_GTIN_CSKCB")),
    "MA_GTIN_CSKCB": ("ksk-ma-gtin-cskcb", N_("MA_GTIN_CSKCB is the facility's 13-digit GLN ID (e.g. "
                                              "8930000000017); the 5-character BHXH code goes in MA_CSKCB")),
}


def facility_codes(findings: list[Finding]) -> None:
    """Give the XSD findings on ``MA_CSKCB`` / ``MA_GTIN_CSKCB`` (block XML2) their checkup rule id and hint."""
    for i, f in enumerate(findings):
        named_code = FACILITY_CODES.get(f.element)
        if named_code is not None and f.code in ("xsd:pattern", "xsd:maxLength", "xsd:minLength"):
            hint = hints(named_code[1])
            findings[i] = f.replace(code=named_code[0], hint=hint["hint"], hint_vi=hint["hint_vi"])


def relabel(findings: list[Finding], form: int, block: str) -> list[Finding]:
    """The findings of a block named with the labels of its form (``NGAY_VAO (Ngày khám sức khỏe)``,
    not the BHYT table's ``Ngày vào``, which the shared label index holds first)."""
    fields = kskforms.block_fields(form, block)
    out = []
    for f in findings:
        fd = fields.get(f.element)
        if fd is None or not f.label or f.label == fd.label_vi:
            out.append(f)
            continue
        old, new = f"{f.element} ({f.label})", f"{f.element} ({fd.label_vi})"
        out.append(f.replace(label=fd.label_vi, message_en=f.message_en.replace(old, new),
                             message_vi=f.message_vi.replace(old, new)))
    return out


def _names(forms: list[int], vi: bool = False) -> str:
    names = kskforms.FORM_NAMES_VI if vi else kskforms.FORM_NAMES_EN
    return ", ".join(names[f] for f in forms) or ("không mẫu nào" if vi else "no form")


def choose_form(roots: dict[str, etree._Element], where: str) -> tuple[int | None, str, list[Finding]]:
    """``(form, why, findings)`` for one record's blocks (LOAIHOSO -> root)."""
    found: list[Finding] = []
    for block in ("XML1", "XML2"):
        if block not in roots:
            root = KSK_LOAIHOSO_ROOT[block]
            found.append(finding_at(
                "ksk-block-missing", "error", where,
                f"no {block} <{root}>: every form of QĐ 2062 PL01 requires it "
                f"({'the identity of the person' if block == 'XML1' else 'the visit, NGAY_VAO'})",
                f"thiếu {block} <{root}>: mọi mẫu của QĐ 2062 PL01 đều bắt buộc", element="LOAIHOSO",
                hint=N_("export the block; a record without identity is not a checkup record")))
    birth = kskforms.parse_day(text_of(roots["XML1"], "NGAY_SINH")) if "XML1" in roots else None
    day = kskforms.parse_day(text_of(roots["XML2"], "NGAY_VAO")) if "XML2" in roots else None
    if birth is None or day is None or day < birth:
        if not found:
            what = "NGAY_SINH (Ngày sinh)" if birth is None else "NGAY_VAO (Ngày khám sức khỏe)" if day is None \
                else "NGAY_VAO before NGAY_SINH"
            found.append(finding_at(
                "ksk-form-unknown", "error", where,
                f"the form (by age on the day of the checkup) cannot be told: {what} is not a date "
                "(yyyymmdd[HHMM])" if day is None or birth is None else
                f"the form cannot be told: {what}",
                f"không xác định được mẫu phiếu theo tuổi: {what} không hợp lệ", element="NGAY_SINH",
                hint=N_("fill NGAY_SINH (XML1) and NGAY_VAO (XML2) as yyyymmddHHMM")))
        return None, "QĐ 2062, form unknown", found
    years = kskforms.age_on(birth, day)
    form = kskforms.form_for_age(years)
    # isoformat is strftime's %Y-%m-%d from the year 1000 (which pads no year shorter), at a ninth of the cost
    shown = day.isoformat() if day.year >= 1000 else f"{day:%Y-%m-%d}"
    return form, f"QĐ 2062 {kskforms.FORM_NAMES_EN[form]}: age {years} on NGAY_VAO {shown}", found


def required_blocks(form: int, roots: dict[str, etree._Element], where: str) -> list[Finding]:
    out = []
    for block in kskforms.required_blocks(form):
        if block in roots or block in ("XML1", "XML2"):  # those two are reported by choose_form
            continue
        needed = ", ".join(f.element for f in kskforms.blocks(form)[block] if f.required)
        out.append(finding_at(
            "ksk-block-missing", "error", where,
            f"no {block} <{KSK_LOAIHOSO_ROOT[block]}>: {kskforms.FORM_NAMES_EN[form]} requires {needed}",
            f"thiếu {block} <{KSK_LOAIHOSO_ROOT[block]}>: {kskforms.FORM_NAMES_VI[form]} bắt buộc {needed}",
            element="LOAIHOSO"))
    return out


def foreign_block(form: int, block: str, root: etree._Element, where: str) -> Finding | None:
    """A block the record's form does not have (e.g. Form 1's XML3 vital signs in an adult's record)."""
    if block in kskforms.blocks(form):
        return None
    owners = kskforms.forms_with(block)
    return finding_at(
        "ksk-form-content", "error", where,
        f"{block} <{root.tag}> is a block of {_names(owners)}, not of {kskforms.FORM_NAMES_EN[form]}, "
        "the form this record's age gives", f"{block} <{root.tag}> thuộc {_names(owners, True)}, không thuộc "
        f"{kskforms.FORM_NAMES_VI[form]} (mẫu theo tuổi của hồ sơ)", line=root.sourceline or 0, element="LOAIHOSO",
        hint=N_("check NGAY_SINH and NGAY_VAO, or leave out the block of the other form"))


def foreign_fields(form: int, block: str, root: etree._Element, where: str) -> tuple[etree._Element, list[Finding]]:
    """The block without the fields only other forms have in it, and one finding for each."""
    fields = kskforms.block_fields(form, block)
    out: list[Finding] = []
    strip: list[int] = []
    for i, child in enumerate(root):
        if not isinstance(child.tag, str) or child.tag in fields:
            continue
        owners = [f for f in kskforms.FORMS if f != form and any(child.tag in kskforms.block_fields(f, b)
                                                                  for b in kskforms.blocks(f))]
        if not owners:
            continue  # not a field of any form: the schema says it is not allowed
        label = next(fd.label_vi for f in owners for b in kskforms.blocks(f)
                     for fd in kskforms.blocks(f)[b] if fd.element == child.tag)
        out.append(finding_at(
            "ksk-form-content", "error", where,
            f"{child.tag} ({label}) is a field of {_names(owners)}, not of {kskforms.FORM_NAMES_EN[form]} "
            f"{block}, the form this record's age gives",
            f"{child.tag} ({label}) thuộc {_names(owners, True)}, không thuộc {block} của "
            f"{kskforms.FORM_NAMES_VI[form]} (mẫu theo tuổi của hồ sơ)", line=child.sourceline or 0,
            element=child.tag, hint=N_("check NGAY_SINH and NGAY_VAO, or leave out the field of the other form")))
        strip.append(i)
    if not strip:
        return root, out
    clean = copy.deepcopy(root)
    for i in reversed(strip):
        del clean[i]
    return clean, out
