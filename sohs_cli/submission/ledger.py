"""The permanent record of every delivery: SQLite in the data folder (``SOHS_HOME`` / ``--home``).

The real portal shows results for 60 days; the ledger keeps them for ever. One row per document
(identified by the SHA-256 of the signed bytes) and one per attempt. An attempt is written, and
committed, **before** the request leaves (``sending``), and finished after: a crash at any instant
leaves either no attempt (nothing was sent) or an open one, which the next run reconciles with the
portal before it sends anything again.

Document states: ``pending`` (to send, or in flight), ``sent`` (receipt held, result not yet
known), ``accepted``, ``rejected`` (fix the data), ``failed`` (the portal was unavailable; the next
run sends it again). Schema changes are migrations numbered by ``PRAGMA user_version``. The file is
created with mode 0600 (SQLite gives its WAL files the same mode). No secret is ever stored.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from sohs_cli.foundation.errors import ConfigError, MachineError
from sohs_cli.foundation.i18n import _
from sohs_cli.foundation.sqlitedb import transaction

FINAL = ("accepted", "rejected")
STATES = ("pending", "sent", "accepted", "rejected", "failed")

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE documents(
        id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL UNIQUE, path TEXT NOT NULL, kind TEXT NOT NULL,
        standard TEXT NOT NULL, facility TEXT NOT NULL, ma_lks TEXT NOT NULL, endpoint TEXT NOT NULL,
        first_seen TEXT NOT NULL, updated_at TEXT NOT NULL, state TEXT NOT NULL,
        portal_code TEXT NOT NULL DEFAULT '', transaction_id TEXT NOT NULL DEFAULT '',
        received_at TEXT NOT NULL DEFAULT '', message TEXT NOT NULL DEFAULT '',
        errors TEXT NOT NULL DEFAULT '[]', processed_at TEXT NOT NULL DEFAULT '');
    CREATE INDEX documents_state ON documents(state);
    CREATE TABLE document_lks(document_id INTEGER NOT NULL REFERENCES documents(id), ma_lk TEXT NOT NULL);
    CREATE INDEX document_lks_lk ON document_lks(ma_lk);
    CREATE TABLE attempts(
        id INTEGER PRIMARY KEY, document_id INTEGER NOT NULL REFERENCES documents(id),
        started_at TEXT NOT NULL, finished_at TEXT NOT NULL DEFAULT '', endpoint TEXT NOT NULL,
        outcome TEXT NOT NULL, portal_code TEXT NOT NULL DEFAULT '', transaction_id TEXT NOT NULL DEFAULT '',
        received_at TEXT NOT NULL DEFAULT '', message TEXT NOT NULL DEFAULT '');
    CREATE INDEX attempts_document ON attempts(document_id);
    """,
    # 2: what `sohs dashboard` sorts and filters by stays fast on a million documents (keyset pages,
    # nights by first_seen); documents_state is a prefix of documents_state_seen
    """
    CREATE INDEX documents_seen ON documents(first_seen);
    CREATE INDEX documents_updated ON documents(updated_at);
    CREATE INDEX documents_state_seen ON documents(state, first_seen);
    CREATE INDEX documents_facility_seen ON documents(facility, first_seen);
    DROP INDEX documents_state;
    """,
    # 3: the dashboard's kind, standard and file-name filters, and open attempts, without a table scan
    # (a million documents: a scan is half a second); documents_name is the file name without its folder
    """
    CREATE INDEX documents_kind_seen ON documents(kind, first_seen);
    CREATE INDEX documents_standard_seen ON documents(standard, first_seen);
    CREATE INDEX documents_name ON documents(replace(replace(path, '\\', '/'), rtrim(replace(path, '\\', '/'),
        replace(replace(path, '\\', '/'), '/', '')), '') COLLATE NOCASE);
    CREATE INDEX attempts_open ON attempts(outcome) WHERE outcome = 'sending';
    """,
    # 4: the file-name index carries what the dashboard sorts by, so the matches of a name are sorted
    # from the index alone (reading each matching row first cost 250 ms for 10,000 matches)
    """
    DROP INDEX documents_name;
    CREATE INDEX documents_name ON documents(replace(replace(path, '\\', '/'), rtrim(replace(path, '\\', '/'),
        replace(replace(path, '\\', '/'), '/', '')), '') COLLATE NOCASE, state, first_seen, updated_at);
    """,
)


def _counts_migration() -> str:
    """Migration 5: what the dashboard's nights chart and "what keeps failing" count, kept by the
    ledger itself, so that three years of nights read a few thousand rows, not a million.

    Three tables of counts per night (``date(first_seen, '-5 hours')``: noon to noon, Vietnam time)
    and triggers that keep them true on every insert, update and delete of a document, in the
    writer's own transaction: the writer's code does not change, and no write can forget them. The
    migration fills them from the documents already there (a few seconds for a million).
    ``night_counts``: documents per state. ``failing_counts``: per field and rule of the field errors
    of rejected documents (``sent``: the portal's, after a receipt; else local findings of a file
    refused before sending), errors and documents. ``refusal_counts``: rejected documents without a
    field error, per portal result code. And ``document_errors``: each document's field errors as rows
    (document, field, rule), so that the documents with an error on a field are an index lookup, not a
    parse of every rejected document's JSON. Malformed ``errors`` JSON counts as none, never fails a write.
    """
    night = "coalesce(date({r}.first_seen, '-5 hours'), '')"
    errors = "json_each(CASE WHEN json_valid({r}.errors) THEN {r}.errors ELSE '[]' END)"
    pick = "coalesce(json_extract(e.value, '$.{0}'), json_extract(e.value, '$.{1}'))"

    def night_delta(r: str, sign: str) -> str:
        return (f"INSERT INTO night_counts VALUES ({night.format(r=r)}, {r}.state, {sign}1)"
                f" ON CONFLICT (night, state) DO UPDATE SET documents = documents + excluded.documents;"
                f" DELETE FROM night_counts WHERE night = {night.format(r=r)} AND state = {r}.state"
                f" AND documents <= 0;")

    def failing_delta(r: str, sign: str) -> str:
        labels = (f"max({pick.format('nhan', 'label')}), max({pick.format('moTa', 'message_vi')}),"
                  f" max({pick.format('moTaEn', 'message_en')})") if sign == "+" else "NULL, NULL, NULL"
        return (f"INSERT INTO failing_counts SELECT * FROM (SELECT {night.format(r=r)}, {r}.transaction_id != '',"
                f" coalesce({pick.format('truong', 'element')}, '') AS field,"
                f" coalesce({pick.format('maLoi', 'code')}, '') AS rule, {sign}count(*), {sign}1, {labels}"
                f" FROM {errors.format(r=r)} e WHERE {r}.state = 'rejected' AND e.type = 'object'"
                f" GROUP BY field, rule) WHERE true ON CONFLICT (night, sent, field, rule) DO UPDATE SET"
                f" errors = errors + excluded.errors, documents = documents + excluded.documents,"
                f" label = coalesce(excluded.label, label), example_vi = coalesce(excluded.example_vi, example_vi),"
                f" example_en = coalesce(excluded.example_en, example_en);"
                f" DELETE FROM failing_counts WHERE night = {night.format(r=r)} AND documents <= 0;"
                f" INSERT INTO refusal_counts SELECT {night.format(r=r)}, {r}.portal_code, {sign}1,"
                f" {f'nullif({r}.message, {chr(39) * 2})' if sign == '+' else 'NULL'}"
                f" WHERE {r}.state = 'rejected' AND {r}.errors = '[]' ON CONFLICT (night, code) DO UPDATE SET"
                f" documents = documents + excluded.documents, example = coalesce(excluded.example, example);"
                f" DELETE FROM refusal_counts WHERE night = {night.format(r=r)} AND documents <= 0;")

    def error_rows(r: str) -> str:
        return (f"INSERT OR IGNORE INTO document_errors SELECT {r}.id,"
                f" coalesce({pick.format('truong', 'element')}, ''), coalesce({pick.format('maLoi', 'code')}, '')"
                f" FROM {errors.format(r=r)} e WHERE e.type = 'object';")

    d = "FROM documents d, " + errors.format(r="d") + " e"
    field, rule = pick.format("truong", "element"), pick.format("maLoi", "code")
    return f"""
    CREATE TABLE night_counts(night TEXT NOT NULL, state TEXT NOT NULL, documents INTEGER NOT NULL,
        PRIMARY KEY (night, state)) WITHOUT ROWID;
    CREATE TABLE failing_counts(night TEXT NOT NULL, sent INTEGER NOT NULL, field TEXT NOT NULL, rule TEXT NOT NULL,
        errors INTEGER NOT NULL, documents INTEGER NOT NULL, label TEXT, example_vi TEXT, example_en TEXT,
        PRIMARY KEY (night, sent, field, rule)) WITHOUT ROWID;
    CREATE TABLE refusal_counts(night TEXT NOT NULL, code TEXT NOT NULL, documents INTEGER NOT NULL, example TEXT,
        PRIMARY KEY (night, code)) WITHOUT ROWID;
    CREATE TABLE document_errors(document_id INTEGER NOT NULL, field TEXT NOT NULL, rule TEXT NOT NULL,
        PRIMARY KEY (document_id, field, rule)) WITHOUT ROWID;
    CREATE INDEX document_errors_field ON document_errors(field);
    CREATE INDEX document_errors_rule ON document_errors(rule);
    INSERT OR IGNORE INTO document_errors SELECT d.id, coalesce({field}, ''), coalesce({rule}, '') {d}
        WHERE d.errors != '[]' AND e.type = 'object';
    INSERT INTO night_counts SELECT {night.format(r="documents")} AS n, state, count(*) FROM documents
        GROUP BY n, state;
    INSERT INTO failing_counts SELECT {night.format(r="d")} AS n, d.transaction_id != '' AS sent,
        coalesce({field}, '') AS field, coalesce({rule}, '') AS rule, count(*), count(DISTINCT d.id),
        max({pick.format('nhan', 'label')}), max({pick.format('moTa', 'message_vi')}),
        max({pick.format('moTaEn', 'message_en')}) {d} WHERE d.state = 'rejected' AND e.type = 'object'
        GROUP BY n, sent, field, rule;
    INSERT INTO refusal_counts SELECT {night.format(r="documents")} AS n, portal_code, count(*),
        nullif(max(message), '') FROM documents WHERE state = 'rejected' AND errors = '[]' GROUP BY n, portal_code;
    CREATE TRIGGER documents_counted AFTER INSERT ON documents BEGIN
        {night_delta("new", "+")} END;
    CREATE TRIGGER documents_uncounted AFTER DELETE ON documents BEGIN
        {night_delta("old", "-")} END;
    CREATE TRIGGER documents_recounted AFTER UPDATE OF state, first_seen ON documents
        WHEN old.state IS NOT new.state OR old.first_seen IS NOT new.first_seen BEGIN
        {night_delta("old", "-")} {night_delta("new", "+")} END;
    CREATE TRIGGER documents_errors_listed AFTER INSERT ON documents WHEN new.errors != '[]' BEGIN
        {error_rows("new")} END;
    CREATE TRIGGER documents_errors_relisted AFTER UPDATE OF errors ON documents
        WHEN old.errors IS NOT new.errors BEGIN
        DELETE FROM document_errors WHERE document_id = old.id; {error_rows("new")} END;
    CREATE TRIGGER documents_errors_unlisted AFTER DELETE ON documents BEGIN
        DELETE FROM document_errors WHERE document_id = old.id; END;
    CREATE TRIGGER documents_failing_counted AFTER INSERT ON documents WHEN new.state = 'rejected' BEGIN
        {failing_delta("new", "+")} END;
    CREATE TRIGGER documents_failing_uncounted AFTER DELETE ON documents WHEN old.state = 'rejected' BEGIN
        {failing_delta("old", "-")} END;
    CREATE TRIGGER documents_failing_recounted
        AFTER UPDATE OF state, errors, first_seen, transaction_id, portal_code, message ON documents
        WHEN old.state = 'rejected' OR new.state = 'rejected' BEGIN
        {failing_delta("old", "-")} {failing_delta("new", "+")} END;
    """


MIGRATIONS += (_counts_migration(),)


def statements(script: str) -> list[str]:
    """The statements of a migration: split at each ``;`` that ends one (a trigger's body holds several)."""
    out: list[str] = []
    current = ""
    for piece in script.split(";"):
        current += piece + ";"
        if sqlite3.complete_statement(current):
            if current.strip(" \n;"):
                out.append(current.strip())
            current = ""
    if current.strip(" \n;"):
        out.append(current.strip())
    return out


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class DocumentInfo:
    sha256: str
    path: str
    kind: str
    standard: str
    facility: str
    ma_lks: tuple[str, ...]
    endpoint: str


P = ParamSpec("P")
R = TypeVar("R")


def _sqlite_errors(fn: Callable[Concatenate[Ledger, P], R]) -> Callable[Concatenate[Ledger, P], R]:
    """SQLite's errors are the machine's (a read-only or full disk, a file size limit, a damaged or
    foreign file): each becomes one line naming the ledger and what to do (exit 3), not a bug."""

    def guarded(self: Ledger, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise ledger_trouble(self.path, exc) from None

    guarded.__doc__, guarded.__name__ = fn.__doc__, fn.__name__
    return guarded


def ledger_trouble(path: Path, exc: sqlite3.Error) -> MachineError:
    text = str(exc)
    low = text.lower()
    keep = _("nothing was lost: a send is recorded before it leaves, and what was not recorded was not sent")
    if "readonly" in low or "read-only" in low:
        return MachineError(_("the ledger {path} is read-only: {reason}", path=path, reason=text),
                            hint=_("give the user running sohs write access to it, its folder and the -wal and "
                                   "-shm files beside it; {keep}", keep=keep))
    if "full" in low:
        return MachineError(_("the disk holding the ledger {path} is full", path=path),
                            hint=_("free space on it, then run again; {keep}", keep=keep))
    if "i/o" in low:
        return MachineError(_("the ledger {path} cannot be written: {reason}", path=path, reason=text),
                            hint=_("check the disk, its free space and the file size limit (ulimit -f); {keep}",
                                   keep=keep))
    if "locked" in low or "busy" in low:
        return MachineError(_("the ledger {path} is held by another program: {reason}", path=path, reason=text),
                            hint=_("close the program that has it open (a database browser?), then run again"))
    if isinstance(exc, sqlite3.DatabaseError) and ("not a database" in low or "malformed" in low):
        return MachineError(_("the ledger {path} is damaged or not a sohs ledger: {reason}", path=path, reason=text),
                            hint=_("move it aside (keep it: it holds your receipts; `sqlite3 FILE .recover` may "
                                   "save them) and run again: sohs starts a new ledger"))
    return MachineError(_("the ledger {path}: {reason}", path=path, reason=text),
                        hint=_("check the file and its folder"))


class Ledger:
    def __init__(self, home: Path) -> None:
        self.path = home / "ledger.sqlite3"
        try:
            if home.exists() and not home.is_dir():
                raise MachineError(_("the data folder {home} is a file, not a folder", home=home),
                                   hint=_("point SOHS_HOME / --home at a folder"))
            home.mkdir(parents=True, exist_ok=True)
            if not self.path.exists():
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
            # one thread at a time uses the connection, but not always the same one: during a
            # submission the writes run on a dedicated thread so that their fsync overlaps the network
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30, check_same_thread=False)
        except OSError as exc:
            raise MachineError(_("cannot open the ledger in {home}: {reason}", home=home, reason=exc.strerror or exc),
                               hint=_("check SOHS_HOME / --home points to a folder sohs can write to")) from None
        except sqlite3.Error as exc:
            raise ledger_trouble(self.path, exc) from None
        self.db.row_factory = sqlite3.Row
        self._open()

    @_sqlite_errors
    def _open(self) -> None:
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")  # a receipt, once written, survives a power cut
        self.db.execute("PRAGMA foreign_keys=ON")
        self._migrate()

    def _migrate(self) -> None:
        version = int(self.db.execute("PRAGMA user_version").fetchone()[0])
        if version == 0 and self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            raise MachineError(_("{path} is an SQLite file but not a sohs ledger", path=self.path),
                               hint=_("SOHS_HOME / --home points at another program's data: choose sohs's own "
                                      "folder, or move that file aside"))
        if version > len(MIGRATIONS):
            raise ConfigError(_("the ledger {path} was written by a newer sohs (schema {version})", path=self.path,
                                version=version), hint=_("upgrade sohs"))
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with transaction(self.db):
                for statement in statements(script):
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {number}")

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def group(self) -> Iterator[None]:
        """One transaction around several writes (each method's own transaction becomes a savepoint
        of it): they reach the disk together, with one commit and one flush, or not at all."""
        try:
            with transaction(self.db):
                yield
        except sqlite3.Error as exc:
            raise ledger_trouble(self.path, exc) from None

    @_sqlite_errors
    def check(self) -> list[str]:
        """Integrity problems (empty when sound): SQLite's own check and the ledger's invariants."""
        problems = [r[0] for r in self.db.execute("PRAGMA integrity_check") if r[0] != "ok"]
        marks = ",".join("?" * len(STATES))
        bad = self.db.execute(f"SELECT count(*) FROM documents WHERE state NOT IN ({marks})", STATES).fetchone()[0]
        if bad:
            problems.append(f"{bad} document(s) in an unknown state")
        orphan = self.db.execute("SELECT count(*) FROM documents WHERE state IN ('sent','accepted') "
                                 "AND transaction_id = ''").fetchone()[0]
        if orphan:
            problems.append(f"{orphan} delivered document(s) without a maGiaoDich")
        return problems

    # -------------------------------------------------------------- writing

    @_sqlite_errors
    def document(self, sha256: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.db.execute("SELECT * FROM documents WHERE sha256 = ?", (sha256,)).fetchone()
        return row

    def record(self, info: DocumentInfo) -> int:
        """The document's id, adding it as ``pending`` if new (the path is updated if it moved)."""
        return self.record_many([info])[0]

    @_sqlite_errors
    def record_many(self, infos: Sequence[DocumentInfo]) -> list[int]:
        """:meth:`record` for a batch, in one transaction (one disk flush, not one per document)."""
        with transaction(self.db):
            return [self._record(info, now_iso()) for info in infos]

    def _record(self, info: DocumentInfo, stamp: str) -> int:
        row = self.document(info.sha256)
        if row is not None:
            # the same bytes from another place: the row keeps pointing at its file while that exists
            # (a copy does not silently repoint it); a file that moved is followed
            if row["path"] != info.path and not os.path.exists(row["path"]):
                self.db.execute("UPDATE documents SET path = ?, updated_at = ? WHERE id = ?",
                                (info.path, stamp, row["id"]))
            return int(row["id"])
        cur = self.db.execute(
            "INSERT INTO documents (sha256, path, kind, standard, facility, ma_lks, endpoint, first_seen,"
            " updated_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')",
            (info.sha256, info.path, info.kind, info.standard, info.facility, json.dumps(list(info.ma_lks)),
             info.endpoint, stamp, stamp))
        doc_id = int(cur.lastrowid or 0)
        self.db.executemany("INSERT INTO document_lks VALUES (?, ?)", [(doc_id, lk) for lk in info.ma_lks])
        return doc_id

    @_sqlite_errors
    def record_refused(self, sha256: str, path: str, facility: str, message: str, errors: Sequence[Any]) -> None:
        """A file refused before anything was sent (invalid, unreadable, badly signed): ``rejected``,
        with no attempt and no portal code, so that ``sohs status --state rejected`` shows it."""
        stamp = now_iso()
        with transaction(self.db):
            row = self.document(sha256)
            if row is not None:  # seen before (the same bytes again): it points at the newest copy
                self.db.execute("UPDATE documents SET path = ?, updated_at = ? WHERE id = ? AND transaction_id = ''",
                                (path, stamp, row["id"]))
                return
            self.db.execute(
                "INSERT INTO documents (sha256, path, kind, standard, facility, ma_lks, endpoint, first_seen,"
                " updated_at, state, message, errors)"
                " VALUES (?, ?, 'unknown', '', ?, '[]', '', ?, ?, 'rejected', ?, ?)",
                (sha256, path, facility, stamp, stamp, message, json.dumps(list(errors), ensure_ascii=False)))

    @_sqlite_errors
    def begin_attempt(self, doc_id: int, endpoint: str) -> int:
        """Committed before the request leaves: the trace a crash leaves behind. A document that
        already holds a receipt (a ``--force`` resend) keeps its state and receipt meanwhile."""
        with transaction(self.db):
            cur = self.db.execute("INSERT INTO attempts (document_id, started_at, endpoint, outcome)"
                                  " VALUES (?, ?, ?, 'sending')", (doc_id, now_iso(), endpoint))
            self.db.execute("UPDATE documents SET state = 'pending', updated_at = ?"
                            " WHERE id = ? AND transaction_id = ''", (now_iso(), doc_id))
        return int(cur.lastrowid or 0)

    @_sqlite_errors
    def finish_attempt(self, attempt_id: int, outcome: str, *, code: str = "", transaction_id: str = "",
                       received_at: str = "", message: str = "") -> None:
        """``outcome``: accepted or reconciled (-> sent), rejected, unavailable, interrupted or ambiguous
        (the request left, the reply did not come) (-> failed).

        The attempt keeps its own outcome. A receipt, once held, is never lost: an attempt that got
        none (a failed or refused ``--force`` resend) leaves the document's receipt and state as they
        were; one with a new receipt makes it the document's, and the earlier stays in its attempt."""
        state = {"accepted": "sent", "reconciled": "sent", "rejected": "rejected", "unavailable": "failed",
                 "interrupted": "failed", "ambiguous": "failed"}[outcome]
        stamp = now_iso()
        with transaction(self.db):
            doc_id = self.db.execute("SELECT document_id FROM attempts WHERE id = ?", (attempt_id,)).fetchone()[0]
            self.db.execute("UPDATE attempts SET finished_at = ?, outcome = ?, portal_code = ?, transaction_id = ?,"
                            " received_at = ?, message = ? WHERE id = ?",
                            (stamp, outcome, code, transaction_id, received_at, message, attempt_id))
            held = self.db.execute("SELECT transaction_id FROM documents WHERE id = ?", (doc_id,)).fetchone()[0]
            if held and not transaction_id:
                self.db.execute("UPDATE documents SET updated_at = ? WHERE id = ?", (stamp, doc_id))
                return
            self.db.execute("UPDATE documents SET state = ?, portal_code = ?, transaction_id = ?, received_at = ?,"
                            " message = ?, updated_at = ?, errors = CASE WHEN transaction_id = ? THEN errors"
                            " ELSE '[]' END, processed_at = CASE WHEN transaction_id = ? THEN processed_at"
                            " ELSE '' END WHERE id = ?",
                            (state, code, transaction_id, received_at, message, stamp, transaction_id, transaction_id,
                             doc_id))

    @_sqlite_errors
    def relocate(self, sha256: str, path: str) -> None:
        """The document's file moved (``sohs run`` files it in ``sent/`` or ``rejected/``)."""
        self.db.execute("UPDATE documents SET path = ?, updated_at = ? WHERE sha256 = ?", (path, now_iso(), sha256))

    @_sqlite_errors
    def set_result(self, doc_id: int, state: str, errors: Sequence[Any], processed_at: str, message: str = "") -> None:
        """The portal's processing result of a delivered document: accepted or rejected, with field errors."""
        with transaction(self.db):
            self.db.execute("UPDATE documents SET state = ?, errors = ?, processed_at = ?, updated_at = ?,"
                            " message = CASE WHEN ? = '' THEN message ELSE ? END WHERE id = ?",
                            (state, json.dumps(list(errors), ensure_ascii=False), processed_at, now_iso(),
                             message, message, doc_id))

    # -------------------------------------------------------------- reading

    @_sqlite_errors
    def open_attempts(self) -> list[sqlite3.Row]:
        """Attempts a crashed run left open, and the last attempts whose reply was lost (ambiguous)
        of documents still without a receipt, with their document: the portal may hold them."""
        return self.db.execute(
            "SELECT a.id AS attempt_id, a.started_at, a.outcome AS attempt_outcome, d.* FROM attempts a"
            " JOIN documents d ON d.id = a.document_id WHERE a.outcome = 'sending' OR (a.outcome = 'ambiguous'"
            " AND d.transaction_id = '' AND d.state = 'failed'"
            " AND a.id = (SELECT max(id) FROM attempts WHERE document_id = d.id)) ORDER BY a.id").fetchall()

    @_sqlite_errors
    def unfinished(self) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM documents WHERE state = 'sent' ORDER BY id").fetchall()

    @_sqlite_errors
    def select(self, *, since: str = "", states: Sequence[str] = (), facility: str = "", ma_lk: str = "",
               path: str = "") -> list[sqlite3.Row]:
        sql = "SELECT * FROM documents WHERE 1=1"
        args: list[Any] = []
        if since:
            sql += " AND updated_at >= ?"
            args.append(since)
        if states:
            sql += f" AND state IN ({','.join('?' * len(states))})"
            args += list(states)
        if facility:
            sql += " AND facility = ?"
            args.append(facility)
        if ma_lk:
            sql += " AND id IN (SELECT document_id FROM document_lks WHERE ma_lk = ?)"
            args.append(ma_lk)
        if path:
            sql += " AND path LIKE ?"
            args.append(f"%{path}%")
        return self.db.execute(sql + " ORDER BY first_seen, id", args).fetchall()

    @_sqlite_errors
    def attempts(self, doc_id: int) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM attempts WHERE document_id = ? ORDER BY id", (doc_id,)).fetchall()
