"""The machinery of the business rules: the documents they see, and the registry they join.

The rules themselves are in ``rules.py``; ``sohs validate --list-rules`` prints the registry.

Rules read field *texts*, not elements: each record is indexed once into ``{name: text}`` (one pass
in which lxml makes each child's proxy once), and an element is looked up again only to give a
finding its line. Rules run on every file of a batch, so this is the hot path of ``sohs validate``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from lxml import etree

from sohs_cli.validation.report import Finding, Severity
from sohs_cli.validation.schemas import label, named

Record = dict[str, str | None]  # a record's fields: element name -> its text as written (None if empty)

# Where the records of a table are (every other table is one record, its root).
RECORD_PATHS = {"XML0": "DSACH_TRANG_THAI_KCB/TRANG_THAI_KCB", "KSK:XML11": "DANH_SACH_CLS/CHI_TIET_CLS"}


def _index(rec: etree._Element) -> Record:
    fields = {c.tag: c.text for c in rec}
    if len(fields) != len(rec):  # a repeated element (or several comments): first one wins
        fields = {}
        for c in rec:
            fields.setdefault(c.tag, c.text)
    return fields


class Doc:
    """One table as the rules see it."""

    __slots__ = ("_records", "_rows", "kind", "root", "standard", "where")

    def __init__(self, kind: str, standard: str, root: etree._Element, where: str) -> None:
        self.kind = kind  # "XML1", "XML13", "XML14", "XML0", "KSK:XML10", …
        self.standard = standard
        self.root = root
        self.where = where  # "hoso_0001.xml › HOSO 1 › XML13"
        self._records: list[etree._Element] | None = None
        self._rows: list[Record] | None = None

    @property
    def records(self) -> list[etree._Element]:
        if self._records is None:
            path = RECORD_PATHS.get(self.kind)
            self._records = [self.root] if path is None else list(self.root.iterfind(path))
        return self._records

    @property
    def rows(self) -> list[Record]:
        """Each record's fields by name, indexed once, in document order. A repeated element (an
        XSD error already) keeps its first value, as ``find`` does. Comments and PIs are keyed by
        a function, which no rule asks for."""
        if self._rows is None:
            self._rows = [_index(rec) for rec in self.records]
        return self._rows

    @property
    def fields(self) -> Record:
        rows = self.rows
        return rows[0] if rows else {}

    def line(self, element: str, row: int = 0) -> int:
        """The line of ``element`` in record ``row`` (of the record itself when it is absent)."""
        records = self.records
        if not records:
            return self.root.sourceline or 0
        rec = records[row]
        el = rec.find(element) if element != rec.tag else rec
        return ((el if el is not None else rec).sourceline) or 0


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

    def finding(self, doc: Doc, element: str, en: str, vi: str, *, row: int = 0, expected: str = "",
                found: str = "", hint: str = "") -> Finding:
        """A finding about ``element`` of record ``row`` in ``doc``, located by its line."""
        line = doc.line(element, row)
        at_en = f"{doc.where} {named(element)}" + (f", line {line}" if line else "")
        at_vi = f"{doc.where} {named(element)}" + (f", dòng {line}" if line else "")
        return Finding(code=self.id, severity=self.severity, message_en=f"{at_en}: {en}",
                       message_vi=f"{at_vi}: {vi}", element=element, label=label(element), line=line,
                       location=f"{doc.where} line {line}" if line else doc.where,
                       expected=expected, found=found, hint=hint)


RULES: list[Rule] = []
_BY_KIND: dict[tuple[str, str, int], list[Rule]] = {}


def rule(rule_id: str, severity: Severity, title_en: str, title_vi: str, *,
         kinds: Iterable[str] = (), scope: Literal["document", "episode"] = "document",
         ) -> Callable[[Callable[..., Iterable[Finding]]], Callable[..., Iterable[Finding]]]:
    def register(fn: Callable[..., Iterable[Finding]]) -> Callable[..., Iterable[Finding]]:
        RULES.append(Rule(rule_id, severity, title_en, title_vi, scope, frozenset(kinds), fn))
        return fn
    return register


BHXH = ("XML0", "XML1", "XML13", "XML14")
KSK_ALL = tuple(f"KSK:XML{i}" for i in range(1, 13))


def value(record: Record, name: str) -> str:
    """A field's text, stripped; "" when it is empty or absent."""
    text = record.get(name)
    return text.strip() if text else ""


def _selected(scope: Literal["document", "episode"], kind: str) -> list[Rule]:
    key = (scope, kind, len(RULES))  # the registry only grows (at import), so its length versions it
    found = _BY_KIND.get(key)
    if found is None:
        found = _BY_KIND[key] = [r for r in RULES if r.scope == scope and (scope == "episode" or kind in r.kinds)]
    return found


def document_rules(kind: str) -> list[Rule]:
    return _selected("document", kind)


def episode_rules() -> list[Rule]:
    return _selected("episode", "")
