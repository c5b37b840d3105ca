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
    """``BEGIN IMMEDIATE`` … ``COMMIT``; inside a transaction already, a savepoint of it: the writes
    land with the enclosing transaction's commit, and an error undoes only this part of it (the
    ledger commits a group of sends' records at once this way: :mod:`sohs_cli.submission.submit`)."""
    if db.in_transaction:
        db.execute("SAVEPOINT part")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK TO part")
            db.execute("RELEASE part")
            raise
        db.execute("RELEASE part")
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
