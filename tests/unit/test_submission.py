"""Submitting through the real client to the in-process portal: outcomes, retries, ledger, reconcile."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from sohs_cli.foundation.credentials import SecretSource
from sohs_cli.foundation.errors import ConfigError, CredentialError, PortalUnavailable
from sohs_cli.mockportal.app import Portal, PortalConfig
from sohs_cli.mockportal.faults import Faults
from sohs_cli.portal.client import PortalClient, RetryPolicy
from sohs_cli.portal.hubmessage import MessageKey
from sohs_cli.signing.sign import FileSigner
from sohs_cli.signing.testpki import TestPki
from sohs_cli.signing.trust import Trust
from sohs_cli.submission.ledger import MIGRATIONS, Ledger
from sohs_cli.submission.submit import SubmitOptions, reconcile, refresh, submit_files
from tests.portal_helpers import PASSWORD, USER, accounts, envelope, signed

TRUST = Trust.none()  # set for each test from the session's TEST PKI (issue 15: submit verifies trust)


@pytest.fixture(autouse=True)
def _trust(pki: TestPki) -> None:
    global TRUST
    TRUST = Trust.of_ca_bundle(pki.ca_cert)


def options(**kw: Any) -> SubmitOptions:
    return SubmitOptions(trust=TRUST, **kw)


async def no_sleep(seconds: float) -> None:
    return None


def client_for(portal: Portal, *, password: str = PASSWORD, attempts: int = 4, user: str = USER,
               log: list[str] | None = None) -> PortalClient:
    os.environ["TEST_PORTAL_PW"] = password
    return PortalClient("http://portal.test", user, SecretSource("portal password", "TEST_PORTAL_PW"),
                        transport=httpx.ASGITransport(app=portal), policy=RetryPolicy(attempts=attempts, deadline=60),
                        sleep=no_sleep, seed=1, log=(log.append if log is not None else lambda m: None))


def scenario(tmp_path: Path, pki: TestPki, body: Callable[[Portal, Ledger], Awaitable[None]], **config: Any) -> None:
    tmp_path.mkdir(parents=True, exist_ok=True)
    portal = Portal(PortalConfig(data_dir=str(tmp_path / "portal"), accounts=accounts(tmp_path, pki),
                                 processing_delay=0, **config))
    ledger = Ledger(tmp_path / "home")

    async def go() -> None:
        try:
            await body(portal, ledger)
        finally:
            await portal.stop()

    try:
        asyncio.run(go())
    finally:
        ledger.close()
        os.environ.pop("TEST_PORTAL_PW", None)


def write_docs(folder: Path, signer: FileSigner, count: int, prefix: str = "LK2025110") -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        p = folder / f"hoso_{i:04d}.xml"
        p.write_bytes(signed(signer, f"{prefix}{i:05d}"))
        paths.append(str(p))
    return paths


def test_submit_skip_refresh(tmp_path: Path, pki: TestPki, clinic: FileSigner) -> None:
    paths = write_docs(tmp_path / "out", clinic, 3)
    bad = tmp_path / "out" / "bad.xml"
    bad.write_bytes(signed(clinic, "LK202511099999", card="GD479792000001"))
    unsigned = tmp_path / "out" / "unsigned.xml"
    unsigned.write_bytes(envelope("LK202511099998"))

    async def body(portal: Portal, ledger: Ledger) -> None:
        client = client_for(portal)
        first = await submit_files([*paths, str(bad), str(unsigned)], client, ledger, options())
        assert [i.status for i in first.items] == ["delivered"] * 4 + ["refused"]
        assert "123" in first.items[-1].message and int(first.exit_code) == 1
        again = await submit_files(paths, client, ledger, options())
        assert [i.status for i in again.items] == ["skipped"] * 3 and int(again.exit_code) == 0
        updated, supported = await refresh(ledger, client)
        assert supported and updated == 4
        states = {r["path"]: r["state"] for r in ledger.select()}
        assert states[str(bad)] == "rejected" and [states[p] for p in paths] == ["accepted"] * 3
        errors = ledger.select(states=["rejected"])[0]["errors"]
        assert "MA_THE_BHYT" in errors and "Mã thẻ BHYT" in errors
        forced = await submit_files(paths[:1], client, ledger, options(force=True))
        assert forced.items[0].status == "delivered"  # the portal answers identical bytes with the first receipt
        assert forced.items[0].transaction_id == first.items[0].transaction_id
        await client.close()

    scenario(tmp_path, pki, body)


def test_dry_run_sends_nothing(tmp_path: Path, pki: TestPki, clinic: FileSigner) -> None:
    paths = write_docs(tmp_path / "out", clinic, 2)

    async def body(portal: Portal, ledger: Ledger) -> None:
        result = await submit_files(paths, client_for(portal), ledger, options(dry_run=True))
        assert [i.status for i in result.items] == ["would-send"] * 2
        assert "guiHoSoXmlQD3176" in result.items[0].message
        assert portal.store.all_submissions() == [] and ledger.select() == []

    scenario(tmp_path, pki, body)


def test_retries_only_what_is_safe(tmp_path: Path, pki: TestPki, clinic: FileSigner) -> None:
    paths = write_docs(tmp_path / "out", clinic, 1)

    async def always_down(portal: Portal, ledger: Ledger) -> None:
        log: list[str] = []
        result = await submit_files(paths, client_for(portal, log=log), ledger, options())
        assert [i.status for i in result.items] == ["failed"] and int(result.exit_code) == 4
        assert len(log) == 3 and all("HTTP 503" in m for m in log)  # 4 attempts, 3 logged retries
        assert ledger.select()[0]["state"] == "failed"

    scenario(tmp_path / "a", pki, always_down, faults=Faults(fail_rate=1.0, seed=2))

    async def wrong_password(portal: Portal, ledger: Ledger) -> None:
        with pytest.raises(CredentialError, match="refused the login"):
            await submit_files(paths, client_for(portal, password="sai"), ledger, options())
        assert portal.store.all_submissions() == []

    scenario(tmp_path / "b", pki, wrong_password)

    async def other_facility(portal: Portal, ledger: Ledger) -> None:
        client = client_for(portal, user="01001_BV", password="other")
        with pytest.raises(ConfigError, match="not allowed"):
            await submit_files(paths, client, ledger, options())

    scenario(tmp_path / "c", pki, other_facility)


def test_token_expiry_logs_in_again(tmp_path: Path, pki: TestPki, clinic: FileSigner) -> None:
    paths = write_docs(tmp_path / "out", clinic, 3)

    async def body(portal: Portal, ledger: Ledger) -> None:
        client = client_for(portal)
        result = await submit_files(paths[:1], client, ledger, options())
        assert result.items[0].status == "delivered"
        portal.store.db.execute("UPDATE tokens SET expires_ts = 0")  # the portal forgets the token early
        result = await submit_files(paths[1:], client, ledger, options())
        assert [i.status for i in result.items] == ["delivered", "delivered"]

    scenario(tmp_path, pki, body)


def test_reconcile_adopts_what_the_portal_has(tmp_path: Path, pki: TestPki, clinic: FileSigner) -> None:
    paths = write_docs(tmp_path / "out", clinic, 2)

    async def body(portal: Portal, ledger: Ledger) -> None:
        from sohs_cli.submission.ledger import DocumentInfo
        from sohs_cli.submission.submit import prepare

        client = client_for(portal)
        infos = [prepare(p, options()) for p in paths]
        # a crashed run: both attempts committed; only the first request reached the portal
        for info in infos:
            assert isinstance(info, DocumentInfo)
            ledger.begin_attempt(ledger.record(info), info.endpoint)
        first = infos[0]
        assert isinstance(first, DocumentInfo)
        await client.submit(Path(paths[0]).read_bytes(), first.endpoint, "130", "79001")
        found = await reconcile(ledger, client)
        assert found == 1 and ledger.open_attempts() == []
        rows = {r["path"]: r for r in ledger.select()}
        assert rows[paths[0]]["state"] == "sent" and rows[paths[0]]["transaction_id"]
        assert rows[paths[1]]["state"] == "failed"
        result = await submit_files(paths, client, ledger, options())
        assert [i.status for i in result.items] == ["skipped", "delivered"]
        assert [s.times_received for s in portal.store.all_submissions()] == [1, 1]  # nothing sent twice
        assert ledger.check() == []

    scenario(tmp_path, pki, body)


def test_unavailable_client_error_is_one_line(tmp_path: Path) -> None:
    async def body() -> None:
        client = PortalClient("http://127.0.0.1:9", USER, SecretSource("p", "TEST_PORTAL_PW"),
                              policy=RetryPolicy(attempts=2, deadline=5), sleep=no_sleep, connect_timeout=1)
        os.environ["TEST_PORTAL_PW"] = "x"
        with pytest.raises(PortalUnavailable, match="unavailable") as err:
            await client.lookup(ma_lk="x")
        assert "\n" not in str(err.value)
        await client.close()

    asyncio.run(body())


def test_ledger_file_is_private_and_migrated(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "home")
    assert stat.S_IMODE(os.stat(tmp_path / "home" / "ledger.sqlite3").st_mode) == 0o600
    assert ledger.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert ledger.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    ledger.close()
    Ledger(tmp_path / "home").close()  # reopening migrates nothing twice
    ledger = Ledger(tmp_path / "home")
    ledger.db.execute("PRAGMA user_version = 99")
    ledger.close()
    with pytest.raises(ConfigError, match="newer sohs"):
        Ledger(tmp_path / "home")


def test_checkup_envelopes_go_to_the_hub(tmp_path: Path, pki: TestPki, clinic: FileSigner, doctor: FileSigner,
                                         examples: Path, message_key: MessageKey) -> None:
    from sohs_cli.portal.hub import HubClient
    from sohs_cli.signing.sign import sign_document
    from tests.portal_helpers import GLN

    raw = (examples / "checkup_adult_2062.xml").read_bytes()
    (tmp_path / "out").mkdir(parents=True)
    both = tmp_path / "out" / "ksk.xml"
    both.write_bytes(sign_document(sign_document(raw, doctor, role="doctor"), clinic))
    half = tmp_path / "out" / "ksk-doctor-only.xml"
    half.write_bytes(sign_document(raw, doctor, role="doctor"))

    async def body(portal: Portal, ledger: Ledger) -> None:
        os.environ["TEST_HUB_PW"] = PASSWORD
        hub = HubClient("http://portal.test", USER, SecretSource("hub password", "TEST_HUB_PW"),
                        transport=httpx.ASGITransport(app=portal), sleep=no_sleep, gln=GLN, message_key=message_key)
        client = client_for(portal)
        without = await submit_files([str(both)], client, ledger, options())
        assert without.items[0].status == "refused" and "hub.gln" in without.items[0].message
        result = await submit_files([str(both), str(half)], client, ledger, options(), hub=hub)
        assert [i.status for i in result.items] == ["delivered", "refused"], result.items
        assert result.items[0].transaction_id.startswith(f"DS-{GLN}-"), result.items[0]
        assert "CKS_BENH_VIEN" in result.items[1].message
        again = await submit_files([str(both)], client, ledger, options(force=True), hub=hub)
        assert again.items[0].transaction_id == result.items[0].transaction_id  # same msg_id, first answer
        assert len([s for s in portal.store.all_submissions() if s.service == "ksk"]) == 1
        # regression (issue 13): a KHAMSUCKHOE of another facility was pushed; now refused before sending
        other = tmp_path / "out" / "ksk-other.xml"
        from sohs_cli.documents import samples
        from sohs_cli.documents.kinds import pack

        blocks = samples.adult_checkup("KSK202611000077")
        blocks[1] = blocks[1].replace(b"<MA_CSKCB>01001<", b"<MA_CSKCB>02002<")
        other_raw = pack([(f"b{i}", b) for i, b in enumerate(blocks)], facility="01001", envelope="KHAMSUCKHOE").data
        other.write_bytes(sign_document(sign_document(other_raw, doctor, role="doctor"), clinic))
        other_gln = HubClient("http://portal.test", USER, SecretSource("hub password", "TEST_HUB_PW"),
                              transport=httpx.ASGITransport(app=portal), sleep=no_sleep, gln="8930000000024",
                              message_key=message_key)
        refused = await submit_files([str(other), str(both)], client, ledger, options(facility="01001", force=True),
                                     hub=hub)
        assert [i.status for i in refused.items] == ["refused", "delivered"], refused.items
        assert "MA_CSKCB (Mã cơ sở KBCB) 02002 is not the configured facility (facility 01001)" \
            in refused.items[0].message
        wrong_gln = await submit_files([str(both)], client, ledger, options(force=True), hub=other_gln)
        assert wrong_gln.items[0].status == "refused" and "hub.gln 8930000000024" in wrong_gln.items[0].message
        await other_gln.close()
        with pytest.raises(ConfigError, match="13-digit"):
            HubClient("http://portal.test", USER, SecretSource("p", "X"), gln="123")
        await hub.close()
        await client.close()
        os.environ.pop("TEST_HUB_PW", None)

    scenario(tmp_path, pki, body)
