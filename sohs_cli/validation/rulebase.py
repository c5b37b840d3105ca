"""The machinery of the business rules: the documents they see, and the registry they join.

The rules themselves are in ``rules.py``; ``sohs validate --list-rules`` prints the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from lxml import etree

from sohs_cli.validation.report import Finding, Severity
from sohs_cli.validation.schemas import label, named

Fields = dict[str, etree._Element]


@dataclass
class Doc:
    kind: str  # "XML1", "XML13", "XML14", "XML0", "KSK:XML10", …
    standard: str
    root: etree._Element
    where: str  # "hoso_0001.xml › HOSO 1 › XML13"
    _rows: list[Fields] | None = None

    @property
    def rows(self) -> list[Fields]:
        """Each record's fields by name, indexed once (rules look fields up many times)."""
        if self._rows is None:
            if self.kind == "XML0":
                recs = self.root.iterfind("DSACH_TRANG_THAI_KCB/TRANG_THAI_KCB")
            elif self.kind == "KSK:XML11":
                recs = self.root.iterfind("DANH_SACH_CLS/CHI_TIET_CLS")
            else:
                recs = iter([self.root])
            self._rows = [{c.tag: c for c in reversed(rec) if isinstance(c.tag, str)} for rec in recs]
        return self._rows

    @property
    def fields(self) -> Fields:
        return self.rows[0] if self.rows else {}


@dataclass
class Episode:
    docs: dict[str, Doc] = field(default_factory=dict)
    where: str = ""
    in_envelope: bool = False  # a bare table file has no HOSO to cross-check against


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    title_en: str
    title_vi: str
    scope: Literal["document", "episode"]
    kinds: frozenset[str]
    check: Callable[..., Iterable[Finding]]

    def finding(self, doc_where: str, el: etree._Element | None, element: str, en: str, vi: str, *,
                expected: str = "", found: str = "", hint: str = "", line: int = 0) -> Finding:
        line = line or ((el.sourceline or 0) if el is not None else 0)
        at_en = f"{doc_where} {named(element)}" + (f", line {line}" if line else "")
        at_vi = f"{doc_where} {named(element)}" + (f", dòng {line}" if line else "")
        return Finding(code=self.id, severity=self.severity, message_en=f"{at_en}: {en}",
                       message_vi=f"{at_vi}: {vi}", element=element, label=label(element), line=line,
                       location=f"{doc_where} line {line}" if line else doc_where,
                       expected=expected, found=found, hint=hint)


RULES: list[Rule] = []


def rule(rule_id: str, severity: Severity, title_en: str, title_vi: str, *,
         kinds: Iterable[str] = (), scope: Literal["document", "episode"] = "document",
         ) -> Callable[[Callable[..., Iterable[Finding]]], Callable[..., Iterable[Finding]]]:
    def register(fn: Callable[..., Iterable[Finding]]) -> Callable[..., Iterable[Finding]]:
        RULES.append(Rule(rule_id, severity, title_en, title_vi, scope, frozenset(kinds), fn))
        return fn
    return register


BHXH = ("XML0", "XML1", "XML13", "XML14")
KSK_ALL = tuple(f"KSK:XML{i}" for i in range(1, 13))


def value(record: Fields, name: str) -> tuple[str, etree._Element | None]:
    el = record.get(name)
    return ((el.text or "").strip() if el is not None else ""), el


def document_rules(kind: str) -> list[Rule]:
    return [r for r in RULES if r.scope == "document" and kind in r.kinds]


def episode_rules() -> list[Rule]:
    return [r for r in RULES if r.scope == "episode"]
