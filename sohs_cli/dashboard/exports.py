"""Exports of the documents view, shaped exactly as ``sohs status --json`` and ``sohs status --csv``.

They are written in pieces (one page of rows at a time), so exporting a million documents keeps the
server's memory flat. The CSV starts with a UTF-8 byte order mark: spreadsheet programs on Windows
then read the Vietnamese text as UTF-8.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from sohs_cli.dashboard.store import document_dict

#: the columns of ``sohs status --csv`` (which uses these): every field of a ``--json`` document, in
#: its order (issue 17; a test keeps them equal)
CSV_COLUMNS = ("path", "sha256", "ma_lk", "kind", "standard", "facility", "state", "portal_code", "transaction_id",
               "received_at", "processed_at", "message", "errors", "updated_at")
BOM = "\ufeff"
#: the ``schema`` of ``sohs status --json`` (sohs_cli/schemas/status-1.schema.json), which the export matches
STATUS_SCHEMA = "sohs.status/1"


def csv_row(doc: dict[str, Any]) -> list[Any]:
    return [";".join(doc[c]) if c == "ma_lk" else json.dumps(doc[c], ensure_ascii=False) if c == "errors"
            else "" if doc[c] is None else doc[c] for c in CSV_COLUMNS]


def csv_chunks(rows: Iterable[Any]) -> Iterator[bytes]:
    buf = io.StringIO()
    writer = csv.writer(buf)
    buf.write(BOM)
    writer.writerow(CSV_COLUMNS)
    for n, row in enumerate(rows, start=1):
        writer.writerow(csv_row(document_dict(row)))
        if n % 500 == 0:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode("utf-8")


def json_chunks(rows: Iterable[Any]) -> Iterator[bytes]:
    """``{"schema", "documents": [...], "summary": {state: n}}``, the summary counted on the way."""
    summary: dict[str, int] = {}
    parts = ['{"schema": ' + json.dumps(STATUS_SCHEMA) + ', "documents": [']
    first = True
    for n, row in enumerate(rows, start=1):
        doc = document_dict(row)
        summary[doc["state"]] = summary.get(doc["state"], 0) + 1
        parts.append(("\n " if first else ",\n ") + json.dumps(doc, ensure_ascii=False))
        first = False
        if n % 500 == 0:
            yield "".join(parts).encode("utf-8")
            parts = []
    parts.append("\n], \"summary\": " + json.dumps(summary, ensure_ascii=False) + "}\n")
    yield "".join(parts).encode("utf-8")
