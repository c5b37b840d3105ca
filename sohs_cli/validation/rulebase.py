"""The machinery of the business rules: the documents they see, and the registry they join.

The rules themselves are in ``rules.py``; ``sohs validate --list-rules`` prints the registry.

Rules read field *texts*, not elements: each record is indexed once into ``{name: text}`` (one pass
in which lxml makes each child's proxy once), and an element is looked up again only to give a
finding its line. Rules run on every file of a batch, so this is the hot path of ``sohs validate``.

A rule may declare the fields it ``reads``. When every rule that will see a table declares them, the
index holds only those fields, picked out by libxml2: each field it skips saves lxml a proxy and two
strings. The engine narrows the list further, to the fields the schema has, once the table passed
its XSD (an XML13 has 37 fields; its rules read 11 of them). A rule that declares nothing sees every
field; tests prove each declaration covers what its rule reads, and that narrowing changes no finding.

Languages: a rule's texts are an inline pair, its own catalog (README "Languages"), not entries of
``sohs.po``: ``@rule(id, severity, "English title", "Tiêu đề tiếng Việt")`` and
``r.finding(doc, element, f"English {value}", f"tiếng Việt {value}", hint=N_("…"))``. Every finding
carries both languages at once (``message_en``/``message_vi`` in JSON, SARIF, the ledger), its texts
are written with the data in them, on the hot path, so a pair at the place that knows the data is
simpler and faster than two catalog lookups and ``str.format`` per finding. The *hint* is a catalog
message (``N_()``), as everywhere. ``tests/unit/test_catalogs.py`` fails on a title or finding with an
empty language, or a Vietnamese text that is the English one. A new rule: write both texts, name
elements by code (the finding adds the Vietnamese label), put the hint through ``N_()``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Literal

from lxml import etree

from sohs_cli.documents.kinds import BHXH_RECORD_PATHS
from sohs_cli.documents.schemas import label, named
from sohs_cli.foundation.plain import Frozen, Plain
from sohs_cli.validation.report import Finding, Severity, hints

Record = dict[str, str | None]  # a record's fields: element name -> its text as written (None if empty)

# Where the records of a table are (every other table is one record, its root).
RECORD_PATHS = {**BHXH_RECORD_PATHS}  # a checkup block is one record (QĐ 2062 PL01: no CHI_TIET_CLS list)


def _index(rec: etree._Element, wanted: frozenset[str] | None) -> Record:
    if wanted is not None and not wanted:  # no rule reads a field this table can have
        return {}  # (iterchildren() of no name is every child: a checkup block was indexed whole)
    children = list(rec) if wanted is None else list(rec.iterchildren(*wanted))
    fields = {c.tag: c.text for c in children}
    if len(fields) != len(children):  # a repeated element (or several comments): first one wins
        fields = {}
        for c in children:
            fields.setdefault(c.tag, c.text)
    return fields


class Doc:
    """One table as the rules see it, indexed when it is made (rules read ``rows`` and ``fields``
    many times per table: plain attributes, not properties)."""

    __slots__ = ("catalogues", "fields", "kind", "records", "root", "rows", "standard", "where")

    def __init__(self, kind: str, standard: str, root: etree._Element, where: str,
                 wanted: frozenset[str] | None = None, catalogues: Mapping[str, frozenset[str]] | None = None,
                 ) -> None:
        self.kind = kind  # "XML1", "XML13", "XML14", "XML0", "KSK:XML10", …
        self.catalogues = catalogues  # national catalogues given with --catalogue (None: form checks only)
        self.standard = standard
        self.root = root
        self.where = where  # "hoso_0001.xml › HOSO 1 › XML13"
        path = RECORD_PATHS.get(kind)
        self.records: list[etree._Element] = [root] if path is None else list(root.iterfind(path))
        # Each record's fields by name (only those in ``wanted``, when given), in document order. A
        # repeated element (an XSD error already) keeps its first value, as ``find`` does. Comments
        # and PIs are keyed by a function, which no rule asks for.
        self.rows: list[Record] = [_index(rec, wanted) for rec in self.records]
        self.fields: Record = self.rows[0] if self.rows else {}  # the first (usually only) record

    def line(self, element: str, row: int = 0) -> int:
        """The line of ``element`` in record ``row`` (of the record itself when it is absent)."""
        records = self.records
        if not records:
            return self.root.sourceline or 0
        rec = records[row]
        el = rec.find(element) if element != rec.tag else rec
        return ((el if el is not None else rec).sourceline) or 0


class Episode(Plain):
    """The tables of one HOSO of an envelope, as the episode rules see them (a bare table file has no
    HOSO to cross-check against, so it has no episode)."""

    __slots__ = ("docs", "where")

    def __init__(self, docs: dict[str, Doc] | None = None, where: str = "") -> None:
        self.docs: dict[str, Doc] = {} if docs is None else docs
        self.where = where


class Rule(Frozen):
    __slots__ = ("check", "id", "kinds", "needs", "reads", "scope", "sees", "severity", "title_en", "title_vi")

    def __init__(self, id: str, severity: Severity, title_en: str, title_vi: str,
                 scope: Literal["document", "episode"], kinds: frozenset[str], check: Callable[..., Iterable[Finding]],
                 reads: frozenset[str] | None = None, sees: frozenset[tuple[str, str]] | None = None,
                 needs: str | None = None) -> None:
        self.id = id
        self.severity: Severity = severity
        self.title_en = title_en
        self.title_vi = title_vi
        self.scope: Literal["document", "episode"] = scope
        self.kinds = kinds
        self.check = check
        self.reads = reads  # the fields ``check`` reads; None: it may read any
        # episode rules: the (table, field) pairs they read, "*" for any table or any field; None: any
        self.sees = sees
        # a national catalogue the rule checks against (--catalogue DIR): it runs only when it is given,
        # so the fields it reads are not indexed otherwise
        self.needs = needs

    def finding(self, doc: Doc, element: str, en: str, vi: str, *, row: int = 0, expected: str = "",
                found: str = "", hint: str = "", hint_fields: Mapping[str, object] | None = None) -> Finding:
        """A finding about ``element`` of record ``row`` in ``doc``, located by its line; ``hint`` is a
        catalog message (``N_("…")``), filled with ``hint_fields``."""
        line = doc.line(element, row)
        at_en = f"{doc.where} {named(element)}" + (f", line {line}" if line else "")
        at_vi = f"{doc.where} {named(element)}" + (f", dòng {line}" if line else "")
        return Finding(code=self.id, severity=self.severity, message_en=f"{at_en}: {en}",
                       message_vi=f"{at_vi}: {vi}", element=element, label=label(element), line=line,
                       location=f"{doc.where} line {line}" if line else doc.where,
                       expected=expected, found=found, **hints(hint, hint_fields))


RULES: list[Rule] = []
_BY_KIND: dict[tuple[str, str, int, frozenset[str]], list[Rule]] = {}


# The modules that register rules, in the order their rules are tried (and listed). The checkup
# rules are imported only when a checkup record is validated (a BHYT export never loads them), so a
# module's rules go to its place in this order whenever it is imported, not to the end.
_MODULE_ORDER = {f"sohs_cli.validation.{name}": i
                 for i, name in enumerate(("checkup_rules", "catalogues", "portal_rules", "rules"))}


def _module_rank(r: Rule) -> int:
    return _MODULE_ORDER.get(r.check.__module__, len(_MODULE_ORDER))


def rule(rule_id: str, severity: Severity, title_en: str, title_vi: str, *,
         kinds: Iterable[str] = (), scope: Literal["document", "episode"] = "document",
         reads: Iterable[str] | None = None, sees: Iterable[tuple[str, str]] | None = None,
         needs: str | None = None,
         ) -> Callable[[Callable[..., Iterable[Finding]]], Callable[..., Iterable[Finding]]]:
    def register(fn: Callable[..., Iterable[Finding]]) -> Callable[..., Iterable[Finding]]:
        RULES.append(Rule(rule_id, severity, title_en, title_vi, scope, frozenset(kinds), fn,
                          None if reads is None else frozenset(reads), None if sees is None else frozenset(sees),
                          needs))
        if len(RULES) > 1 and _module_rank(RULES[-2]) > _module_rank(RULES[-1]):
            RULES.sort(key=_module_rank)  # stable: each module's rules keep their own order
        return fn
    return register


BHXH = ("XML0", "XML1", "XML13", "XML14")
BHYT_ALL = tuple(f"XML{i}" for i in range(16))  # every table of QĐ 4750 / QĐ 3176
KSK_ALL = tuple(f"KSK:XML{i}" for i in range(1, 13))


def value(record: Record, name: str) -> str:
    """A field's text, stripped; "" when it is empty or absent."""
    text = record.get(name)
    return text.strip() if text else ""


NO_CATALOGUE: frozenset[str] = frozenset()


def _selected(scope: Literal["document", "episode"], kind: str, catalogues: frozenset[str] = NO_CATALOGUE,
              ) -> list[Rule]:
    key = (scope, kind, len(RULES), catalogues)  # the registry only grows (at import): its length versions it
    found = _BY_KIND.get(key)
    if found is None:
        found = _BY_KIND[key] = [r for r in RULES if r.scope == scope and (scope == "episode" or kind in r.kinds)
                                 and (r.needs is None or r.needs in catalogues)]
    return found


def document_rules(kind: str, catalogues: frozenset[str] = NO_CATALOGUE) -> list[Rule]:
    """The document rules of ``kind``; those that check a national catalogue only when it is given."""
    return _selected("document", kind, catalogues)


_READS: dict[tuple[str, int, frozenset[str]], frozenset[str] | None] = {}


def document_reads(kind: str, catalogues: frozenset[str] = NO_CATALOGUE) -> frozenset[str] | None:
    """The fields the document rules of ``kind`` read; None when one of them may read any."""
    key = (kind, len(RULES), catalogues)
    if key not in _READS:
        wanted: set[str] = set()
        for r in document_rules(kind, catalogues):
            if r.reads is None:
                _READS[key] = None
                break
            wanted |= r.reads
        else:
            _READS[key] = frozenset(wanted)
    return _READS[key]


def episode_rules(family: str = "") -> list[Rule]:
    """Every episode rule; with ``family`` ("ksk", "bhxh"), those that can see a table of that family
    (a rule of BHYT tables never fires on a checkup record's blocks, ``KSK:XML1`` …)."""
    if not family:
        return _selected("episode", "")
    key = ("episode", family, len(RULES), NO_CATALOGUE)  # the family in the kind's place
    found = _BY_KIND.get(key)
    if found is None:
        ksk = family == "ksk"
        found = _BY_KIND[key] = [r for r in _selected("episode", "") if not r.sees or any(
            k == "*" or k.startswith("KSK:") == ksk for k, _ in r.sees)]
    return found


_SEES: dict[tuple[str, int], frozenset[str] | None] = {}


def episode_reads(kind: str) -> frozenset[str] | None:
    """The fields of a ``kind`` table the episode rules read (``sees``); None when one may read any.
    An export's XML2-XML5 hold thousands of rows of which the episode rules read only ``MA_LK``."""
    key = (kind, len(RULES))
    if key not in _SEES:
        wanted: set[str] = set()
        for r in episode_rules():
            if r.sees is None or (kind, "*") in r.sees:
                _SEES[key] = None
                break
            wanted |= {f for k, f in r.sees if k in (kind, "*")}
        else:
            _SEES[key] = frozenset(wanted)
    return _SEES[key]
