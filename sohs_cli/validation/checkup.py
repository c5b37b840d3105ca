"""Which QĐ 2062 PL01 form a checkup record is, and what in it belongs to another form.

The form comes from the age on the day of the checkup (``NGAY_VAO`` of XML2 against ``NGAY_SINH``
of XML1, :mod:`sohs_cli.kskforms`). Each block is then checked against that form's schema
(``xsd/ksk/2062/formN/``); a block only another form has, or a field only another form's block has
(child-development fields on an adult), is one clear finding naming both forms, and the field is
left out of the schema check so it is not reported twice. Without a usable age the blocks are
checked against what any form allows (``xsd/ksk/2062/``) and the record is reported.
"""

from __future__ import annotations

import copy

from lxml import etree

from sohs_cli import kskforms
from sohs_cli.documents import KSK_LOAIHOSO_ROOT, text_of
from sohs_cli.i18n import N_
from sohs_cli.validation.report import Finding, Severity, hints


def _finding(code: str, severity: Severity, where: str, en: str, vi: str, *, line: int = 0, element: str = "",
             hint: str = "", expected: str = "", found: str = "") -> Finding:
    at = f"{where} line {line}" if line else where
    return Finding(code=code, severity=severity, message_en=f"{at}: {en}", message_vi=f"{at}: {vi}",
                   element=element, line=line, location=at, expected=expected, found=found, **hints(hint))


def _names(forms: list[int], vi: bool = False) -> str:
    names = kskforms.FORM_NAMES_VI if vi else kskforms.FORM_NAMES_EN
    return ", ".join(names[f] for f in forms) or ("không mẫu nào" if vi else "no form")


def choose_form(roots: dict[str, etree._Element], where: str) -> tuple[int | None, str, list[Finding]]:
    """``(form, why, findings)`` for one record's blocks (LOAIHOSO -> root)."""
    found: list[Finding] = []
    for block in ("XML1", "XML2"):
        if block not in roots:
            root = KSK_LOAIHOSO_ROOT[block]
            found.append(_finding(
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
            found.append(_finding(
                "ksk-form-unknown", "error", where,
                f"the form (by age on the day of the checkup) cannot be told: {what} is not a date "
                "(yyyymmdd[HHMM])" if day is None or birth is None else
                f"the form cannot be told: {what}",
                f"không xác định được mẫu phiếu theo tuổi: {what} không hợp lệ", element="NGAY_SINH",
                hint=N_("fill NGAY_SINH (XML1) and NGAY_VAO (XML2) as yyyymmddHHMM")))
        return None, "QĐ 2062, form unknown", found
    years = kskforms.age_on(birth, day)
    form = kskforms.form_for_age(years)
    return form, f"QĐ 2062 {kskforms.FORM_NAMES_EN[form]}: age {years} on NGAY_VAO {day:%Y-%m-%d}", found


def required_blocks(form: int, roots: dict[str, etree._Element], where: str) -> list[Finding]:
    out = []
    for block in kskforms.required_blocks(form):
        if block in roots or block in ("XML1", "XML2"):  # those two are reported by choose_form
            continue
        needed = ", ".join(f.element for f in kskforms.blocks(form)[block] if f.required)
        out.append(_finding(
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
    return _finding(
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
        out.append(_finding(
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
