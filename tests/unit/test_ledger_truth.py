"""The ledger stays true (issue 16): a receipt once held is never lost, attempts keep their own
outcome, paths are absolute, and the same bytes from another place do not silently repoint a row."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import httpx
import pytest

from sohs_cli.foundation.credentials import SecretSource
from sohs_cli.mockportal.app import Portal
from sohs_cli.mockportal.faults import FaultPlan, Faults
from sohs_cli.portal.hub import HubClient
from sohs_cli.portal.hubmessage import MessageKey
from sohs_cli.signing.sign import FileSigner, sign_document
from sohs_cli.signing.testpki import TestPki
from sohs_cli.signing.trust import Trust
from sohs_cli.submission.ledger import Ledger
from sohs_cli.submission.submit import SubmitOptions, submit_files
from tests.portal_helpers import GLN, PASSWORD, USER
from tests.unit.test_submission import client_for, scenario, write_docs


def options(pki: TestPki, **kw: object) -> SubmitOptions:
    return SubmitOptions(trust=Trust.of_ca_bundle(pki.ca_cert), **kw)  # type: ignore[arg-type]


def test_a_failed_forced_resend_keeps_the_accepted_receipt(tmp_path: Path, pki: TestPki, clinic: FileSigner) -> None:
    (path,) = write_docs(tmp_path / "out", clinic, 1)

    async def body(portal: Portal, ledger: Ledger) -> None:
        client = client_for(portal, attempts=2)
        first = await submit_files([path], client, ledger, options(pki))
        receipt = first.items[0].transaction_id
        assert first.items[0].status == "delivered" and receipt
        portal.faults = FaultPlan(Faults(fail_rate=1.0))  # the portal goes down
        forced = await submit_files([path], client, ledger, options(pki, force=True))
        assert forced.items[0].status == "failed"
        (row,) = ledger.select()
        assert row["state"] == "sent" and row["transaction_id"] == receipt  # the receipt is kept
        outcomes = [(a["outcome"], a["transaction_id"]) for a in ledger.attempts(row["id"])]
        assert outcomes == [("accepted", receipt), ("unavailable", "")]  # each attempt its own outcome
        assert ledger.check() == []
        await client.close()

    scenario(tmp_path, pki, body)


def test_paths_are_absolute_and_the_same_bytes_elsewhere_do_not_repoint(tmp_path: Path, pki: TestPki,
                                                                        clinic: FileSigner,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    write_docs(tmp_path / "out", clinic, 1)
    (tmp_path / "copy").mkdir()
    shutil.copy(tmp_path / "out" / "hoso_0000.xml", tmp_path / "copy" / "again.xml")
    monkeypatch.chdir(tmp_path)

    async def body(portal: Portal, ledger: Ledger) -> None:
        client = client_for(portal)
        await submit_files(["out/hoso_0000.xml"], client, ledger, options(pki))
        (row,) = ledger.select()
        assert row["path"] == str(tmp_path / "out" / "hoso_0000.xml")  # absolute: cron runs from anywhere
        copy = await submit_files(["copy/again.xml"], client, ledger, options(pki))
        assert copy.items[0].status == "skipped" and "out/hoso_0000.xml" in copy.items[0].message
        (row,) = ledger.select()
        assert row["path"] == str(tmp_path / "out" / "hoso_0000.xml")  # still the first copy
        await client.close()

    scenario(tmp_path, pki, body)


def test_a_checkup_envelope_of_another_facility_is_not_delivered(tmp_path: Path, pki: TestPki, clinic: FileSigner,
                                                                   doctor: FileSigner, examples: Path,
                                                                   message_key: MessageKey) -> None:
    """Issue 16: the facility check covered BHXH envelopes only; a checkup of another MACSKCB went out."""
    raw = (examples / "checkup_adult_2062.xml").read_bytes()
    (tmp_path / "out").mkdir(parents=True)
    ksk = tmp_path / "out" / "ksk.xml"
    ksk.write_bytes(sign_document(sign_document(raw, doctor, role="doctor"), clinic))

    async def body(portal: Portal, ledger: Ledger) -> None:
        os.environ["TEST_HUB_PW"] = PASSWORD
        hub = HubClient("http://portal.test", USER, SecretSource("hub password", "TEST_HUB_PW"),
                        transport=httpx.ASGITransport(app=portal), gln=GLN, message_key=message_key)
        client = client_for(portal)
        other = await submit_files([str(ksk)], client, ledger, options(pki, facility="01002"), hub=hub)
        assert other.items[0].status == "refused" and "01002" in other.items[0].message
        assert [s for s in portal.store.all_submissions() if s.service == "ksk"] == []
        await hub.close()
        await client.close()
        os.environ.pop("TEST_HUB_PW", None)

    scenario(tmp_path, pki, body)


def test_a_125_for_an_unregistered_certificate_is_a_setup_rejection_retried_when_asked(
        tmp_path: Path, pki: TestPki, clinic: FileSigner) -> None:
    """Issue 16: such a document was "rejected earlier; fix the data" for ever, though the data is
    fine and signing again gives the same bytes."""
    from sohs_cli.foundation.errors import ExitCode
    from sohs_cli.mockportal.accounts import load_accounts

    (path,) = write_docs(tmp_path / "out", clinic, 1)
    unregistered = tmp_path / "unregistered.toml"
    unregistered.write_text(f'[[account]]\nusername = "{USER}"\npassword = "{PASSWORD}"\nfacility = "79001"\n'
                            f'certificates = ["{pki.doctor_cert}"]\n', encoding="utf-8")

    async def body(portal: Portal, ledger: Ledger) -> None:
        portal.accounts = load_accounts(str(unregistered))  # the clinic's certificate is not registered yet
        client = client_for(portal)
        first = await submit_files([path], client, ledger, options(pki))
        assert first.items[0].setup and "Danh mục chứng thư số" in first.items[0].message
        assert first.exit_code == ExitCode.CONFIG  # a setup problem, not the data's
        again = await submit_files([path], client, ledger, options(pki))
        assert again.items[0].setup and "--retry-setup-rejections" in again.items[0].message
        assert len(portal.store.all_submissions()) == 0
        portal.accounts = dict(portal.config.accounts)  # the clinic registered it on the portal
        retried = await submit_files([path], client, ledger, options(pki, retry_setup=True))
        assert retried.items[0].status == "delivered" and retried.exit_code == ExitCode.OK
        await client.close()

    scenario(tmp_path, pki, body)
