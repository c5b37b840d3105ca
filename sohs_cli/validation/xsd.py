"""XSD validation that reports every error, in words a clinic can act on.

libxml2 stops checking a record's remaining children after the first unexpected element. So when a
record's structure is wrong we (1) list every structural problem ourselves from the schema's own
sequence (unknown, misplaced, repeated, missing), then (2) re-validate a repaired copy holding the
known elements in schema order, to still report every value error (lengths, formats, code lists).
"""

from __future__ import annotations

import copy
import functools
import re
import sys
from collections.abc import Callable

from lxml import etree

from sohs_cli.documents.schemas import XS, label, named, schema_path
from sohs_cli.foundation.i18n import N_
from sohs_cli.foundation.plain import Frozen
from sohs_cli.validation.report import Finding, Findings, hints

_MSG_RE = re.compile(r"^Element '([^']+)'(?:, attribute '([^']+)')?: (.*)$", re.S)
_PATTERNS: list[tuple[str, str, str]] = [
    # (fragment of the pattern, English description, Vietnamese description)
    ("([01][0-9]|2[0-3])[0-5][0-9]", "a date-time yyyymmddHHMM (12 digits)", "ngày giờ dạng yyyymmddHHMM (12 chữ số)"),
    ("(0[1-9]|[12][0-9]|3[01])", "a date yyyymmdd (8 digits)", "ngày dạng yyyymmdd (8 chữ số)"),
    ("[0-9A-Z]{5}", "a 5-character facility code", "mã cơ sở KBCB 5 ký tự"),
    ("[0-9]{13}", "13 digits", "13 chữ số"),
    (r"-?[0-9]+(\.[0-9]+)?", "a number with '.' as decimal separator", "số, dấu thập phân là '.'"),
    (r"[0-9]+(\.[0-9]{1,2})?", "a number with at most 2 decimals", "số có tối đa 2 chữ số thập phân"),
    ("[0-9]{2,3}/[0-9]{2,3}", "systolic/diastolic, e.g. 120/80", "tâm thu/tâm trương, ví dụ 120/80"),
    ("(0?[1-9]|1[0-2])", "a month 1-12", "tháng từ 1 đến 12"),
    ("[0-9]{4}", "a 4-digit year", "năm 4 chữ số"),
    ("[1-9][0-9]*", "a whole number from 1", "số nguyên từ 1"),
    ("[0-9]+", "a whole number", "số nguyên"),
    (r"[\s\S]*\S[\s\S]*", "a non-empty value", "giá trị không rỗng"),
]


_LAYOUT = " \t\r\n"
_CDATA_OPEN, _CDATA_CLOSE = "<![CDATA[", "]]>"


def portal_length(text: str) -> int:
    """A value's length as the portal counts it: without the layout whitespace before and after it,
    and without a CDATA wrapper written as text (an exporter that escaped its own ``<![CDATA[…]]>``).
    A CDATA section itself is already unwrapped by the parser; the indentation around it is not:
    ``<CHAN_DOAN_VAO>⏎····<![CDATA[Viêm phổi]]>⏎</CHAN_DOAN_VAO>`` is 9 characters, not 15."""
    text = text.strip(_LAYOUT)
    if text.startswith(_CDATA_OPEN) and text.endswith(_CDATA_CLOSE):
        text = text[len(_CDATA_OPEN):-len(_CDATA_CLOSE)].strip(_LAYOUT)
    return len(text)


# Frequent export mistakes, each with the hint that names the fix (issue 14).
COMMA_DECIMAL = N_("money and quantities use '.' as the decimal separator: 1234.50, not 1234,50")
THOUSANDS = N_("write numbers without thousands separators: 1234567, not 1.234.567 or 1,234,567")
TOO_PRECISE = N_("at most 2 decimals: round the amount (123.46, not 123.456)")
DATE_SEPARATORS = N_("dates are yyyymmdd (20251103) and times yyyymmddHHMM (202511030930), with no separators")
DATE_WITHOUT_TIME = N_("this field is a date and time, yyyymmddHHMM: add the hour and minute (e.g. 0800)")
SPACES = N_("remove the spaces before and after the value")
LEADING_ZERO = N_("write the code without its leading zero")
_COMMA_DECIMAL = re.compile(r"-?[0-9]+,[0-9]{1,3}")
_GROUPED = re.compile(r"-?[0-9]{1,3}([.,][0-9]{3})+([.,][0-9]{1,2})?")
_SEPARATED_DATE = re.compile(r"[0-9]{1,4}[-/.][0-9]{1,2}[-/.][0-9]{1,4}([ T][0-9:]+)?")


def export_mistake(found: str, pattern: str) -> str:
    """The hint for a value a pattern refused, when it is one of the mistakes HIS exports make."""
    value = found
    if value != value.strip() and value.strip():
        return SPACES
    if _SEPARATED_DATE.fullmatch(value):
        return DATE_SEPARATORS
    if "[0-5][0-9]" in pattern and len(value) == 8 and value.isdigit():
        return DATE_WITHOUT_TIME
    if _GROUPED.fullmatch(value) and value.count(".") + value.count(",") > 1:
        return THOUSANDS  # 1.234.567 or 1,234,567.50
    if _COMMA_DECIMAL.fullmatch(value):
        return COMMA_DECIMAL  # 1234,50
    if "{1,2}" in pattern and re.fullmatch(r"-?[0-9]+\.[0-9]{3,}", value):
        return TOO_PRECISE
    return ""


def _length_mistake(value: str, limit: int) -> str:
    """The hint for a value too long, when it is a known mistake (a separated date, a padded code)."""
    value = value.strip()
    if value.isdigit() and value.startswith("0") and 0 < len(value.lstrip("0")) <= limit:
        return LEADING_ZERO
    return export_mistake(value, "")


def code_mistake(found: str, codes: list[str]) -> str:
    """The hint for a code outside its list, when the fix is plain."""
    if found.strip() in codes and found.strip() != found:
        return SPACES
    if found.startswith("0") and found.lstrip("0") in codes:
        return LEADING_ZERO
    return ""


def _describe_pattern(pattern: str) -> tuple[str, str]:
    for fragment, en, vi in _PATTERNS:
        if fragment in pattern:
            multi = "(;" in pattern
            return (en + ("; several separated by ';'" if multi else ""),
                    vi + ("; nhiều giá trị cách nhau bởi ';'" if multi else ""))
    return (f"the pattern {pattern}", f"mẫu {pattern}")


class RecordModel(Frozen):
    """The ordered children of one record element (TONG_HOP, TRANG_THAI_KCB, CHI_TIET_CLS, …)."""

    __slots__ = ("fields", "ordered", "required")

    def __init__(self, fields: tuple[str, ...], required: frozenset[str], ordered: bool = True) -> None:
        self.fields = fields
        self.required = required
        self.ordered = ordered  # False for xs:all (the checkup blocks: QĐ 2062 fixes no order)


@functools.cache
def record_models(family: str, standard: str, name: str) -> dict[str, RecordModel]:
    """Every element of the schema whose content is a sequence of simple-typed fields."""
    tree = etree.parse(str(schema_path(family, standard, name)))
    models: dict[str, RecordModel] = {}
    for el in tree.iter(f"{XS}element"):
        seq = el.find(f"{XS}complexType/{XS}sequence")
        ordered = seq is not None
        if seq is None:
            seq = el.find(f"{XS}complexType/{XS}all")
        if seq is None:
            continue
        children = seq.findall(f"{XS}element")
        if not children or any(c.find(f"{XS}simpleType") is None for c in children):
            continue
        fields = tuple(c.get("name", "") for c in children)
        required = frozenset(c.get("name", "") for c in children if c.get("minOccurs") != "0")
        models[el.get("name", "")] = RecordModel(fields, required, ordered)
    return models


@functools.cache
def schema_fields(family: str, standard: str, name: str) -> frozenset[str]:
    """The name of every field of every record in the schema."""
    return frozenset(f for model in record_models(family, standard, name).values() for f in model.fields)


def _finding(code: str, element: str, line: int, en: str, vi: str, *, where: str,
             expected: str = "", found: str = "", hint: str = "") -> Finding:
    prefix = f"{where} {named(element)}, line {line}: " if element else f"{where} line {line}: "
    prefix_vi = f"{where} {named(element)}, dòng {line}: " if element else f"{where} dòng {line}: "
    return Finding(code=code, severity="error", message_en=prefix + en, message_vi=prefix_vi + vi,
                   element=element, label=label(element), line=line, expected=expected, found=found,
                   **hints(hint))


def _structure(record: etree._Element, model: RecordModel, where: str, room: int = sys.maxsize,
               cap: Findings | None = None) -> list[Finding]:
    """The structural problems of one record; past ``room`` of them only counted in ``cap``."""
    out: list[Finding] = []
    position = {name: i for i, name in enumerate(model.fields)}
    seen: set[str] = set()
    last = -1
    for child in record:
        if not isinstance(child.tag, str):
            continue
        if len(out) >= room and cap is not None:  # count, build nothing (10⁶ unknown elements)
            if child.tag not in position or child.tag in seen or position[child.tag] < last:
                cap.omitted += 1
                cap.omitted_errors += 1
            else:
                seen.add(child.tag)
                last = position[child.tag]
            continue
        line = child.sourceline or 0
        tag = child.tag
        if tag not in position:
            out.append(_finding("xsd:unexpected-element", tag, line,
                                f"<{tag}> is not an element of {record.tag}",
                                f"<{tag}> không thuộc {record.tag}", where=where,
                                found=tag, hint=N_("check the spelling and the standard (4750 or 3176)")))
            continue
        if tag in seen:
            out.append(_finding("xsd:repeated-element", tag, line, f"{tag} appears more than once",
                                f"{tag} xuất hiện nhiều lần", where=where))
            continue
        if position[tag] < last and model.ordered:
            prev = model.fields[last]
            out.append(_finding("xsd:element-order", tag, line,
                                f"{tag} must come before {prev} (order of the official table)",
                                f"{tag} phải đứng trước {prev} (theo thứ tự bảng chuẩn)", where=where,
                                expected=f"before {prev}", found=f"after {prev}"))
        seen.add(tag)
        last = max(last, position[tag])
    for name in model.fields:
        if name in model.required and name not in seen:
            if len(out) >= room and cap is not None:
                cap.omitted += 1
                cap.omitted_errors += 1
                continue
            out.append(_finding("xsd:missing-element", name, record.sourceline or 0,
                                f"required element {name} is missing from {record.tag}",
                                f"thiếu phần tử bắt buộc {name} trong {record.tag}", where=where,
                                expected=name, hint=N_("the HIS must emit it with a value")))
    return out


def _repair(root: etree._Element, models: dict[str, RecordModel]) -> tuple[etree._Element, set[str]]:
    """A copy with each record's known children in schema order; missing required ones are added
    empty (their absence is already reported) so libxml2 checks every sibling after them."""
    fixed = copy.deepcopy(root)
    placeholders: set[str] = set()
    for record in fixed.iter(*models.keys()):
        model = models[record.tag]
        by_name: dict[str, etree._Element] = {}
        for child in list(record):
            if isinstance(child.tag, str) and child.tag in model.fields and child.tag not in by_name:
                by_name[child.tag] = child
            record.remove(child)
        for name in model.fields:
            if name in by_name:
                record.append(by_name[name])
            elif name in model.required:
                etree.SubElement(record, name)
                placeholders.add(name)
    return fixed, placeholders


def _texts(root: etree._Element) -> Callable[[str, int], str | None]:
    """The text of element ``name`` at ``line`` in ``root`` (looked up only for a length error).

    Each name is indexed once, on its first length error: a walk per error made a table of 10⁵
    over-long values cost 10¹⁰ steps (issue 15, time growing with findings)."""
    index: dict[str, dict[int, str]] = {}

    def text_at(name: str, line: int) -> str | None:
        if not name or not line:
            return None
        if name not in index:
            by_line: dict[int, str] = {}
            for el in root.iter(name):
                by_line.setdefault(el.sourceline or 0, el.text or "")
            index[name] = by_line
        return index[name].get(line)
    return text_at


def _translate(entry: etree._LogEntry, where: str,
               text_at: Callable[[str, int], str | None] = lambda name, line: None) -> Finding | None:
    m = _MSG_RE.match(entry.message)
    element = m.group(1) if m else ""
    text = m.group(3) if m else entry.message
    line = entry.line
    facet = re.search(r"\[facet '(\w+)'\]", text)
    value = re.search(r"The value '(.*?)'(?: is| has)", text, re.S)
    found = value.group(1) if value else ""
    if facet:
        kind = facet.group(1)
        if kind == "maxLength":
            n = re.search(r"length of '(\d+)'; this exceeds the allowed maximum length of '(\d+)'", text)
            have, limit = (n.group(1), n.group(2)) if n else ("?", "?")
            value_text = text_at(element, line) if n else None
            if value_text is not None:  # libxml2 counts every character; the portal trims first
                have = str(portal_length(value_text))
                if int(have) <= int(limit):
                    return None  # long only by its layout whitespace or CDATA wrapper: the portal takes it
            return _finding("xsd:maxLength", element, line,
                            f"{have} characters, at most {limit} allowed",
                            f"{have} ký tự, tối đa {limit}", where=where, expected=f"≤ {limit} characters",
                            found=f"{have} characters",
                            hint=_length_mistake(value_text or "", int(limit)))
        if (kind in ("minLength", "pattern") and found == "" and "length of '0'" in text) or (
            kind == "pattern" and found.strip() == "" and "\\S" in text
        ):
            return _finding("xsd:required-empty", element, line, "required, but empty",
                            "bắt buộc nhưng để trống", where=where, expected="a value", found="(empty)")
        if kind == "pattern":
            pat = re.search(r"by the pattern '(.*)'\.?$", text, re.S)
            en, vi = _describe_pattern(pat.group(1) if pat else "")
            return _finding("xsd:pattern", element, line, f"'{found}' is not {en}",
                            f"'{found}' không đúng định dạng: {vi}", where=where, expected=en, found=found,
                            hint=export_mistake(found, pat.group(1) if pat else ""))
        if kind == "enumeration":
            allowed = re.search(r"set \{(.*)\}", text)
            listed = [c for c in re.findall(r"'([^']*)'", allowed.group(1)) if c] if allowed else []
            codes = ", ".join(listed)
            return _finding("xsd:enumeration", element, line, f"'{found}' is not one of the codes {codes}",
                            f"'{found}' không thuộc danh mục mã {codes}", where=where,
                            expected=codes, found=found, hint=code_mistake(found, listed))
        return _finding(f"xsd:{kind}", element, line, text, text, where=where, found=found)
    if "is not a valid value of the local atomic type" in text:
        return None  # always follows a facet error for the same value
    if "Missing child element" in text:
        exp = re.search(r"Expected is (?:one of )?\( (.*) \)", text)
        names = exp.group(1) if exp else ""
        return _finding("xsd:missing-element", element, line, f"missing child element(s): {names}",
                        f"thiếu phần tử con: {names}", where=where, expected=names)
    if "This element is not expected" in text:
        exp = re.search(r"Expected is (?:one of )?\( (.*) \)", text)
        names = exp.group(1) if exp else ""
        return _finding("xsd:unexpected-element", element, line,
                        f"<{element}> is not expected here" + (f"; expected {names}" if names else ""),
                        f"<{element}> không được phép ở đây" + (f"; cần {names}" if names else ""),
                        where=where, expected=names, found=element)
    if "No matching global declaration" in text:
        return _finding("xsd:root", element, line, f"<{element}> is not the root this schema expects",
                        f"<{element}> không phải phần tử gốc hợp lệ", where=where, found=element)
    return _finding("xsd:error", element, line, text, text, where=where)


def _element_of(entry: etree._LogEntry) -> str:
    m = _MSG_RE.match(entry.message)
    return m.group(1) if m else ""


def _about_record(entry: etree._LogEntry, models: dict[str, RecordModel]) -> bool:
    parts = [re.sub(r"\[\d+\]$", "", p) for p in (entry.path or "").split("/") if p]
    return bool(parts) and (parts[-1] in models or (len(parts) > 1 and parts[-2] in models))


def validate_xsd(schema: etree.XMLSchema, root: etree._Element, family: str, standard: str,
                 name: str, where: str, cap: Findings | None = None) -> list[Finding]:
    """Every XSD error of ``root`` as findings; ``where`` prefixes each message (file › HOSO › table).

    With ``cap`` (the file's findings so far, issue 15) at most ``cap.room`` findings are made: the
    structural problems past them are only counted, and once the room is gone the repaired copy is
    not validated again (``cap.stopped``): time and memory stay bounded by the cap, not by the file.
    """
    try:
        if schema.validate(root):
            return []
    except etree.XMLSchemaValidateError:  # libxml2 gave up (an internal error): say so, never exit 70
        return [_finding("xsd:unchecked", "", root.sourceline or 0,
                         "the schema validator could not check this document (a value too large for it?)",
                         "không kiểm tra được tài liệu theo lược đồ (có giá trị quá lớn?)", where=where)]
    entries = list(schema.error_log)
    text_at = _texts(root)
    structural = any(e.type_name == "SCHEMAV_ELEMENT_CONTENT" for e in entries)
    findings: list[Finding] = []
    room = cap.room if cap is not None else sys.maxsize
    if structural:
        models = record_models(family, standard, name)
        for record in root.iter(*models.keys()):
            findings.extend(_structure(record, models[record.tag], where, room - len(findings), cap))
        if cap is not None and len(findings) >= room:
            cap.stopped = True  # the value errors behind the structure are not looked for
            return findings
        # content errors outside the flat records (the envelope's own structure) still count
        outside = [e for e in entries
                   if e.type_name == "SCHEMAV_ELEMENT_CONTENT" and not _about_record(e, models)]
        fixed, placeholders = _repair(root, models)
        schema.validate(fixed)
        text_at = _texts(fixed)
        entries = outside + [e for e in schema.error_log if e.type_name != "SCHEMAV_ELEMENT_CONTENT"
                             and not (e.line == 0 and _element_of(e) in placeholders)]
    seen: set[tuple[str, int]] = set()
    for i, entry in enumerate(entries):
        if cap is not None and len(findings) >= room:
            rest = sum(1 for e in entries[i:] if "local atomic type" not in e.message)
            cap.omitted += rest
            cap.omitted_errors += rest
            break
        f = _translate(entry, where, text_at)
        if f is None:
            continue
        key = (f.element, f.line)
        if key in seen and f.code != "xsd:missing-element":
            continue
        seen.add(key)
        findings.append(f)
    return findings
