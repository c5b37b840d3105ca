"""Ledger writes of a submission committed in groups (one flush for the documents in flight), and
still each send recorded on disk before its request leaves."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import sqlite3
import urllib.parse
from pathlib import Path
from typing import Any

import httpx
import pytest

from sohs_cli.foundation.credentials import SecretSource
from sohs_cli.foundation.errors import MachineError
from sohs_cli.foundation.sqlitedb import transaction
from sohs_cli.mockportal.app import Portal, PortalConfig
from sohs_cli.portal.client import PortalClient, RetryPolicy
from sohs_cli.signing.sign import FileSigner
from sohs_cli.signing.testpki import TestPki
from sohs_cli.signing.trust import Trust
from sohs_cli.submission.ledger import DocumentInfo, Ledger
from sohs_cli.submission.submit import SubmitOptions, _Writer, submit_files
from tests.portal_helpers import PASSWORD, USER, accounts, signed


class Witness(httpx.AsyncBaseTransport):
    """The portal's transport, which first looks into the ledger file from a connection of its own:
    what it sees there is what a power cut at that instant would leave."""

    def __init__(self, inner: httpx.AsyncBaseTransport, ledger: Path) -> None:
        self.inner, self.ledger, self.seen = inner, ledger, []  # type: ignore[var-annotated]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/api/qd130/"):
            body = urllib.parse.parse_qs((await request.aread()).decode("ascii"))
            sha = hashlib.sha256(base64.b64decode(body["fileHSBase64"][0])).hexdigest()
            with sqlite3.connect(self.ledger) as db:
                row = db.execute("SELECT count(*) FROM attempts a JOIN documents d ON d.id = a.document_id"
                                 " WHERE d.sha256 = ? AND a.outcome = 'sending'", (sha,)).fetchone()
            self.seen.append(row[0])
        return await self.inner.handle_async_request(request)


async def no_sleep(seconds: float) -> None:
    return None


def test_every_request_leaves_after_its_attempt_is_committed(tmp_path: Path, pki: TestPki,
                                                             clinic: FileSigner) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    paths = []
    for i in range(24):
        (docs / f"h{i:02d}.xml").write_bytes(signed(clinic, f"LKGROUP{i:05d}"))
        paths.append(str(docs / f"h{i:02d}.xml"))
    portal = Portal(PortalConfig(data_dir=str(tmp_path / "portal"), accounts=accounts(tmp_path, pki),
                                 processing_delay=0))
    ledger = Ledger(tmp_path / "home")
    witness = Witness(httpx.ASGITransport(app=portal), ledger.path)
    os.environ["TEST_PORTAL_PW"] = PASSWORD
    client = PortalClient("http://portal.test", USER, SecretSource("portal password", "TEST_PORTAL_PW"),
                          transport=witness, policy=RetryPolicy(attempts=2, deadline=60), sleep=no_sleep)

    async def go() -> Any:
        try:
            return await submit_files(paths, client, ledger, SubmitOptions(trust=Trust.of_ca_bundle(pki.ca_cert),
                                                                           concurrency=8))
        finally:
            await client.close()
            await portal.stop()

    try:
        summary = asyncio.run(go())
    finally:
        ledger.close()
        os.environ.pop("TEST_PORTAL_PW", None)
    assert summary.count("delivered") == 24
    assert witness.seen == [1] * 24  # each request saw its own attempt on disk, from another connection
    with sqlite3.connect(tmp_path / "home" / "ledger.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM attempts WHERE outcome = 'accepted'").fetchone()[0] == 24


def test_a_failing_write_fails_alone_and_its_group_is_committed(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "home")
    infos = [DocumentInfo(f"{i:064x}", f"/x/{i}.xml", "GIAMDINHHS", "3176", "79001", (f"LK{i}",), "/api")
             for i in range(3)]
    ids = ledger.record_many(infos)

    def broken() -> None:
        with transaction(ledger.db):
            ledger.db.execute("UPDATE documents SET message = 'half' WHERE id = ?", (ids[0],))
            raise MachineError("the disk said no")

    async def go() -> list[Any]:
        writer = _Writer(ledger, asyncio.get_running_loop())
        try:
            # asked for at once: one group, with the broken write in its middle
            futures = [writer(ledger.begin_attempt, ids[0], "/api"), writer(broken),
                       writer(ledger.begin_attempt, ids[1], "/api")]
            return await asyncio.gather(*futures, return_exceptions=True)
        finally:
            writer.close()

    try:
        first, failed, second = asyncio.run(go())
    finally:
        ledger.close()
    assert isinstance(failed, MachineError) and isinstance(first, int) and isinstance(second, int)
    with sqlite3.connect(tmp_path / "home" / "ledger.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM attempts WHERE outcome = 'sending'").fetchone()[0] == 2
        assert db.execute("SELECT message FROM documents WHERE id = ?", (ids[0],)).fetchone()[0] == ""  # undone


def test_a_nested_transaction_is_a_savepoint(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "t.sqlite3", isolation_level=None)
    db.execute("CREATE TABLE t(x)")
    with transaction(db):
        db.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(ZeroDivisionError), transaction(db):
            db.execute("INSERT INTO t VALUES (2)")
            raise ZeroDivisionError
        with transaction(db):
            db.execute("INSERT INTO t VALUES (3)")
    assert [r[0] for r in db.execute("SELECT x FROM t ORDER BY x")] == [1, 3]
    assert not db.in_transaction
