"""SARIF 2.1.0 for GitHub code scanning: one result per finding, rules described once.

Streamed: results are written as files are validated; the tool and its rules (one per distinct
code, so bounded) come after them in the same run object, which JSON allows. Memory stays flat.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from sohs_cli import __version__
from sohs_cli.validation.report import FileReport

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


class SarifWriter:
    def __init__(self, out: TextIO, lang: str = "en") -> None:
        from sohs_cli.validation.rules import with_checkup_rules

        self.out, self.lang = out, lang
        self.titles = {r.id: (r.title_en if lang == "en" else r.title_vi) for r in with_checkup_rules()}
        self.rules: dict[str, dict[str, Any]] = {}
        self.count = self.valid = 0
        self._first = True
        out.write(f'{{"$schema": "{SCHEMA}", "version": "2.1.0", "runs": [{{"results": [')

    def add(self, rep: FileReport) -> None:
        self.count += 1
        self.valid += rep.valid
        for f in rep.findings:
            if f.code not in self.rules:
                text = self.titles.get(f.code, f.code.replace("xsd:", "XSD ").replace("-", " "))
                self.rules[f.code] = {"id": f.code, "shortDescription": {"text": text},
                                      "defaultConfiguration": {"level": "error" if f.severity == "error"
                                                               else "warning"}}
            location: dict[str, Any] = {"physicalLocation": {"artifactLocation": {"uri": rep.path}}}
            inside_envelope = " › HOSO " in (f.location or f.message_en)
            if f.line and not inside_envelope:
                location["physicalLocation"]["region"] = {"startLine": f.line}
            message = f.message(self.lang) + (f" Hint: {f.hint}" if f.hint else "")
            result = {"ruleId": f.code, "level": "error" if f.severity == "error" else "warning",
                      "message": {"text": message}, "locations": [location]}
            self.out.write(("\n  " if self._first else ",\n  ") + json.dumps(result, ensure_ascii=False))
            self._first = False

    def close(self) -> None:
        # no informationUri (optional in SARIF 2.1.0): sohs has no public home yet, and the one named
        # before (a GitHub repository that does not exist) was not real (issue 17)
        tool = {"driver": {"name": "sohs", "version": __version__, "rules": list(self.rules.values())}}
        self.out.write('\n], "tool": ' + json.dumps(tool, ensure_ascii=False) + "}]}\n")
