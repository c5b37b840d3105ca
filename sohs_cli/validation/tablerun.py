"""The business rules of one table and of one HOSO, as every walk of ``sohs validate`` runs them.

Shared by the general walk (:mod:`.engine`) and the checkup envelope's fast path
(:mod:`.checkup_fast`), so that a finding is made by the same code whichever of the two reads the
file. The cap (``--max-findings``, issue 15): a step makes no more findings than the file has room
for, and carries what it left out into the file's counts (:func:`settle`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping

from lxml import etree

from sohs_cli.documents.kinds import Kind
from sohs_cli.foundation.plain import Frozen
from sohs_cli.foundation.xmlsafe import ParseLimits
from sohs_cli.validation import rules as rules_mod
from sohs_cli.validation.report import DEFAULT_MAX_FINDINGS, Finding, Findings
from sohs_cli.validation.xsd import schema_fields


class ValidateOptions(Frozen):
    __slots__ = ("catalogues", "limits", "max_findings", "rules", "standard", "strict")

    def __init__(self, standard: str = "auto", rules: bool = True, limits: ParseLimits | None = None,
                 strict: bool = False, catalogues: Mapping[str, frozenset[str]] | None = None,
                 max_findings: int = DEFAULT_MAX_FINDINGS) -> None:
        self.standard = standard  # auto | 4750 | 3176
        self.rules = rules
        self.limits = ParseLimits() if limits is None else limits
        self.strict = strict  # warnings count as errors (--strict): a vendor's CI holding to the decision
        self.catalogues = catalogues  # --catalogue DIR, loaded (catalogues.load)
        self.max_findings = max_findings  # per file; 0: no cap (issue 15: memory bounded by it)


@functools.cache
def _in_schema(fields: frozenset[str], family: str, standard: str, name: str) -> frozenset[str]:
    return fields & schema_fields(family, standard, name)


@functools.cache
def wanted(kind: str, given: frozenset[str], episode: bool, valid: bool, family: str, std: str,
           name: str, registry: int) -> frozenset[str] | None:
    """The fields of a table its rules read (None: any), worked out once per kind of table (and size of
    the rule registry, which only grows)."""
    out = rules_mod.document_reads(kind, given)
    if episode and out is not None:  # and what the episode rules read of it
        seen = rules_mod.episode_reads(kind)
        out = None if seen is None else out | seen
    if out is not None and valid:
        # a valid table holds only its schema's fields: look for those the rules read and it has
        # (libxml2 tests every child against each name asked for)
        out = _in_schema(out, family, std, name)
    return out


@functools.cache
def _plan(kind: str, given: frozenset[str], episode: bool, valid: bool, family: str, std: str, name: str,
          registry: int) -> tuple[frozenset[str] | None, tuple[rules_mod.Rule, ...]]:
    """The fields to index and the document rules to run, for one kind of table: one lookup a table."""
    return (wanted(kind, given, episode, valid, family, std, name, registry),
            tuple(rules_mod.document_rules(kind, given)))


def located(findings: Iterable[Finding], where: str) -> list[Finding]:
    return [f if f.location else f.replace(location=f"{where} line {f.line}" if f.line else where)
            for f in findings]


def settle(local: Findings, cap: Findings | None) -> Findings:
    """Carry what a step left out past the cap into the file's counts."""
    if cap is not None:
        cap.omitted += local.omitted
        cap.omitted_errors += local.omitted_errors
        cap.stopped = cap.stopped or local.stopped
    return local


def _run(rules: Iterable[rules_mod.Rule], seen: rules_mod.Doc | rules_mod.Episode, out: Findings) -> None:
    """Each rule's findings into ``out``, as ``out.extend`` takes them (inlined: this runs for every rule
    of every table): a rule is not started once ``out`` is full, and a generator is not drawn past it."""
    limit = out.cap
    for r in rules:
        if len(out) >= limit:  # a rule walks every row: past the cap it is not started
            out.stopped = True
            break
        items = r.check(r, seen)
        if isinstance(items, (list, tuple)):
            out.extend(items)
            continue
        for f in items:
            if len(out) >= limit:
                out.append(f)  # counted, not kept
                out.stopped = True  # the rest of the generator is never made
                break
            list.append(out, f)


def document_rules(kind: Kind, standard: str, root: etree._Element, where: str, options: ValidateOptions,
                   findings: Findings, cap: Findings | None, *, episode: bool, family: str, std: str,
                   name: str) -> tuple[rules_mod.Doc | None, list[Finding]]:
    """The document rules of one table after its schema check (``findings``: what that found); the Doc
    for the episode rules, None when rules are off or none would run."""
    if not options.rules:
        return None, located(settle(findings, cap), where) if findings else []
    if findings.full or (cap is not None and cap.stopped):  # no rule would run: index nothing
        findings.stopped = True  # (a record of 10⁶ children indexed took 120 MB)
        return None, located(settle(findings, cap), where)
    given = frozenset(options.catalogues) if options.catalogues else rules_mod.NO_CATALOGUE
    fields, rules = _plan(kind.name, given, episode, not findings, family, std, name, len(rules_mod.RULES))
    doc = rules_mod.Doc(kind.name, standard, root, where, fields, options.catalogues)
    _run(rules, doc, findings)
    if not findings and not findings.stopped:  # nothing found, nothing left out (the common case)
        return doc, []
    return doc, located(settle(findings, cap), where)


def episode_findings(ep: rules_mod.Episode, options: ValidateOptions, cap: Findings | None = None,
                     family: str = "") -> list[Finding]:
    if not options.rules:
        return []
    out = Findings(cap.room if cap is not None else 0)
    _run(rules_mod.episode_rules(family), ep, out)
    return located(settle(out, cap), ep.where)
