"""Plain report objects: what ``sohs validate`` found, independent of how it is rendered."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from sohs_cli.i18n import both

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    """One problem: a stable code, where it is, and what was expected vs found, in vi and en."""

    code: str  # rule id ("ngay-hen-kl-before-ngay-ra") or XSD code ("xsd:maxLength")
    severity: Severity
    message_en: str
    message_vi: str
    element: str = ""
    label: str = ""  # Vietnamese label of the element
    line: int = 0
    location: str = ""  # "hoso_0001.xml › HOSO 1 › XML13 line 17"
    expected: str = ""
    found: str = ""
    hint: str = ""  # English
    hint_vi: str = ""  # Vietnamese (from the catalog: sohs_cli.i18n.both)

    def message(self, lang: str = "en") -> str:
        return self.message_vi if lang == "vi" else self.message_en

    def hint_in(self, lang: str = "en") -> str:
        return self.hint_vi or self.hint if lang == "vi" else self.hint

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        data = asdict(self)
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


@dataclass
class FileReport:
    path: str
    kind: str = "unknown"
    standard: str = ""
    standard_reason: str = ""
    findings: list[Finding] = field(default_factory=list)
    documents: int = 0  # inner documents checked (1 for a bare table)

    def __reduce__(self) -> tuple[type[FileReport], tuple[object, ...]]:
        # Every report crosses from a worker process to the parent: as its fields in order, it
        # pickles in two thirds and unpickles in a third of the time the default takes.
        return FileReport, (self.path, self.kind, self.standard, self.standard_reason, self.findings,
                            self.documents)

    @property
    def valid(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]


@dataclass
class RunReport:
    files: list[FileReport] = field(default_factory=list)

    @property
    def valid_count(self) -> int:
        return sum(1 for f in self.files if f.valid)

    @property
    def invalid_count(self) -> int:
        return len(self.files) - self.valid_count

    @property
    def ok(self) -> bool:
        return self.invalid_count == 0
