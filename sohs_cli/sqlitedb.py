"""SQLite as both the ledger and the simulated portal use it: explicit transactions.

Connections are opened in autocommit mode (``isolation_level=None``), where Python's ``with
connection:`` opens no transaction at all. Writes that must land together go through
:func:`transaction`, which takes the write lock up front (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator


@contextlib.contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
