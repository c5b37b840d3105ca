"""A checkup envelope whose every block passes its form's schema, checked in two tight passes (issue 13).

Most envelopes a facility sends are well made: base64 blocks, one of each, the form told by the age,
every block valid against that form's schema. For those the general walk (:mod:`.engine`) spends
more time on its own bookkeeping than libxml2 spends parsing and validating. Here:

1. the envelope and each block are parsed (the hardened parser, :func:`parse_bytes`) and validated;
   the first thing that is not clean (the envelope's schema, ``SOLUONGHOSO``, a block not base64 or
   nested, a parse error, a block that is not the one ``LOAIHOSO`` names or comes twice, no form, a
   missing or foreign block, a schema error) returns False *before the report is touched*, and the
   general walk reads the file from the start and reports it;
2. the rules run on the valid blocks through the very code the general walk runs
   (:mod:`.tablerun`), so a finding is the same finding whichever path made it.

What the general walk checks between the two is proved empty by the schemas: a block valid against
its form's schema has no field of another form (``foreign_fields``: each form schema lists exactly
its table's fields, ``tests/unit/test_checkup_fast.py``), and no XSD finding to relabel.
"""

from __future__ import annotations

import functools

from lxml import etree

from sohs_cli.documents import kskforms
from sohs_cli.documents.kinds import KHAMSUCKHOE, KSK_STANDARD, Kind, detect_kind, strict_base64
from sohs_cli.documents.schemas import compiled
from sohs_cli.foundation.errors import InputError
from sohs_cli.foundation.xmlsafe import parse_bytes
from sohs_cli.validation import checkup, tablerun
from sohs_cli.validation.report import FileReport, Findings
from sohs_cli.validation.rulebase import Episode
from sohs_cli.validation.tablerun import ValidateOptions

_Record = tuple[int, str, dict[str, etree._Element], dict[str, Kind], int, str]  # HOSO, where, blocks, form, why


@functools.cache
def _form(form: int) -> tuple[str, frozenset[str], frozenset[str]]:
    """A form's schema folder, its blocks, and the blocks it requires besides XML1 and XML2 (which
    ``choose_form`` reports)."""
    return (f"{KSK_STANDARD}/form{form}", frozenset(kskforms.blocks(form)),
            frozenset(kskforms.required_blocks(form)) - {"XML1", "XML2"})


def _valid(schema: etree.XMLSchema | None, root: etree._Element) -> bool:
    if schema is None:
        return False
    try:
        return bool(schema.validate(root))
    except etree.XMLSchemaValidateError:
        return False


def _clean_records(root: etree._Element, where: str, options: ValidateOptions) -> list[_Record] | None:
    """Pass 1: every HOSO's blocks parsed, its form told, every block valid; None at the first doubt."""
    if not _valid(compiled("ksk", KSK_STANDARD, KHAMSUCKHOE), root):
        return None
    # valid, so the children are where the schema puts them: THONGTINDONVI, THONGTINHOSO (NGAYLAP,
    # SOLUONGHOSO, DANHSACHHOSO (HOSO (FILEHOSO (LOAIHOSO, NOIDUNGFILE)+)+)), CHUKYDONVI
    info = root[1]
    hosos = info[2]
    declared = (info[1].text or "").strip()
    if declared.isascii() and declared.isdigit() and (declared.lstrip("0") or "0") != str(len(hosos)):
        return None
    limits = options.limits
    records: list[_Record] = []
    for index, hoso in enumerate(hosos, start=1):
        hwhere = f"{where} › HOSO {index}"
        roots: dict[str, etree._Element] = {}
        kinds: dict[str, Kind] = {}
        for fh in hoso:
            content = fh[1]
            if len(content):  # nested XML, as the decision prints it: the general walk reads it
                return None
            loai = (fh[0].text or "").strip()
            data = strict_base64(content.text or "")
            if data is None:
                return None
            try:
                block = parse_bytes(data, source=f"{hwhere} › {loai or '?'}", limits=limits, keep_blanks=False)
            except InputError:
                return None
            kind = detect_kind(block)
            if kind is None or kind.family != "ksk" or kind.loaihoso != loai or loai in roots:
                return None
            roots[loai] = block
            kinds[loai] = kind
        form, reason, found = checkup.choose_form(roots, hwhere)
        if form is None or found:
            return None
        std, blocks, required = _form(form)
        if not required <= roots.keys() or not blocks.issuperset(roots):
            return None
        for loai, block in roots.items():
            if not _valid(compiled("ksk", std, loai), block):
                return None
        records.append((index, hwhere, roots, kinds, form, reason))
    return records


def validate(report: FileReport, root: etree._Element, options: ValidateOptions,
             inner_out: dict[int, dict[str, etree._Element]] | None = None) -> bool:
    """Fill ``report`` for a clean ``KHAMSUCKHOE`` (see the module's text); False, and the report as it
    was, when the general walk must read it."""
    if not isinstance(report.findings, Findings):
        return False
    records = _clean_records(root, report.path, options)
    if records is None:
        return False
    cap = report.findings
    standards: set[str] = set()
    reasons: set[str] = set()
    for index, hwhere, roots, kinds, form, reason in records:  # pass 2: the rules, as the general walk runs them
        if cap.full:  # stop walking: the HOSO left are not checked
            cap.stopped = True
            break
        if inner_out is not None:
            inner_out[index] = dict(roots)
        standards.add(f"{KSK_STANDARD} form {form}")
        reasons.add(reason)
        std = _form(form)[0]
        episode = Episode(where=hwhere)
        for loai, block in roots.items():
            kind = kinds[loai]
            doc, findings = tablerun.document_rules(
                kind, KSK_STANDARD, block, f"{hwhere} › {loai}", options, Findings(cap.room), cap, episode=True,
                family="ksk", std=std, name=loai)
            if findings:
                findings = checkup.relabel(findings, form, loai)
            cap.extend(findings)
            report.documents += 1
            if doc is not None:
                episode.docs[kind.name] = doc
        cap.extend(tablerun.episode_findings(episode, options, cap, "ksk"))
    report.standard = ",".join(sorted(standards))
    report.standard_reason = "; ".join(sorted(reasons))
    return True
