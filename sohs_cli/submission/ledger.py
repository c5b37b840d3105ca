"""The permanent record of every delivery: SQLite in the data folder (``SOHS_HOME`` / ``--home``).

The real portal shows results for 60 days; the ledger keeps them for ever. One row per document
(identified by the SHA-256 of the signed bytes) and one per attempt. An attempt is written, and
committed, **before** the request leaves (``sending``), and finished after: a crash at any instant
leaves either no attempt (nothing was sent) or an open one, which the next run reconciles with the
portal before it sends anything again.

Document states: ``pending`` (to send, or in flight), ``sent`` (receipt held, result not yet
known), ``accepted``, ``rejected`` (fix the data), ``failed`` (the portal was unavailable; the next
run sends it again). Schema changes are migrations numbered by ``PRAGMA user_version``
(:mod:`sohs_cli.submission.schema`). The file is
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
from sohs_cli.submission.schema import MIGRATIONS as MIGRATIONS  # the schema, in its own module (re-exported)
from sohs_cli.submission.schema import statements as statements

FINAL = ("accepted", "rejected")
STATES = ("pending", "sent", "accepted", "rejected", "failed")


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
