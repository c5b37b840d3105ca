"""Streaming JSON: ``{"files": [...], "summary": {...}}``, written file by file (flat memory)."""

from __future__ import annotations

import json
from typing import Any, TextIO

from sohs_cli.validation.report import FileReport


def file_dict(report: FileReport, lang: str = "en") -> dict[str, Any]:
    return {
        "path": report.path,
        "kind": report.kind,
        "standard": report.standard,
        "standard_reason": report.standard_reason,
        "valid": report.valid,
        "documents": report.documents,
        "errors": [f.to_dict(lang) for f in report.findings if f.severity == "error"],
        "warnings": [f.to_dict(lang) for f in report.findings if f.severity == "warning"],
    }


class JsonWriter:
    def __init__(self, out: TextIO, lang: str = "en") -> None:
        self.out, self.lang = out, lang
        self.count = self.valid = 0
        out.write('{"files": [')

    def add(self, report: FileReport) -> None:
        if self.count:
            self.out.write(",")
        self.out.write("\n  " + json.dumps(file_dict(report, self.lang), ensure_ascii=False))
        self.count += 1
        self.valid += report.valid

    def close(self) -> None:
        summary = {"files": self.count, "valid": self.valid, "invalid": self.count - self.valid}
        self.out.write('\n], "summary": ' + json.dumps(summary) + "}\n")
