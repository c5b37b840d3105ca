"""What the documents table is asked: its filters as SQL over the ledger's columns and indexes, a page's
place (keyset: the edge row's id), and nights in Vietnam time (a night runs from noon to noon; see the
package docstring). :mod:`.store` runs these questions on the read-only ledger.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass, replace
from typing import Any

VN = dt.timezone(dt.timedelta(hours=7), "ICT")
NIGHT_STARTS = dt.time(12, 0)  # a night runs from noon to noon, Vietnam time (see the package docstring)

# a document's night in SQL: the very expression of the ledger's index documents_night_updated
_NIGHT = "date(first_seen, '-5 hours')"
# the file name of ``path`` in SQL (what follows the last / or \\): rtrim strips the name's letters
# from the end, leaving the folder, which replace() then removes. The very expression of the ledger's
# index documents_name (migration 3), so a prefix of the name is an index range.
_BASENAME = ("replace(replace(path, '\\', '/'), rtrim(replace(path, '\\', '/'), "
             "replace(replace(path, '\\', '/'), '/', '')), '')")
# a field error in either shape the ledger holds: the portal's (truong, nhan, maLoi, moTa, moTaEn) or a
# local finding's, for a file refused before sending (element, label, code, message_vi, message_en)
_FIELD = "coalesce(json_extract({v}, '$.truong'), json_extract({v}, '$.element'))"
_LABEL = "coalesce(json_extract({v}, '$.nhan'), json_extract({v}, '$.label'))"
_RULE = "coalesce(json_extract({v}, '$.maLoi'), json_extract({v}, '$.code'))"
_VI = "coalesce(json_extract({v}, '$.moTa'), json_extract({v}, '$.message_vi'))"
_EN = "coalesce(json_extract({v}, '$.moTaEn'), json_extract({v}, '$.message_en'))"
# a document's field errors, row by row: a malformed value (a row edited by hand) holds none, and an
# element that is not an object is no field error (either would make json_each or json_extract fail)
_ERRORS = "json_each(CASE WHEN json_valid({d}.errors) THEN {d}.errors ELSE '[]' END)"


def night_of(stamp: str) -> dt.date:
    """The night a UTC ledger stamp (``2026-12-01T17:30:00Z``) belongs to."""
    at = dt.datetime.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.UTC)
    return (at.astimezone(VN) - dt.timedelta(hours=NIGHT_STARTS.hour)).date()


def night_start(night: dt.date) -> str:
    """The UTC stamp at which ``night`` begins (12:00 Vietnam time), comparable with ``first_seen``."""
    start = dt.datetime.combine(night, NIGHT_STARTS, VN).astimezone(dt.UTC)
    return start.strftime("%Y-%m-%dT%H:%M:%SZ")


def tonight(now: dt.datetime | None = None) -> dt.date:
    at = (now or dt.datetime.now(dt.UTC)).astimezone(VN)
    return (at - dt.timedelta(hours=NIGHT_STARTS.hour)).date()


@dataclass(frozen=True)
class Filters:
    """What the documents table shows; empty fields do not filter. Nights are inclusive."""

    states: tuple[str, ...] = ()
    night_from: dt.date | None = None
    night_to: dt.date | None = None
    facility: str = ""
    kind: str = ""
    standard: str = ""
    ma_lk: str = ""
    name: str = ""  # the start of the file's name (not of its folders)
    field: str = ""  # a rejected document with a field error on this element (truong)
    rule: str = ""  # a rejected document with a field error of this code (maLoi), or this portal result code
    listed: bool = True  # the ledger lists each document's field errors (migration 5); see LedgerView

    def where(self, *, walking: bool = False) -> tuple[str, list[Any]]:
        sql: list[str] = []
        args: list[Any] = []
        if self.states:
            sql.append(f"state IN ({','.join('?' * len(self.states))})")
            args += self.states
        if self.night_from:
            sql.append("first_seen >= ?")
            args.append(night_start(self.night_from))
        if self.night_to:
            sql.append("first_seen < ?")
            args.append(night_start(self.night_to + dt.timedelta(days=1)))
        for column in ("facility", "kind", "standard"):
            if getattr(self, column):
                sql.append(f"{column} = ?")
                args.append(getattr(self, column))
        if self.ma_lk:
            sql.append("id IN (SELECT document_id FROM document_lks WHERE ma_lk = ?)")
            args.append(self.ma_lk)
        if self.name:  # the file name starts with it, whatever the case (ASCII); see source()
            sql.append(f"{_BASENAME} >= ? COLLATE NOCASE AND {_BASENAME} < ? COLLATE NOCASE")
            args += [self.name, self.name + "\U0010ffff"]
        if (self.field or self.rule) and not self.states:
            sql.append("state = 'rejected'")  # field errors are the portal's reasons for a rejection
        # the ledger's rows of field errors (migration 5): looked up by field or rule to find the few
        # documents that have one, or by document for each row of a walk (``walking``)
        listed = "EXISTS (SELECT 1 FROM document_errors WHERE document_id = documents.id AND {0} = ?)" \
            if walking else "id IN (SELECT document_id FROM document_errors WHERE {0} = ?)"
        if self.field and self.listed:
            sql.append(listed.format("field"))
            args.append(self.field)
        elif self.field:
            sql.append(f"EXISTS (SELECT 1 FROM {_ERRORS.format(d='documents')} WHERE type = 'object'"
                       f" AND {_FIELD.format(v='value')} = ?)")
            args.append(self.field)
        if self.rule and self.listed:
            sql.append(f"(portal_code = ? OR {listed.format('rule')})")
            args += [self.rule, self.rule]
        elif self.rule:
            sql.append(f"(portal_code = ? OR EXISTS (SELECT 1 FROM {_ERRORS.format(d='documents')}"
                       f" WHERE type = 'object' AND {_RULE.format(v='value')} = ?))")
            args += [self.rule, self.rule]
        return (" AND ".join(sql) or "1=1"), args

    def active(self) -> bool:
        return self.where()[0] != "1=1"

    def nights_only(self) -> bool:
        """Only a range of nights (the view the ledger's index of nights by last change serves)."""
        return bool(self.night_from or self.night_to) and replace(self, night_from=None, night_to=None).where() == \
            ("1=1", [])

    def source(self) -> str:
        """The table to read, with the index that must drive the query: a file-name prefix is looked up
        in its index and its matches sorted (walking the sort's index instead would read, for a prefix
        of old files, almost every entry before the first match)."""
        return "documents INDEXED BY documents_name" if self.name else "documents"


@dataclass(frozen=True)
class Page:
    """One page of the documents table: the rows after ``after`` (the id of the previous page's last
    row), or before ``before`` (the id of the next page's first row: paging back)."""

    sort: str = "seen"
    descending: bool = True
    size: int = 50
    after: int | None = None
    before: int | None = None


@dataclass
class PageResult:
    rows: list[sqlite3.Row]
    total: int  # capped at COUNT_CAP + 1 ("more than 1,000"); -1 when not counted
    next_after: int | None  # the ``after`` of the next page, None on the last
    prev_before: int | None = None  # the ``before`` of the previous page, None on the first


def parse_night(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        return None
