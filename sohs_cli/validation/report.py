"""Plain report objects: what ``sohs validate`` found, independent of how it is rendered."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from sohs_cli.foundation.i18n import both
from sohs_cli.foundation.plain import Frozen, Plain

Severity = Literal["error", "warning"]


class Finding(Frozen):
    """One problem: a stable code, where it is, and what was expected vs found, in vi and en.

    A :class:`~sohs_cli.foundation.plain.Frozen` value, not a dataclass: every run of ``sohs
    validate`` imports it, and ``dataclasses`` with the class it would write cost more than a
    small file's validation (start-up, issue 14)."""

    __slots__ = ("code", "element", "expected", "found", "hint", "hint_vi", "label", "line", "location",
                 "message_en", "message_vi", "severity")
    #: the fields in the order reports write them (``to_dict``)
    FIELDS = ("code", "severity", "message_en", "message_vi", "element", "label", "line", "location", "expected",
              "found", "hint", "hint_vi")

    def __init__(self, code: str, severity: Severity, message_en: str, message_vi: str, element: str = "",
                 label: str = "", line: int = 0, location: str = "", expected: str = "", found: str = "",
                 hint: str = "", hint_vi: str = "") -> None:
        self.code = code  # rule id ("ngay-hen-kl-before-ngay-ra") or XSD code ("xsd:maxLength")
        self.severity: Severity = severity
        self.message_en = message_en
        self.message_vi = message_vi
        self.element = element
        self.label = label  # Vietnamese label of the element
        self.line = line
        self.location = location  # "hoso_0001.xml › HOSO 1 › XML13 line 17"
        self.expected = expected
        self.found = found
        self.hint = hint  # English
        self.hint_vi = hint_vi  # Vietnamese (from the catalog: sohs_cli.foundation.i18n.both)

    def message(self, lang: str = "en") -> str:
        return self.message_vi if lang == "vi" else self.message_en

    def hint_in(self, lang: str = "en") -> str:
        return self.hint_vi or self.hint if lang == "vi" else self.hint

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        data: dict[str, Any] = {name: getattr(self, name) for name in self.FIELDS}
        data["message"] = self.message(lang)
        data["hint_en"] = self.hint
        data["hint"] = self.hint_in(lang)
        return data


def hints(hint: str, fields: Mapping[str, object] | None = None) -> dict[str, str]:
    """A finding's ``hint`` and ``hint_vi`` from a catalog message (``N_("…")``) and its fields."""
    if not hint:
        return {}
    en, vi = both(hint, **(fields or {}))
    return {"hint": en, "hint_vi": vi}


def finding_at(code: str, severity: Severity, where: str, en: str, vi: str, *, line: int = 0, element: str = "",
               hint: str = "", expected: str = "", found: str = "") -> Finding:
    """A finding of the walk itself (envelope, checkup record), its messages led by where it is: ``where
    line N`` in English, ``where dòng N`` in Vietnamese; the ``location`` field stays as JSON has it."""
    at = f"{where} line {line}" if line else where
    at_vi = f"{where} dòng {line}" if line else where
    return Finding(code=code, severity=severity, message_en=f"{at}: {en}", message_vi=f"{at_vi}: {vi}",
                   element=element, line=line, location=at, expected=expected, found=found, **hints(hint))


DEFAULT_MAX_FINDINGS = 1000


_NOTHING: tuple[Finding, ...] = ()


class Findings(list[Finding]):
    """A file's findings, at most ``cap`` of them (``--max-findings``, issue 15).

    Memory and time must not grow with what a hostile file can make wrong (10⁶ unknown elements made
    10⁶ findings, 1.9 GB and 22 s). Past the cap a finding is counted in ``omitted`` when it already
    exists, and ``extend`` stops drawing from a generator (a rule, a walk of the document): checking
    stops there, which ``stopped`` records, so the count of the rest is a lower bound. ``cap`` 0 (or
    less) is no cap.
    """

    __slots__ = ("cap", "omitted", "omitted_errors", "stopped")

    def __init__(self, cap: int = DEFAULT_MAX_FINDINGS, items: Iterable[Finding] = _NOTHING) -> None:
        super().__init__()
        self.cap = cap if cap > 0 else sys.maxsize
        self.omitted = self.omitted_errors = 0
        self.stopped = False
        if items is not _NOTHING:  # (a table's findings are made empty, many times per file)
            self.extend(items)

    @property
    def room(self) -> int:
        return max(0, self.cap - len(self))

    @property
    def full(self) -> bool:
        return len(self) >= self.cap

    def _over(self, f: Finding) -> None:
        self.omitted += 1
        self.omitted_errors += f.severity == "error"

    def append(self, f: Finding) -> None:
        if len(self) < self.cap:
            super().append(f)
        else:
            self._over(f)

    def extend(self, items: Iterable[Finding]) -> None:
        # called dozens of times per document, mostly with nothing: no property on the way
        if isinstance(items, (list, tuple)):  # made already: what does not fit is counted
            if not items:
                return
            room = max(0, self.cap - len(self))
            super().extend(items[:room])
            for f in items[room:]:
                self._over(f)
            return
        cap = self.cap
        for f in items:
            if len(self) >= cap:
                self._over(f)
                self.stopped = True  # the rest of the generator is never made
                return
            super().append(f)


class FileReport(Plain):
    __slots__ = (
        "documents",
        "findings",
        "kind",
        "omitted",
        "omitted_errors",
        "path",
        "standard",
        "standard_reason",
        "stopped",
    )

    def __init__(self, path: str, kind: str = "unknown", standard: str = "", standard_reason: str = "",
                 findings: list[Finding] | None = None, documents: int = 0, omitted: int = 0, omitted_errors: int = 0,
                 stopped: bool = False) -> None:
        self.path = path
        self.kind = kind
        self.standard = standard
        self.standard_reason = standard_reason
        self.findings: list[Finding] = [] if findings is None else findings
        self.documents = documents  # inner documents checked (1 for a bare table)
        self.omitted = omitted  # findings past --max-findings, not listed (a lower bound when ``stopped``)
        self.omitted_errors = omitted_errors
        self.stopped = stopped  # checking stopped at --max-findings: there may be more

    def __reduce__(self) -> tuple[type[FileReport], tuple[object, ...]]:
        # Every report crosses from a worker process to the parent: as its fields in order, it
        # pickles in two thirds and unpickles in a third of the time the default takes.
        return FileReport, (self.path, self.kind, self.standard, self.standard_reason, list(self.findings),
                            self.documents, self.omitted, self.omitted_errors, self.stopped)

    def close_findings(self) -> None:
        """Copy the cap's counts from a :class:`Findings` list into the report's fields."""
        if isinstance(self.findings, Findings):
            self.omitted, self.omitted_errors = self.findings.omitted, self.findings.omitted_errors
            self.stopped = self.findings.stopped

    @property
    def valid(self) -> bool:
        """No error, none left out past the cap, and not stopped before the end (a file checked in
        part is not known to be valid)."""
        return not (self.omitted_errors or self.stopped or any(f.severity == "error" for f in self.findings))

    def cap_note(self, lang: str = "en") -> str:
        """One line on what ``--max-findings`` left out, or "" when nothing was."""
        shown = len(self.findings)
        if self.stopped:
            extra = f", at least {self.omitted:,} more not listed" if self.omitted else ""
            extra_vi = f", ít nhất {self.omitted:,} phát hiện khác không được liệt kê" if self.omitted else ""
            if lang == "vi":
                return f"… dừng kiểm tra sau {shown:,} phát hiện (--max-findings){extra_vi}; có thể còn nữa"
            return f"… checking stopped after {shown:,} findings (--max-findings){extra}; there may be more"
        if self.omitted:
            if lang == "vi":
                return f"… {self.omitted:,} phát hiện khác không được liệt kê (--max-findings {shown:,})"
            return f"… {self.omitted:,} more finding(s) not listed (--max-findings {shown:,})"
        return ""

    def first_problem(self, lang: str = "en") -> str:
        """Why the file is invalid, in one line: its first error, else what the cap left unchecked."""
        first = next((f for f in self.findings if f.severity == "error"), None)
        return first.message(lang) if first is not None else self.cap_note(lang)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]


class RunReport(Plain):
    __slots__ = ("files",)

    def __init__(self, files: list[FileReport] | None = None) -> None:
        self.files: list[FileReport] = [] if files is None else files

    @property
    def valid_count(self) -> int:
        return sum(1 for f in self.files if f.valid)

    @property
    def invalid_count(self) -> int:
        return len(self.files) - self.valid_count

    @property
    def ok(self) -> bool:
        return self.invalid_count == 0
