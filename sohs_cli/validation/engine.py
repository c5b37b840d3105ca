"""Validate files: detect the kind, open envelopes, run the XSD and the business rules.

``validate_path`` never raises for a bad document: every problem, including hostile or malformed
XML, becomes a finding in the file's report, so a batch always finishes (STYLE.md principle 9).
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
from collections.abc import Generator, Iterable
from typing import TYPE_CHECKING

from lxml import etree

from sohs_cli.documents.kinds import (
    ENVELOPES,
    KHAMSUCKHOE,
    KSK_STANDARD,
    SCHEMA_KINDS,
    Kind,
    detect_kind,
    iter_hoso,
    standard_for_date,
    strip_inner_declarations,
    text_of,
)
from sohs_cli.documents.kskjson import looks_like_json
from sohs_cli.documents.kskjson import to_xml as json_to_xml
from sohs_cli.documents.lean import Payloads, parse_envelope_lean
from sohs_cli.documents.schemas import compiled
from sohs_cli.foundation.errors import InputError
from sohs_cli.foundation.fileio import read_file
from sohs_cli.foundation.i18n import N_, in_language
from sohs_cli.foundation.xmlsafe import parse_bytes
from sohs_cli.validation import rules as rules_mod
from sohs_cli.validation import tablerun
from sohs_cli.validation.report import FileReport, Finding, Findings, finding_at
from sohs_cli.validation.tablerun import ValidateOptions as ValidateOptions
from sohs_cli.validation.tablerun import episode_findings as _episode_findings
from sohs_cli.validation.tablerun import located as _located
from sohs_cli.validation.xsd import validate_xsd

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

DEFAULT_STANDARD = "3176"
AUTO_MIN_FILES = 256  # --jobs auto starts workers from this many files


def _input_finding(exc: InputError) -> Finding:
    return Finding(code=exc.code, severity="error", message_en=exc.message_in("en"), message_vi=exc.message_in("vi"),
                   hint=exc.hint_in("en"), hint_vi=exc.hint_in("vi"))  # the error keeps its message id (i18n.Text)


def choose_standard(options: ValidateOptions, roots: dict[str, etree._Element]) -> tuple[str, str]:
    """Which table version applies to one episode, and why (the report says both)."""
    if options.standard in ("4750", "3176"):
        return options.standard, "--standard"
    for kind, field_name in (("XML1", "NGAY_RA"), ("XML13", "NGAY_RA"), ("XML14", "NGAY_RA"), ("XML0", "")):
        root = roots.get(kind)
        if root is None:
            continue
        if kind == "XML0":
            row = root.find("DSACH_TRANG_THAI_KCB/TRANG_THAI_KCB")
            date = text_of(row, "NGAY_VAO") if row is not None else ""
            chosen = standard_for_date(date)
            if chosen:
                return chosen, f"XML0 NGAY_VAO {date[:8]}"
            continue
        date = text_of(root, field_name)
        chosen = standard_for_date(date)
        if chosen:
            return chosen, f"{kind} NGAY_RA {date[:8]}"
    xml13 = roots.get("XML13")
    if xml13 is not None:
        if xml13.find("MA_CSKCB_DI") is not None or xml13.find("TINH_TRANG_CT") is not None:
            return "3176", "XML13 uses the QĐ 3176 element names"
        if xml13.find("MA_NOI_DI") is not None or xml13.find("TEN_DICH_VU") is not None:
            return "4750", "XML13 uses the QĐ 4750 element names"
    return DEFAULT_STANDARD, "no NGAY_RA; the standard the portal runs now"


def _check_doc(kind: Kind, standard: str, root: etree._Element, where: str,
               options: ValidateOptions, *, episode: bool,
               cap: Findings | None = None,
               schema_std: str | None = None) -> tuple[rules_mod.Doc | None, list[Finding]]:
    """XSD + document rules for one table; returns the Doc for episode rules (``episode``: they
    will run, and may read any field), None when rules are off. With ``cap`` (the file's findings),
    no more findings are made than it has room for (issue 15). ``schema_std``: the schema folder when
    it is not the standard's own (a checkup form: ``2062/form3``)."""
    family = kind.family
    std = schema_std or (KSK_STANDARD if family == "ksk" else standard)
    name = kind.loaihoso if kind.loaihoso else kind.name
    schema = compiled(family, std, name) if family != "bhxh" or name in SCHEMA_KINDS else None
    if schema is None:  # a table sohs does not know is not silently passed
        return None, [finding_at("table-unknown", "error", where,
                             f"{name} <{root.tag}> is not a table of QĐ {std}: sohs has no schema for it",
                             f"{name} <{root.tag}> không phải bảng của QĐ {std}: sohs không có lược đồ cho bảng này",
                             line=root.sourceline or 0, hint=N_("check LOAIHOSO and the root element of the table"))]
    findings = Findings(cap.room if cap is not None else 0, validate_xsd(schema, root, family, std, name, where,
                                                                          cap=cap))
    if kind.name == "KSK:XML2":  # MA_CSKCB / MA_GTIN_CSKCB as PL01 states them (issue 13)
        from sohs_cli.validation import checkup

        checkup.facility_codes(findings)
    return tablerun.document_rules(kind, standard, root, where, options, findings, cap, episode=episode,
                                   family=family, std=std, name=name)


def _slot_missing(root: etree._Element, where: str) -> list[Finding]:
    """A BHXH document without its signature slot: a warning, since ``sohs sign`` adds it (issue 14)."""
    if root.tag not in ("GIAMDINHHS", "CHI_TIEU_TRANG_THAI_KCB", "CHI_TIEU_GIAM_DINH_YKHOA") or \
            root.find("CHUKYDONVI") is not None:
        return []
    return [finding_at("chukydonvi-missing", "warning", where,
                   f"no CHUKYDONVI (Chữ ký đơn vị) at the end of <{root.tag}>: the portal needs the signature there",
                   f"không có thẻ CHUKYDONVI ở cuối <{root.tag}>: cổng cần chữ ký số tại đó",
                   line=root.sourceline or 0, element="CHUKYDONVI",
                   hint=N_("sohs sign adds it before signing; or export it empty: <CHUKYDONVI></CHUKYDONVI>"))]


def _validate_envelope(report: FileReport, root: etree._Element, kind: Kind, options: ValidateOptions,
                       inner_out: dict[int, dict[str, etree._Element]] | None = None,
                       payloads: Payloads | None = None) -> None:
    if kind.name == KHAMSUCKHOE:
        from sohs_cli.validation import checkup_fast

        if checkup_fast.validate(report, root, options, inner_out):
            return  # a clean checkup envelope, checked in two tight passes (the same findings)
    where = report.path
    family = kind.family
    if family == "ksk":
        from sohs_cli.validation import checkup
    envelope_std = "3176" if options.standard == "auto" else options.standard
    schema = compiled(family, KSK_STANDARD if family == "ksk" else envelope_std, kind.name)
    assert schema is not None, f"the {kind.name} schema ships with sohs"
    cap = report.findings if isinstance(report.findings, Findings) else None
    report.findings.extend(_located(
        validate_xsd(schema, root, family, KSK_STANDARD if family == "ksk" else envelope_std, kind.name, where,
                     cap=cap), where))
    report.findings.extend(_slot_missing(root, where))
    hosos = list(iter_hoso(root, payloads))
    declared = text_of(root, "THONGTINHOSO/SOLUONGHOSO")
    # compared as text: int() of 5,000 digits passes Python's integer-string limit (exit 70 before
    # issue 15), and str.isdigit() admits digits int() refuses ('²')
    if declared.isascii() and declared.isdigit() and (declared.lstrip("0") or "0") != str(len(hosos)):
        el = root.find("THONGTINHOSO/SOLUONGHOSO")
        shown = declared if len(declared) <= 20 else f"{declared[:20]}… ({len(declared):,} digits)"
        report.findings.append(finding_at(
            "envelope-count", "error", where, f"SOLUONGHOSO (Số lượng hồ sơ) says {shown} but the file "
            f"holds {len(hosos)} HOSO", f"SOLUONGHOSO ghi {shown} nhưng tệp có {len(hosos)} HOSO",
            line=(el.sourceline or 0) if el is not None else 0, element="SOLUONGHOSO",
            expected=str(len(hosos)), found=shown))
    standards: set[str] = set()
    reasons: set[str] = set()
    for hoso in hosos:
        if cap is not None and cap.full:  # stop walking: the HOSO left are not checked
            cap.stopped = True
            break
        hwhere = f"{where} › HOSO {hoso.index}"
        roots: dict[str, etree._Element] = {}
        kinds: dict[str, Kind] = {}
        for inner in hoso.files:
            iwhere = f"{hwhere} › {inner.loaihoso or '?'}"
            if inner.data is None:
                report.findings.append(finding_at(
                    "envelope-base64", "error", hwhere, f"NOIDUNGFILE (Nội dung tệp) of {inner.loaihoso}: "
                    f"{in_language('en', inner.error or '')}",
                    f"NOIDUNGFILE (Nội dung tệp) của {inner.loaihoso}: {in_language('vi', inner.error or '')}",
                    line=inner.line, element="NOIDUNGFILE",
                    hint=N_("the portal answers 125 for base64 with line breaks: re-encode on one line")))
                continue
            try:
                inner_root = parse_bytes(inner.data, source=iwhere, limits=options.limits, keep_blanks=False)
            except InputError as exc:
                report.findings.append(_input_finding(exc).replace(location=iwhere))
                continue
            inner_kind = detect_kind(inner_root)
            expected_family = family
            if inner_kind is None or inner_kind.is_envelope or inner_kind.family != expected_family:
                report.findings.append(finding_at(
                    "loaihoso-mismatch", "error", iwhere, f"<{inner_root.tag}> is not a table that "
                    f"goes inside {kind.name}", f"<{inner_root.tag}> không phải bảng thuộc {kind.name}",
                    line=inner.line, element="LOAIHOSO"))
                continue
            if inner_kind.loaihoso != inner.loaihoso:
                report.findings.append(finding_at(
                    "loaihoso-mismatch", "error", hwhere, f"LOAIHOSO (Loại hồ sơ) says {inner.loaihoso} "
                    f"but the content is {inner_kind.loaihoso} <{inner_root.tag}>",
                    f"LOAIHOSO ghi {inner.loaihoso} nhưng nội dung là {inner_kind.loaihoso}",
                    line=inner.line, element="LOAIHOSO", expected=inner_kind.loaihoso or "",
                    found=inner.loaihoso))
            loai = inner_kind.loaihoso or ""
            if loai in kinds:  # keyed by LOAIHOSO ("XML1"), which a checkup block's kind name is not ("KSK:XML1")
                report.findings.append(finding_at(
                    "loaihoso-repeated", "error", hwhere, f"{loai} appears twice in one HOSO",
                    f"{loai} xuất hiện hai lần trong một HOSO", line=inner.line))
                continue
            roots[loai] = inner_root
            kinds[loai] = inner_kind
        if inner_out is not None:
            inner_out[hoso.index] = dict(roots)
        standard, reason = choose_standard(options, roots) if family == "bhxh" else (KSK_STANDARD, "QĐ 2062")
        form: int | None = None
        if family == "ksk":  # the PL01 form by age (issue 13)
            form, reason, form_findings = checkup.choose_form(roots, hwhere)
            report.findings.extend(form_findings)
            if form is not None:
                report.findings.extend(checkup.required_blocks(form, roots, hwhere))
        standards.add(standard if form is None else f"{standard} form {form}")  # the report says the form
        reasons.add(reason)
        episode = rules_mod.Episode(where=hwhere)
        for loai, inner_root in roots.items():
            inner_kind = kinds[loai]
            lwhere = f"{hwhere} › {loai}"
            if form is not None:
                foreign = checkup.foreign_block(form, loai, inner_root, lwhere)
                if foreign is not None:
                    report.findings.append(foreign)
                    continue
                inner_root, extra = checkup.foreign_fields(form, loai, inner_root, lwhere)
                report.findings.extend(extra)
            doc, findings = _check_doc(inner_kind, standard, inner_root, lwhere, options,
                                       episode=True, cap=cap,
                                       schema_std=f"{KSK_STANDARD}/form{form}" if form is not None else None)
            if form is not None and findings:  # named as the form names its fields
                findings = checkup.relabel(findings, form, loai)
            report.findings.extend(findings)
            report.documents += 1
            if doc is not None:
                episode.docs[inner_kind.name] = doc
        report.findings.extend(_episode_findings(episode, options, cap, family))
    report.standard = ",".join(sorted(standards))
    report.standard_reason = "; ".join(sorted(reasons))


def validate_bytes(data: bytes, path: str, options: ValidateOptions | None = None, *,
                   root: etree._Element | None = None,
                   inner: dict[int, dict[str, etree._Element]] | None = None) -> FileReport:
    """The report of one document, its findings capped at ``options.max_findings`` (issue 15).

    ``root``: the tree of ``data`` the caller parsed already (:func:`sohs_cli.foundation.xmlsafe.parse_bytes`), read
    and never changed, instead of a second parse (issue 19: ``sohs run`` parses a document once).
    ``inner``: filled with the tables of each HOSO of an envelope as checked (only for a HOSO walked
    whole; the caller compares the count)."""
    options = options or ValidateOptions()
    report = FileReport(path=path, findings=Findings(options.max_findings))
    _validate(report, data, path, options, root, inner)
    report.close_findings()
    if options.strict and report.findings:
        report.findings = [f if f.severity == "error" else f.replace(severity="error")
                           for f in report.findings]
    return report


def _validate(report: FileReport, data: bytes, path: str, options: ValidateOptions,
              given: etree._Element | None = None, inner: dict[int, dict[str, etree._Element]] | None = None) -> None:
    data, declarations = strip_inner_declarations(data)
    try:
        if looks_like_json(data):  # the JSON form of a checkup message (QĐ 2062 PL02 §6 b), issue 13
            data, given = json_to_xml(data, path), None
        # the caller's tree is the one of these very bytes only when nothing was stripped
        payloads: Payloads | None = None
        if given is not None and not declarations:
            root = given
        else:  # a GIAMDINHHS has its payloads decoded beside its tree: 4 MB of base64 not copied into it
            lean = None if declarations else parse_envelope_lean(data, source=path, limits=options.limits)
            if lean is None:
                root = parse_bytes(data, source=path, limits=options.limits, keep_blanks=False)
            else:
                root, payloads = lean
    except InputError as exc:
        report.findings.append(_input_finding(exc))
        return
    if declarations:  # the checkup example's nested blocks, as the decision prints them (issue 13)
        report.findings.append(finding_at(
            "ksk-inner-declaration", "warning", path,
            f"{declarations} NOIDUNGFILE block(s) open with their own <?xml …?> declaration: not well-formed XML, "
            "read without them", f"{declarations} khối NOIDUNGFILE có khai báo <?xml …?> riêng: không đúng cú pháp "
            "XML, đã bỏ qua khi đọc", element="NOIDUNGFILE",
            hint=N_("drop the inner declarations, or send each block as base64 (sohs pack --checkup)")))
    kind = detect_kind(root)
    if kind is None:
        report.findings.append(finding_at(
            "unknown-document", "error", path, f"root <{root.tag}> is not a document sohs knows",
            f"phần tử gốc <{root.tag}> không phải loại hồ sơ được hỗ trợ", line=root.sourceline or 0,
            hint=N_("expected GIAMDINHHS, KHAMSUCKHOE, TONG_HOP, CHI_TIEU_GIAYCHUYENTUYEN, "
                    "CHI_TIEU_GIAYHEN_KHAMLAI, CHI_TIEU_TRANG_THAI_KCB or a KSK block")))
        return
    report.kind = kind.name
    if kind.family == "ksk":  # its rules and modules are loaded for a checkup record only (start-up)
        rules_mod.with_checkup_rules()
    if kind.name in ENVELOPES:
        _validate_envelope(report, root, kind, options, inner, payloads)
        return
    if kind.family == "ksk":
        standard, reason = KSK_STANDARD, "QĐ 2062"
    else:
        standard, reason = choose_standard(options, {kind.loaihoso or "": root})
    report.standard, report.standard_reason = standard, reason
    # a bare table has no HOSO to cross-check it against: the episode rules are for envelopes
    _, findings = _check_doc(kind, standard, root, f"{path} › {kind.name}", options, episode=False,
                             cap=report.findings if isinstance(report.findings, Findings) else None)
    report.findings.extend(findings)
    report.findings.extend(_slot_missing(root, path))
    report.documents = 1


def validate_path(path: str, options: ValidateOptions | None = None) -> FileReport:
    options = options or ValidateOptions()
    try:
        if path == "-":
            data = sys.stdin.buffer.read(options.limits.max_bytes + 1)
        else:
            data = read_file(path, options.limits.max_bytes)
    except InputError as exc:
        report = FileReport(path=path)
        report.findings.append(_input_finding(exc))
        return report
    return validate_bytes(data, "<stdin>" if path == "-" else path, options)


_WORKER_OPTIONS: list[ValidateOptions] = []  # set once in each worker: tasks carry only the path


def _start_worker(options: ValidateOptions) -> None:
    _WORKER_OPTIONS[:] = [options]


def _worker(path: str) -> FileReport:
    return validate_path(path, _WORKER_OPTIONS[0])


def auto_jobs() -> int:
    """Worker processes for ``--jobs auto``: the CPUs this process may use (affinity, container
    quota), at most 8."""
    from sohs_cli.foundation import cpus

    return min(cpus.usable(), 8)


def _context() -> BaseContext:
    """fork where it is safe (Linux, one thread): workers start at once with the schemas compiled;
    otherwise forkserver (spawn on Windows), whose workers import sohs afresh."""
    import multiprocessing

    if sys.platform == "linux" and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("forkserver" if os.name != "nt" else "spawn")


def validate_many(paths: Iterable[str], options: ValidateOptions,
                  jobs: int = 1) -> Generator[FileReport, None, None]:
    """Reports in input order. With ``jobs > 1`` files are spread over worker processes
    (:func:`sohs_cli.foundation.procpool.ordered_map`); results stream back in order, so memory stays flat
    however many files there are.

    ``jobs=0`` is auto: one process per CPU (:func:`auto_jobs`) once there are at least
    ``AUTO_MIN_FILES`` files, in this process below that (workers would cost more than they save).
    """
    pending = iter(paths)
    if jobs == 0:
        head = list(itertools.islice(pending, AUTO_MIN_FILES))
        jobs = auto_jobs() if len(head) == AUTO_MIN_FILES else 1
        pending = itertools.chain(head, pending)
    if jobs <= 1:
        for p in pending:
            yield validate_path(p, options)
        return
    from sohs_cli.foundation.procpool import ordered_map

    yield from ordered_map(_worker, pending, jobs=jobs, context=_context(), setup=_start_worker,
                           setup_args=(options,))
