"""JUnit XML: one testsuite, one testcase per file, one <failure> per error (CI dashboards).

Streamed: each testcase is written as its file is validated, to a spool (memory, then disk past
1 MB), because the suite's counts come first in the XML; memory stays flat on any number of files.
"""

from __future__ import annotations

import shutil
import tempfile
from typing import BinaryIO
from xml.sax.saxutils import quoteattr

from lxml import etree

from sohs_cli.validation.report import FileReport


class JUnitWriter:
    def __init__(self, out: BinaryIO, lang: str = "en") -> None:
        self.out, self.lang = out, lang
        self.count = self.valid = 0
        self._spool = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115 - closed in close()

    def add(self, r: FileReport) -> None:
        case = etree.Element("testcase", classname=r.kind or "unknown", name=r.path)
        for f in r.errors:
            fail = etree.SubElement(case, "failure", type=f.code, message=f.message(self.lang))
            fail.text = f.message(self.lang) + (f"\nhint: {f.hint}" if f.hint else "")
        note = r.cap_note(self.lang)
        if note and not r.valid and not r.errors:  # invalid only because checking stopped at the cap
            etree.SubElement(case, "failure", type="max-findings", message=note).text = note
        if r.warnings or note:
            out = etree.SubElement(case, "system-out")
            out.text = "\n".join([*(f"warning {f.code}: {f.message(self.lang)}" for f in r.warnings),
                                   *([note] if note else [])])
        self._spool.write(b"    " + etree.tostring(case, encoding="utf-8") + b"\n")
        self.count += 1
        self.valid += r.valid

    def close(self) -> None:
        tests, failures = str(self.count), str(self.count - self.valid)
        self.out.write(b'<?xml version="1.0" encoding="utf-8"?>\n')
        self.out.write(f'<testsuites name="sohs validate" tests={quoteattr(tests)} failures={quoteattr(failures)}>\n'
                       f'  <testsuite name="sohs validate" tests={quoteattr(tests)} failures={quoteattr(failures)} '
                       'errors="0" skipped="0">\n'.encode())
        self._spool.seek(0)
        shutil.copyfileobj(self._spool, self.out)
        self._spool.close()
        self.out.write(b"  </testsuite>\n</testsuites>\n")
