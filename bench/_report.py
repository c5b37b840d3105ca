"""Write a benchmark's table into docs/performance.md between its own markers."""

from __future__ import annotations

import datetime as dt
import platform
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "performance.md"


def record(name: str, table: str) -> None:
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Performance\n"
    python = f"{platform.python_implementation()} {platform.python_version()}"
    stamp = f"_{dt.date.today()} · {python} · {platform.machine()}_"
    block = f"{start}\n{stamp}\n\n{table}\n{end}"
    if start in text:
        before, rest = text.split(start, 1)
        text = before + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + f"\n\n## {name}\n\n{block}\n"
    DOC.write_text(text, encoding="utf-8")
