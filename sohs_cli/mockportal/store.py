"""What the simulated portal remembers, in SQLite under ``--data-dir``: a restart loses nothing.

Tokens, every received file (its bytes, SHA-256, receipt, how often the same bytes arrived), and the
processing result of each ``HOSO``. All access happens on the server's event-loop thread.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from typing import Any

from sohs_cli.foundation.sqlitedb import transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens(
    access_token TEXT PRIMARY KEY, id_token TEXT NOT NULL, username TEXT NOT NULL,
    service TEXT NOT NULL, expires_ts REAL NOT NULL);
CREATE TABLE IF NOT EXISTS submissions(
    ma_giao_dich TEXT PRIMARY KEY, service TEXT NOT NULL, endpoint TEXT NOT NULL, username TEXT NOT NULL,
    facility TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL, received_at TEXT NOT NULL,
    received_ts REAL NOT NULL, due_ts REAL NOT NULL, status TEXT NOT NULL, times_received INTEGER NOT NULL,
    msg_id TEXT, body BLOB NOT NULL, reply TEXT NOT NULL);
DROP INDEX IF EXISTS submissions_same_bytes;
CREATE INDEX IF NOT EXISTS submissions_by_bytes ON submissions(service, facility, sha256);
CREATE TABLE IF NOT EXISTS hoso(
    ma_giao_dich TEXT NOT NULL, idx INTEGER NOT NULL, ma_lk TEXT NOT NULL, state TEXT NOT NULL,
    errors TEXT NOT NULL, processed_at TEXT, replaced_by TEXT,
    PRIMARY KEY (ma_giao_dich, idx));
CREATE INDEX IF NOT EXISTS hoso_by_lk ON hoso(ma_lk);
"""


@dataclass(frozen=True)
class Submission:
    ma_giao_dich: str
    service: str  # "bhxh" | "ksk"
    endpoint: str
    username: str
    facility: str
    sha256: str
    size: int
    received_at: str  # yyyyMMddHHmmss, Vietnam time, as thoiGianTiepNhan
    due_ts: float
    status: str  # received | processed
    times_received: int
    reply: dict[str, Any]


class Store:
    def __init__(self, data_dir: str) -> None:
        os.makedirs(data_dir, exist_ok=True)
        path = os.path.join(data_dir, "portal.sqlite3")
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")  # durable across a crash of the server process
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    # -------------------------------------------------------------- tokens

    def add_token(self, access: str, id_token: str, username: str, service: str, expires_ts: float) -> None:
        self.db.execute("INSERT INTO tokens VALUES (?, ?, ?, ?, ?)", (access, id_token, username, service, expires_ts))

    def token(self, access: str, service: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.db.execute(
            "SELECT * FROM tokens WHERE access_token = ? AND service = ?", (access, service)).fetchone()
        return row

    # -------------------------------------------------------------- submissions

    def next_number(self) -> int:
        with transaction(self.db):
            self.db.execute("INSERT INTO meta VALUES ('counter', '0') ON CONFLICT(key) DO NOTHING")
            self.db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'counter'")
            row = self.db.execute("SELECT value FROM meta WHERE key = 'counter'").fetchone()
        return int(row[0])

    def same_bytes(self, service: str, facility: str, sha256: str) -> Submission | None:
        """The first receipt of these exact bytes from this facility, counting this arrival too."""
        with transaction(self.db):
            cur = self.db.execute(
                "UPDATE submissions SET times_received = times_received + 1 "
                "WHERE service = ? AND facility = ? AND sha256 = ?", (service, facility, sha256))
            if cur.rowcount == 0:
                return None
            row = self.db.execute("SELECT * FROM submissions WHERE service = ? AND facility = ? AND sha256 = ?"
                                  " ORDER BY received_ts, ma_giao_dich", (service, facility, sha256)).fetchone()
        return _submission(row)

    def add_submission(self, sub: Submission, body: bytes, ma_lks: list[str], msg_id: str | None = None) -> None:
        """Store a received file and its HOSO (pending) in one transaction, before the reply is sent."""
        with transaction(self.db):
            self._insert(sub, body, msg_id)
            for idx, ma_lk in enumerate(ma_lks, start=1):
                self.db.execute("INSERT INTO hoso VALUES (?, ?, ?, 'pending', '[]', NULL, NULL)",
                                (sub.ma_giao_dich, idx, ma_lk))

    def _insert(self, sub: Submission, body: bytes, msg_id: str | None) -> None:
        self.db.execute(
            "INSERT INTO submissions (ma_giao_dich, service, endpoint, username, facility, sha256, size, received_at,"
            " received_ts, due_ts, status, times_received, msg_id, body, reply)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (sub.ma_giao_dich, sub.service, sub.endpoint, sub.username, sub.facility, sub.sha256, sub.size,
             sub.received_at, sub.due_ts, sub.due_ts, sub.status, sub.times_received, msg_id, body,
             json.dumps(sub.reply, ensure_ascii=False)))

    def by_msg_id(self, service: str, facility: str, msg_id: str) -> Submission | None:
        row = self.db.execute("SELECT * FROM submissions WHERE service = ? AND facility = ? AND msg_id = ?",
                              (service, facility, msg_id)).fetchone()
        return _submission(row) if row else None

    def due(self, now_ts: float) -> list[tuple[Submission, bytes]]:
        rows = self.db.execute("SELECT * FROM submissions WHERE status = 'received' AND due_ts <= ? "
                               "ORDER BY received_ts, ma_giao_dich", (now_ts,)).fetchall()
        return [(_submission(r), bytes(r["body"])) for r in rows]

    def record_result(self, ma_giao_dich: str, facility: str, hosos: list[tuple[int, str, str, list[Any]]],
                      processed_at: str) -> None:
        """Store each HOSO's result; an accepted MA_LK replaces the facility's earlier versions."""
        with transaction(self.db):
            for idx, ma_lk, state, errors in hosos:
                self.db.execute("INSERT OR REPLACE INTO hoso VALUES (?, ?, ?, ?, ?, ?, NULL)",
                                (ma_giao_dich, idx, ma_lk, state, json.dumps(errors, ensure_ascii=False),
                                 processed_at))
                if ma_lk:
                    self.db.execute(
                        "UPDATE hoso SET replaced_by = ? WHERE ma_lk = ? AND ma_giao_dich != ? AND replaced_by IS NULL"
                        " AND ma_giao_dich IN (SELECT ma_giao_dich FROM submissions WHERE facility = ?)",
                        (ma_giao_dich, ma_lk, ma_giao_dich, facility))
            self.db.execute("UPDATE submissions SET status = 'processed' WHERE ma_giao_dich = ?", (ma_giao_dich,))

    def hosos(self, ma_giao_dich: str) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM hoso WHERE ma_giao_dich = ? ORDER BY idx", (ma_giao_dich,)).fetchall()

    def submission(self, ma_giao_dich: str) -> Submission | None:
        row = self.db.execute("SELECT * FROM submissions WHERE ma_giao_dich = ?", (ma_giao_dich,)).fetchone()
        return _submission(row) if row else None

    def by_ma_lk(self, facility: str, ma_lk: str, service: str = "bhxh") -> list[str]:
        rows = self.db.execute(
            "SELECT DISTINCT h.ma_giao_dich FROM hoso h JOIN submissions s USING (ma_giao_dich) "
            "WHERE s.facility = ? AND h.ma_lk = ? AND s.service = ? ORDER BY s.received_ts",
            (facility, ma_lk, service)).fetchall()
        return [r[0] for r in rows]

    def all_submissions(self) -> list[Submission]:
        rows = self.db.execute("SELECT * FROM submissions ORDER BY received_ts, ma_giao_dich").fetchall()
        return [_submission(r) for r in rows]


def _submission(row: sqlite3.Row) -> Submission:
    return Submission(row["ma_giao_dich"], row["service"], row["endpoint"], row["username"], row["facility"],
                      row["sha256"], row["size"], row["received_at"], row["due_ts"], row["status"],
                      row["times_received"], json.loads(row["reply"]))
