"""JUnit XML: one testsuite, one testcase per file, one <failure> per error (CI dashboards)."""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from sohs_cli.validation.report import FileReport


def render(reports: Sequence[FileReport], lang: str = "en") -> bytes:
    failures = sum(1 for r in reports if not r.valid)
    suites = etree.Element("testsuites", name="sohs validate", tests=str(len(reports)), failures=str(failures))
    suite = etree.SubElement(suites, "testsuite", name="sohs validate", tests=str(len(reports)),
                             failures=str(failures), errors="0", skipped="0")
    for r in reports:
        case = etree.SubElement(suite, "testcase", classname=r.kind or "unknown", name=r.path)
        for f in r.errors:
            fail = etree.SubElement(case, "failure", type=f.code, message=f.message(lang))
            fail.text = f.message(lang) + (f"\nhint: {f.hint}" if f.hint else "")
        if r.warnings:
            out = etree.SubElement(case, "system-out")
            out.text = "\n".join(f"warning {f.code}: {f.message(lang)}" for f in r.warnings)
    return bytes(etree.tostring(suites, xml_declaration=True, encoding="utf-8", pretty_print=True))
