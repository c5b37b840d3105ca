"""The ledger, opened read-only (SQLite ``mode=ro``): the questions the page asks of it.

Every query is bounded and served by an index of the ledger (migrations 2 to 6, ``sohs_cli.submission.schema``):
the nights chart scans one range of ``first_seen``; the documents table pages by keyset (the last
row's sort key, never an OFFSET), so page 1,000 costs what page 1 costs; a count stops at
:data:`COUNT_CAP`. See ``bench/dashboard_bench.py`` for a ledger of a million documents.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from sohs_cli.dashboard.query import (  # re-exported: the view's questions, asked of the store
    _EN,
    _ERRORS,
    _FIELD,
    _LABEL,
    _NIGHT,
    _RULE,
    _VI,
    NIGHT_STARTS,
    VN,
    Filters,
    Page,
    PageResult,
    night_of,
    night_start,
    parse_night,
    tonight,
)
from sohs_cli.foundation.errors import ConfigError
from sohs_cli.foundation.i18n import _
from sohs_cli.submission.ledger import MIGRATIONS, STATES

__all__ = ["NIGHT_STARTS", "VN", "Filters", "LedgerView", "Page", "PageResult", "document_dict", "night_of",
           "night_start", "parse_night", "tonight"]

COUNT_CAP = 1_000
MIN_SCHEMA = 4  # the indexes every page needs (migrations 2 to 4)
COUNTED_SCHEMA = 5  # the per-night counts kept by the ledger's triggers (migration 5)
NIGHTLY_SCHEMA = 6  # each night's documents by last change (migration 6)
PAGE_SIZES = (25, 50, 100, 200)
#: sort name -> the ledger columns it orders by (each pair or triple served by an index)
SORTS: dict[str, tuple[str, ...]] = {"seen": ("first_seen", "id"), "updated": ("updated_at", "id"),
                                     "state": ("state", "first_seen", "id")}
SORT_INDEXES = {("first_seen", "id"): "documents_seen", ("updated_at", "id"): "documents_updated",
                ("state", "first_seen", "id"): "documents_state_seen"}
FEW = 10_000  # a filter matching at most this many documents: its matches are read and sorted
NAME_SORTED = 120_000  # a file name matching at most this many: its matches sorted from the name index
WALK = 10_000  # else the sort's index is walked, at most this many entries, before sorting every match


def ledger_uri(path: Path) -> str:
    """A read-only SQLite URI: the connection cannot write, whatever a query says."""
    return path.resolve().as_uri().replace("file://", "file:", 1) + "?mode=ro"


class LedgerView:
    """A read-only connection to ``HOME/ledger.sqlite3``; one per server thread."""

    def __init__(self, home: Path) -> None:
        self.path = home / "ledger.sqlite3"
        if not self.path.is_file():
            raise ConfigError(_("no ledger in {folder}", folder=home),
                              hint=_("sohs run, sohs submit or sohs demo --dir DIR create it; --home / SOHS_HOME "
                                     "names the data folder"))
        try:
            self.db = sqlite3.connect(ledger_uri(self.path), uri=True, check_same_thread=False, timeout=5)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA query_only = ON")  # a second lock on the same door
            version = int(self.db.execute("PRAGMA user_version").fetchone()[0])
        except sqlite3.Error as exc:
            raise ConfigError(_("cannot read the ledger {file}: {reason}", file=self.path, reason=exc),
                              hint=_("is it a sohs ledger? sohs doctor checks it")) from None
        if version > len(MIGRATIONS):
            raise ConfigError(_("the ledger {file} was written by a newer sohs (schema {version})", file=self.path,
                                version=version), hint=_("upgrade sohs"))
        if version < MIN_SCHEMA:  # read-only: it cannot add the indexes its pages need itself
            raise ConfigError(_("the ledger {file} is older than this sohs (schema {version} of {latest})",
                                file=self.path, version=version, latest=len(MIGRATIONS)),
                              hint=_("run sohs status once (it brings the ledger up to date), then sohs dashboard"))
        # the counts the ledger keeps per night (migration 5); without them (a ledger last written by an
        # older sohs) the same numbers are counted from the documents, slower on a long range
        self.counted = version >= COUNTED_SCHEMA
        self.nightly = version >= NIGHTLY_SCHEMA  # else a range sorted by last change sorts every match

    def close(self) -> None:
        self.db.close()

    # -------------------------------------------------------------- nights

    def nights(self, first: dt.date, last: dt.date) -> list[dict[str, Any]]:
        """Per night from ``first`` to ``last`` (inclusive, every night even when empty): counts by state."""
        counted: dict[str, dict[str, int]] = {}
        if self.counted:  # the ledger's own counts: a handful of rows per night
            for night, state, n in self.db.execute("SELECT night, state, documents FROM night_counts"
                                                   " WHERE night >= ? AND night <= ?",
                                                   (first.isoformat(), last.isoformat())):
                counted.setdefault(night, {})[state] = int(n)
        out = []
        day = first
        while day <= last:
            if self.counted:
                by_state = {s: counted.get(day.isoformat(), {}).get(s, 0) for s in STATES}
            else:  # one count per night and state on the index (state, first_seen)
                span = (night_start(day), night_start(day + dt.timedelta(days=1)))
                by_state = {s: int(self.db.execute(
                    "SELECT count(*) FROM documents INDEXED BY documents_state_seen WHERE state = ?"
                    " AND first_seen >= ? AND first_seen < ?", (s, *span)).fetchone()[0]) for s in STATES}
            out.append({"night": day.isoformat(), "total": sum(by_state.values()), **by_state})
            day += dt.timedelta(days=1)
        return out

    # -------------------------------------------------------------- documents

    def documents(self, filters: Filters, page: Page, *, count: bool = True) -> PageResult:
        """One page of the view, by a plan whose cost is bounded by the page, not by the ledger.

        With a filter, the sort keys of at most :data:`FEW` matches are read first, by the filter's own
        index; that many or fewer are sorted here, so a rare value, an absent one or a combination of
        filters matching a handful costs a few ms. With more (at least one document in a hundred),
        SQLite walks an index in the page's order and checks each row, stopping at the page's end:
        sorted by first seen, the filter's index ending in ``first_seen`` (every filter but the file
        name has one); sorted by state, each state's documents in that order, one state after the other;
        a file name, or sorted by last change, the sort's own index, at most :data:`WALK` entries. Only
        when that walk finds too few (matches bunched far from the page's edge: the oldest files, newest
        first) does SQLite sort every match, at a cost growing with their number
        (bench/dashboard_bench.py, docs/performance.md)."""
        filters = replace(filters, listed=self.counted)
        columns = SORTS[page.sort]
        where, args = filters.where()
        walk_where, walk_args = filters.where(walking=True)
        back = page.before is not None and page.after is None  # read backwards from ``before``, then turn
        descending = page.descending != back
        edge = page.before if back else page.after
        mark: tuple[Any, ...] | None = None
        if edge is not None:
            found = self.db.execute(f"SELECT {', '.join(columns)} FROM documents WHERE id = ?", (edge,)).fetchone()
            mark = tuple(found) if found is not None else None
        matches: int | None = None
        rows: list[sqlite3.Row] | None = None
        if filters.active():  # counted inside SQLite (no row reaches Python), then read if few
            cap = NAME_SORTED if filters.name else FEW  # a file name is counted in its index, entries alone
            matches = int(self.db.execute(f"SELECT count(*) FROM (SELECT 1 FROM {filters.source()} WHERE {where}"
                                          " LIMIT ?)", [*args, cap + 1]).fetchone()[0])
            if matches <= FEW:
                keys = self.db.execute(f"SELECT {', '.join(columns)} FROM {filters.source()} WHERE {where}",
                                       args).fetchall()
                rows = self._sorted(keys, columns, descending, mark, page.size + 1)
        if rows is None and filters.name and matches is not None and matches <= NAME_SORTED:
            # sorted from the file-name index alone (100,000: 50 ms); a walk in the page's order would
            # check each row's name, and finds too few when the matches lie far from the page's edge
            rows = self._sort_all(filters, where, args, columns, descending, mark, page.size + 1)
        if rows is None and page.sort == "updated" and self.nightly and filters.nights_only():
            rows = self._by_night(filters, descending, mark, page.size + 1)
        bounded = bool(filters.name) or page.sort == "updated"
        if rows is None and page.sort == "state" and not bounded:
            rows = self._by_state(filters, walk_where, walk_args, descending, mark, page.size + 1)
        if rows is None:
            rows = self._walk(walk_where, walk_args, columns, descending, mark, page.size + 1,
                              bounded=bounded and matches is not None)
        if rows is None:
            rows = self._sort_all(filters, where, args, columns, descending, mark, page.size + 1)
        more = len(rows) > page.size
        rows = rows[:page.size]
        if back:
            rows.reverse()
            next_after = int(rows[-1]["id"]) if rows else None
            prev_before = int(rows[0]["id"]) if more and rows else None
        else:
            next_after = int(rows[-1]["id"]) if more and rows else None
            prev_before = int(rows[0]["id"]) if edge is not None and rows else None
        if not more and edge is None:
            total = len(rows)  # the whole selection is on this page: nothing more to count
        elif not count:
            total = -1
        elif matches is not None and (matches <= FEW or FEW > COUNT_CAP):
            total = min(matches, COUNT_CAP + 1)
        else:
            total = self.db.execute(f"SELECT count(*) FROM (SELECT 1 FROM {filters.source()} WHERE {where} LIMIT ?)",
                                    [*args, COUNT_CAP + 1]).fetchone()[0]
        return PageResult(rows, int(total), next_after, prev_before)

    def _by_state(self, filters: Filters, where: str, args: list[Any], descending: bool,
                  mark: tuple[Any, ...] | None, limit: int) -> list[sqlite3.Row]:
        """Sorted by state: each state's documents in the order of first seen, one state after the other,
        each read as a page sorted by first seen is (by the filter's index, or (state, first_seen))."""
        wanted = filters.states or (("rejected",) if filters.field or filters.rule else ())
        present: list[str] = []
        row = self.db.execute("SELECT min(state) FROM documents").fetchone()
        while row is not None and row[0] is not None:  # the states there are, skipping through the index
            present.append(row[0])
            row = self.db.execute("SELECT min(state) FROM documents WHERE state > ?", (row[0],)).fetchone()
        order = " DESC" if descending else ""
        rows: list[sqlite3.Row] = []
        for state in sorted(present, reverse=descending):
            if (wanted and state not in wanted) or (mark is not None and (state > mark[0] if descending
                                                                          else state < mark[0])):
                continue
            keyset, keyset_args = "", []
            if mark is not None and state == mark[0]:
                keyset, keyset_args = f" AND (first_seen, id) {'<' if descending else '>'} (?, ?)", list(mark[1:])
            rows += self.db.execute(f"SELECT * FROM documents WHERE state = ? AND {where}{keyset}"
                                    f" ORDER BY first_seen{order}, id{order} LIMIT ?",
                                    [state, *args, *keyset_args, limit - len(rows)]).fetchall()
            if len(rows) >= limit:
                break
        return rows

    def _by_night(self, filters: Filters, descending: bool, mark: tuple[Any, ...] | None,
                  limit: int) -> list[sqlite3.Row]:
        """A range of nights sorted by last change: each night's first entries in the ledger's index of
        nights by last change (migration 6), merged here, newest night first when the newest change comes
        first. Once ``limit`` keys are held, a night is asked only for keys beyond the last one held, and
        most nights answer with nothing at the cost of one index seek (a year: 365 seeks, not 333,000
        rows sorted)."""
        first = filters.night_from.isoformat() if filters.night_from else ""
        last = filters.night_to.isoformat() if filters.night_to else "~"
        nights = [r[0] for r in self.db.execute(  # the nights that hold documents, from the ledger's counts
            f"SELECT DISTINCT night FROM night_counts WHERE night >= ? AND night <= ? ORDER BY night"
            f"{' DESC' if descending else ''}", (first, last))]
        beyond, behind = ("<", ">") if descending else (">", "<")
        order = " DESC" if descending else ""
        held: list[tuple[Any, ...]] = []
        for night in nights:
            sql, args = (f"SELECT updated_at, id FROM documents INDEXED BY documents_night_updated WHERE {_NIGHT} = ?",
                         [night])
            if mark is not None:
                sql += f" AND (updated_at, id) {beyond} (?, ?)"
                args += list(mark)
            if len(held) >= limit:
                sql += f" AND (updated_at, id) {behind} (?, ?)"
                args += list(held[-1])
            found = self.db.execute(f"{sql} ORDER BY updated_at{order}, id{order} LIMIT ?", [*args, limit]).fetchall()
            if found:
                held = sorted([*held, *(tuple(r) for r in found)], reverse=descending)[:limit]
        return self._rows([int(k[-1]) for k in held], SORTS["updated"], descending)

    def _rows(self, ids: list[int], columns: tuple[str, ...], descending: bool) -> list[sqlite3.Row]:
        if not ids:
            return []
        order = ", ".join(f"+{c}{' DESC' if descending else ''}" for c in columns)  # +: sort these, walk no index
        return self.db.execute(f"SELECT * FROM documents WHERE id IN ({','.join('?' * len(ids))}) ORDER BY {order}",
                               ids).fetchall()

    def _sorted(self, keys: list[sqlite3.Row], columns: tuple[str, ...], descending: bool,
                mark: tuple[Any, ...] | None, limit: int) -> list[sqlite3.Row]:
        """The few matches' sort keys (read by the filter's index) sorted here, the page's rows read by id."""
        tuples = [tuple(k) for k in keys]  # every sort ends with the id: keys are unique, the id last
        if mark is not None:
            tuples = [t for t in tuples if (t < mark if descending else t > mark)]
        tuples.sort(reverse=descending)
        return self._rows([int(t[-1]) for t in tuples[:limit]], columns, descending)

    def _walk(self, where: str, args: list[Any], columns: tuple[str, ...], descending: bool,
              mark: tuple[Any, ...] | None, limit: int, *, bounded: bool) -> list[sqlite3.Row] | None:
        """The sort's index walked from the page's edge, each row checked; None when :data:`WALK`
        entries held fewer than ``limit`` matches (``bounded``) and more entries remain."""
        order = ", ".join(c + (" DESC" if descending else "") for c in columns)
        cols = ", ".join(columns)
        index = f" INDEXED BY {SORT_INDEXES[columns]}" if bounded else ""  # else SQLite's choice
        keyset, keyset_args = "", []
        if mark is not None:
            keyset, keyset_args = f" AND ({cols}) {'<' if descending else '>'} ({', '.join('?' * len(mark))})", \
                list(mark)
        window, window_args = "", []
        if bounded:
            bound = self.db.execute(f"SELECT {cols} FROM documents{index} WHERE 1=1{keyset}"
                                    f" ORDER BY {order} LIMIT 1 OFFSET ?", [*keyset_args, WALK]).fetchone()
            if bound is not None:
                window = f" AND ({cols}) {'>=' if descending else '<='} ({', '.join('?' * len(columns))})"
                window_args = list(bound)
        rows = self.db.execute(f"SELECT * FROM documents{index} WHERE {where}{keyset}{window}"
                               f" ORDER BY {order} LIMIT ?", [*args, *keyset_args, *window_args, limit]).fetchall()
        if window and len(rows) < limit:
            return None
        return rows

    def _sort_all(self, filters: Filters, where: str, args: list[Any], columns: tuple[str, ...], descending: bool,
                  mark: tuple[Any, ...] | None, limit: int) -> list[sqlite3.Row]:
        """Every match sorted by SQLite, read by the filter's index (the rare case: many matches, far off)."""
        order = ", ".join(f"+{c}{' DESC' if descending else ''}" for c in columns)
        keyset, keyset_args = "", []
        if mark is not None:
            keyset = f" AND ({', '.join('+' + c for c in columns)}) {'<' if descending else '>'}" \
                     f" ({', '.join('?' * len(mark))})"
            keyset_args = list(mark)
        ids = [int(r[0]) for r in self.db.execute(
            f"SELECT id FROM {filters.source()} WHERE {where}{keyset} ORDER BY {order} LIMIT ?",
            [*args, *keyset_args, limit])]
        return self._rows(ids, columns, descending)

    def each_document(self, filters: Filters, page: Page) -> Iterator[sqlite3.Row]:
        """Every document of the view, in the view's order, a page at a time (exports)."""
        current = replace(page, size=500, after=None, before=None)
        while True:
            result = self.documents(filters, current, count=False)
            yield from result.rows
            if result.next_after is None:
                return
            current = replace(current, after=result.next_after)

    def facilities(self) -> list[str]:
        """The facilities of the ledger (a handful), read by skipping through the index."""
        out: list[str] = []
        row = self.db.execute("SELECT min(facility) FROM documents").fetchone()
        while row is not None and row[0] is not None and len(out) < 100:
            out.append(row[0])
            row = self.db.execute("SELECT min(facility) FROM documents WHERE facility > ?", (row[0],)).fetchone()
        return out

    def document(self, doc_id: int) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.db.execute("SELECT * FROM documents WHERE id = ?", (doc_id,)).fetchone()
        return row

    def attempts(self, doc_id: int) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM attempts WHERE document_id = ? ORDER BY id", (doc_id,)).fetchall()

    def in_flight(self) -> int:
        """Attempts begun and not finished: a run is sending now, or one died while sending."""
        return int(self.db.execute("SELECT count(*) FROM attempts WHERE outcome = 'sending'").fetchone()[0])

    # -------------------------------------------------------------- what keeps failing

    def failing(self, first: dt.date, last: dt.date, limit: int = 20) -> dict[str, list[dict[str, Any]]]:
        """What caused the rejections of nights ``first``..``last``: the portal's field errors, its refusal
        codes without field errors, and the local findings of files refused before sending (no receipt)."""
        if self.counted:
            return self._failing_counted(first, last, limit)
        span = (night_start(first), night_start(last + dt.timedelta(days=1)))
        v = "e.value"

        def fields(sent: bool) -> list[dict[str, Any]]:
            rows = self.db.execute(
                f"SELECT {_FIELD.format(v=v)} AS field, {_RULE.format(v=v)} AS rule, max({_LABEL.format(v=v)})"
                f" AS label, count(*) AS errors, count(DISTINCT d.id) AS documents, max({_VI.format(v=v)})"
                f" AS example_vi, max({_EN.format(v=v)}) AS example_en"
                f" FROM documents d, {_ERRORS.format(d='d')} e WHERE e.type = 'object' AND d.state = 'rejected'"
                " AND d.first_seen >= ?"
                f" AND d.first_seen < ? AND d.transaction_id {'!=' if sent else '='} ''"
                " GROUP BY field, rule ORDER BY documents DESC, errors DESC, field LIMIT ?", (*span, limit)).fetchall()
            return [dict(r) for r in rows]

        codes = self.db.execute(
            "SELECT portal_code AS code, count(*) AS documents, max(message) AS example FROM documents"
            " WHERE state = 'rejected' AND errors = '[]' AND first_seen >= ? AND first_seen < ?"
            " GROUP BY portal_code ORDER BY documents DESC LIMIT ?", (*span, limit)).fetchall()
        return {"fields": fields(True), "codes": [dict(r) for r in codes], "local": fields(False)}

    def _failing_counted(self, first: dt.date, last: dt.date, limit: int) -> dict[str, list[dict[str, Any]]]:
        """:meth:`failing` from the ledger's counts per night (migration 5): the same answer."""
        span = (first.isoformat(), last.isoformat())

        def fields(sent: bool) -> list[dict[str, Any]]:
            rows = self.db.execute(
                "SELECT nullif(field, '') AS field, nullif(rule, '') AS rule, max(label) AS label, sum(errors) AS"
                " errors, sum(documents) AS documents, max(example_vi) AS example_vi, max(example_en) AS example_en"
                " FROM failing_counts WHERE night >= ? AND night <= ? AND sent = ? GROUP BY field, rule"
                " ORDER BY documents DESC, errors DESC, field LIMIT ?", (*span, int(sent), limit)).fetchall()
            return [dict(r) for r in rows]

        codes = self.db.execute(
            "SELECT code, sum(documents) AS documents, max(example) AS example FROM refusal_counts"
            " WHERE night >= ? AND night <= ? GROUP BY code ORDER BY documents DESC LIMIT ?", (*span, limit)).fetchall()
        return {"fields": fields(True), "codes": [dict(r) for r in codes], "local": fields(False)}


def document_dict(row: sqlite3.Row | Any) -> dict[str, Any]:
    """A ledger row as ``sohs status --json`` shows it (same keys, same order)."""
    return {"path": row["path"], "sha256": row["sha256"], "ma_lk": json.loads(row["ma_lks"]), "kind": row["kind"],
            "standard": row["standard"], "facility": row["facility"], "state": row["state"],
            "portal_code": row["portal_code"], "transaction_id": row["transaction_id"],
            "received_at": row["received_at"], "processed_at": row["processed_at"], "message": row["message"],
            "errors": json.loads(row["errors"]), "updated_at": row["updated_at"]}

