"""SARIF 2.1.0 for GitHub code scanning: one result per finding, rules described once."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sohs_cli import __version__
from sohs_cli.validation.report import FileReport

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def render(reports: Sequence[FileReport], lang: str = "en") -> str:
    from sohs_cli.validation.rules import RULES

    titles = {r.id: (r.title_en if lang == "en" else r.title_vi) for r in RULES}
    rules: dict[str, dict[str, Any]] = {}
    results: list[dict[str, Any]] = []
    for rep in reports:
        for f in rep.findings:
            if f.code not in rules:
                text = titles.get(f.code, f.code.replace("xsd:", "XSD ").replace("-", " "))
                rules[f.code] = {"id": f.code, "shortDescription": {"text": text},
                                 "defaultConfiguration": {"level": "error" if f.severity == "error" else "warning"}}
            location: dict[str, Any] = {"physicalLocation": {"artifactLocation": {"uri": rep.path}}}
            inside_envelope = " › HOSO " in (f.location or f.message_en)
            if f.line and not inside_envelope:
                location["physicalLocation"]["region"] = {"startLine": f.line}
            message = f.message(lang) + (f" Hint: {f.hint}" if f.hint else "")
            results.append({"ruleId": f.code, "level": "error" if f.severity == "error" else "warning",
                            "message": {"text": message}, "locations": [location]})
    doc = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "sohs", "version": __version__,
                                "informationUri": "https://github.com/sohs-cli/sohs",
                                "rules": list(rules.values())}},
            "results": results,
        }],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2)
