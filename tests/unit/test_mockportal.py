"""The simulated portal in-process (httpx.ASGITransport): the gateway's codes, processing, faults, hub."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from sohs_cli.foundation.credentials import SecretSource
from sohs_cli.mockportal.app import Portal, PortalConfig
from sohs_cli.mockportal.faults import Faults
from sohs_cli.portal.hubmessage import MessageKey, compact, load_message_key
from sohs_cli.signing.sign import FileSigner, sign_document
from sohs_cli.signing.testpki import TestPki
from tests.portal_helpers import FACILITY, GLN, InProcess, accounts, envelope, hub_message, sha, signed


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def run(tmp_path: Path, pki: TestPki, scenario: Callable[[InProcess, Portal, Clock], Awaitable[None]],
        **config: Any) -> None:
    clock = Clock()
    tmp_path.mkdir(parents=True, exist_ok=True)
    portal = Portal(PortalConfig(data_dir=str(tmp_path / "data"), accounts=accounts(tmp_path, pki), **config),
                    clock=clock)

    async def go() -> None:
        client = InProcess(portal)
        try:
            await scenario(client, portal, clock)
        finally:
            await client.client.aclose()
            await portal.stop()

    asyncio.run(go())


def test_token_codes(tmp_path: Path, pki: TestPki) -> None:
    async def scenario(c: InProcess, portal: Portal, clock: Clock) -> None:
        ok = await c.token()
        assert ok["maKetQua"] == "200" and set(ok["APIKey"]) == {
            "access_token", "id_token", "token_type", "username", "expires_in"}
        assert ok["APIKey"]["expires_in"] == "2026-11-23T09:00:00Z"
        assert (await c.token(password="sai"))["maKetQua"] == "401"
        assert (await c.token(username="nobody_BV"))["maKetQua"] == "401"
        assert (await c.token(username="01001_BV", password="other"))["maKetQua"] == "200"
        r = await c.client.post("/api/token/take", data={"username": "x"})
        assert r.json()["maKetQua"] == "205"

    run(tmp_path, pki, scenario)


def test_accept_then_process_then_lookup(tmp_path: Path, pki: TestPki, clinic: FileSigner) -> None:
    async def scenario(c: InProcess, portal: Portal, clock: Clock) -> None:
        token = (await c.token())["APIKey"]
        good = signed(clinic, "LK202511000201")
        receipt = await c.submit(token, good)
        assert receipt["maKetQua"] == "200" and receipt["thongDiep"] == "Tiếp nhận thành công"
        assert receipt["maGiaoDich"].startswith(FACILITY) and receipt["thoiGianTiepNhan"] == "20261123150000"
        pending = await c.lookup(token, maGiaoDich=receipt["maGiaoDich"])
        assert [r["trangThai"] for r in pending["ketQua"]] == ["CHO_XU_LY"]
        clock.advance(3)  # past --processing-delay
        done = await c.lookup(token, maLk="LK202511000201")
        assert done["ketQua"][0]["trangThai"] == "HOP_LE" and done["ketQua"][0]["dsLoi"] == []
        assert done["ketQua"][0]["sha256"] == sha(good)  # lets a client reconcile exactly
        again = await c.submit(token, good)  # the same bytes: the first receipt
        assert again["maGiaoDich"] == receipt["maGiaoDich"] and again["thoiGianTiepNhan"] == receipt["thoiGianTiepNhan"]
        subs = await c.submissions()
        assert len(subs) == 1 and subs[0]["times_received"] == 2 and subs[0]["sha256"] == sha(good)
        assert subs[0]["ma_lk"] == ["LK202511000201"] and subs[0]["result"][0]["state"] == "accepted"

    run(tmp_path, pki, scenario)


def test_content_errors_end_rejected_with_field_errors(tmp_path: Path, pki: TestPki, clinic: FileSigner) -> None:
    async def scenario(c: InProcess, portal: Portal, clock: Clock) -> None:
        token = (await c.token())["APIKey"]
        bad = signed(clinic, "LK202511000202", card="GD479792000001")  # 14-character card
        receipt = await c.submit(token, bad)
        assert receipt["maKetQua"] == "200"  # accepted on receipt; content is checked afterwards
        clock.advance(3)
        row = (await c.lookup(token, maGiaoDich=receipt["maGiaoDich"]))["ketQua"][0]
        assert row["trangThai"] == "TU_CHOI"
        fields = {e["truong"]: e for e in row["dsLoi"]}
        assert "MA_THE_BHYT" in fields and fields["MA_THE_BHYT"]["nhan"] == "Mã thẻ BHYT"
        assert "15" in fields["MA_THE_BHYT"]["moTaEn"]

    run(tmp_path, pki, scenario, processing_delay=2.0)


def test_resubmitting_an_episode_replaces_the_earlier_version(tmp_path: Path, pki: TestPki,
                                                              clinic: FileSigner) -> None:
    async def scenario(c: InProcess, portal: Portal, clock: Clock) -> None:
        token = (await c.token())["APIKey"]
        first = await c.submit(token, signed(clinic, "LK202511000203", today=dt.date(2026, 11, 20)))
        second = await c.submit(token, signed(clinic, "LK202511000203", today=dt.date(2026, 11, 21)))
        assert first["maGiaoDich"] != second["maGiaoDich"]
        rows = (await c.lookup(token, maLk="LK202511000203"))["ketQua"]
        assert [(r["maGiaoDich"], r["thayTheBoi"]) for r in rows] == [
            (first["maGiaoDich"], second["maGiaoDich"]), (second["maGiaoDich"], "")]

    run(tmp_path, pki, scenario, processing_delay=0.0)


def test_every_receipt_check_has_its_code(tmp_path: Path, pki: TestPki, clinic: FileSigner,
                                          doctor: FileSigner) -> None:
    async def scenario(c: InProcess, portal: Portal, clock: Clock) -> None:
        token = (await c.token())["APIKey"]
        good = signed(clinic, "LK202511000204")
        assert (await c.submit({**token, "access_token": "forged"}, good))["maKetQua"] == "401"
        assert (await c.submit(token, good, facility="79002"))["maKetQua"] == "402"
        assert (await c.submit(token, b"<GIAMDINHHS><unclosed>"))["maKetQua"] == "205"
        bomb = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xxxxxxxx">]><GIAMDINHHS>&x;</GIAMDINHHS>'
        assert (await c.submit(token, bomb))["maKetQua"] == "205"
        assert (await c.submit(token, envelope("LK202511000205")))["maKetQua"] == "123"
        tampered = good.replace(b"<NGAYLAP>", b"<NGAYLAP>1")
        assert (await c.submit(token, tampered))["maKetQua"] == "125"
        from sohs_cli.signing.certs import KeyMaterial
        from sohs_cli.signing.testpki import make_certificate, new_key

        key = new_key()
        stranger = FileSigner(KeyMaterial(key, make_certificate(clinic.certificate.subject, key)))
        unregistered = await c.submit(token, signed(stranger, "LK202511000206"))
        assert unregistered["maKetQua"] == "125" and "đăng ký" in unregistered["thongDiep"]
        old = await c.submit(token, signed(clinic, "LK202406000207", standard="4750"))
        assert old["maKetQua"] == "124" and "4750" in old["thongDiep"]
        r = await c.client.post("/api/qd130/guiHoSoXmlQD3176", data={"username": "79001_BV"},
                                headers={"accessToken": token["access_token"], "tokenId": token["id_token"],
                                         "passwordHash": "x"})
        assert r.status_code == 200 and r.json()["maKetQua"] == "401"  # errors in the body, HTTP 200
        clock.advance(3601)  # --token-ttl
        assert (await c.submit(token, good))["maKetQua"] == "401"
        assert await c.submissions() == []  # nothing refused was stored

    run(tmp_path, pki, scenario)


def test_garbage_base64_and_missing_fields(tmp_path: Path, pki: TestPki) -> None:
    async def scenario(c: InProcess, portal: Portal, clock: Clock) -> None:
        from tests.portal_helpers import form

        token = (await c.token())["APIKey"]
        headers, body = form(token, b"x")
        for change in ({"fileHSBase64": "%%%not base64"}, {"fileHSBase64": ""}, {"loaiHoSo": "0"}):
            r = await c.client.post("/api/qd130/guiHoSoXmlQD3176", data=body | change, headers=headers)
            assert r.json()["maKetQua"] == "205", change
        r = await c.client.post("/api/qd130/guiHoSoXmlQD3176", content=b"\xff\xfe garbage", headers=headers)
        assert r.status_code == 200 and r.json()["maKetQua"] == "401"
        assert (await c.client.get("/api/nothing")).status_code == 404
        assert (await c.client.get("/api/token/take")).status_code == 405

    run(tmp_path, pki, scenario)


def test_huge_body_is_refused_without_reading_it(tmp_path: Path, pki: TestPki) -> None:
    async def scenario(c: InProcess, portal: Portal, clock: Clock) -> None:
        r = await c.client.post("/api/qd130/guiHoSoXmlQD3176", content=b"a" * 2048)
        assert r.status_code == 200 and r.json()["maKetQua"] == "1001"

    run(tmp_path, pki, scenario, max_body=1024)


def test_state_survives_a_restart(tmp_path: Path, pki: TestPki, clinic: FileSigner) -> None:
    saved: dict[str, Any] = {}

    async def first(c: InProcess, portal: Portal, clock: Clock) -> None:
        saved["token"] = (await c.token())["APIKey"]
        saved["receipt"] = await c.submit(saved["token"], signed(clinic, "LK202511000208"))

    async def second(c: InProcess, portal: Portal, clock: Clock) -> None:
        clock.advance(5)
        rows = (await c.lookup(saved["token"], maGiaoDich=saved["receipt"]["maGiaoDich"]))["ketQua"]
        assert rows[0]["trangThai"] == "HOP_LE"  # the token and the file outlived the restart

    run(tmp_path, pki, first)
    run(tmp_path, pki, second)


def test_faults(tmp_path: Path, pki: TestPki, clinic: FileSigner) -> None:
    async def failing(c: InProcess, portal: Portal, clock: Clock) -> None:
        r = await c.client.post("/api/token/take", data={})
        assert r.status_code == 503
        assert (await c.client.get("/_mock/health")).status_code == 200  # /_mock/ is never faulted

    run(tmp_path / "a", pki, failing, faults=Faults(fail_rate=1.0, seed=1))

    async def limited(c: InProcess, portal: Portal, clock: Clock) -> None:
        codes = [(await c.client.post("/api/token/take", data={})).status_code for _ in range(5)]
        assert codes[:2] == [200, 200] and 429 in codes
        r = await c.client.post("/api/token/take", data={})
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1

    run(tmp_path / "b", pki, limited, faults=Faults(rate_limit=2))

    async def dropping(c: InProcess, portal: Portal, clock: Clock) -> None:
        token = (await c.token())["APIKey"]
        from tests.portal_helpers import form

        data = signed(clinic, "LK202511000209")
        headers, body = form(token, data)
        # the receipt never arrives: in-process httpx trips on the unfinished response; over a socket
        # it is a RemoteProtocolError (tests/e2e/test_portal_http.py)
        with pytest.raises((httpx.TransportError, AssertionError)):
            await c.client.post("/api/qd130/guiHoSoXmlQD3176", data=body, headers=headers)
        assert [s["sha256"] for s in await c.submissions()] == [sha(data)]  # … but the file was stored

    run(tmp_path / "c", pki, dropping, faults=Faults(drop_after_accept=1.0))


def test_fault_draws_are_reproducible_with_a_seed() -> None:
    from sohs_cli.mockportal.faults import FaultPlan

    a, b = FaultPlan(Faults(fail_rate=0.3, seed=7)), FaultPlan(Faults(fail_rate=0.3, seed=7))
    assert [a.draw(0.3) for _ in range(50)] == [b.draw(0.3) for _ in range(50)]


@pytest.mark.parametrize("form", ["base64", "xmldsig"])
def test_checkup_hub_push(tmp_path: Path, pki: TestPki, examples: Path, clinic: FileSigner, doctor: FileSigner,
                          message_key: MessageKey, form: str) -> None:
    raw = (examples / "checkup_adult_2062.xml").read_bytes()
    only_doctor = sign_document(raw, doctor, role="doctor", checkup_form=form)
    both = sign_document(only_doctor, clinic)

    async def scenario(c: InProcess, portal: Portal, clock: Clock) -> None:
        from tests.portal_helpers import PASSWORD, USER

        login = (await c.client.post("/api/auth/login", json={"username": USER, "password": PASSWORD})).json()
        # QĐ 2062 PL02 §5.1 b: the token is data.token, under a header with res_code
        assert login["header"]["res_code"] == "CM_SUCCESS" and login["header"]["success"] is True
        assert login["data"]["role"] == "facility" and login["data"]["duration"] == 3600
        assert "token" not in login
        auth = {"Authorization": f"Bearer {login['data']['token']}", "service-type": "100"}
        message = hub_message(message_key, both)
        r = await c.client.post("/api/platform/data-sync/push", json=message, headers=auth)
        assert r.status_code == 200 and r.json()["header"]["res_code"] == "PS_DS_SAVE_SUCCESS", r.text
        header = r.json()["header"]
        assert header["ref_msg_id"] == message["header"]["msg_id"] and header["msg_type"] == "102"
        assert header["txn_id"].startswith(f"DS-{GLN}-")
        assert r.json()["data"]["message_notify"] == "Successfully inserted data to DATA LAKE"
        again = await c.client.post("/api/platform/data-sync/push", json=message, headers=auth)
        assert again.json() == r.json()  # the same msg_id: the first result
        forged = hub_message(message_key, both) | {"signature": base64.b64encode(b"x" * 256).decode()}
        r = await c.client.post("/api/platform/data-sync/push", json=forged, headers=auth)
        assert r.json()["header"]["res_code"] == "PS_DS_RSA_SIGNATURE_INVALID"
        unsigned = hub_message(message_key, both)
        del unsigned["signature"]
        r = await c.client.post("/api/platform/data-sync/push", json=unsigned, headers=auth)
        assert r.json()["header"]["res_code"] == "PS_DS_RSA_SIGNATURE_MISSING"
        r = await c.client.post("/api/platform/data-sync/push", json=hub_message(message_key, only_doctor),
                                headers=auth)
        assert r.json()["header"]["res_code"] == "PS_DS_CA_SIGNATURE_MISSING", r.text
        r = await c.client.post("/api/platform/data-sync/push", json=message, headers={"service-type": "100"})
        assert r.status_code == 401 and r.json()["header"]["res_code"] == "CM_AUTH_PERMISSION"
        bad_login = await c.client.post("/api/auth/login", json={"username": USER, "password": "sai"})
        assert bad_login.status_code == 401 and bad_login.json()["header"]["res_code"] == "CM_AUTH_ACCOUNT_FAIL"
        assert bad_login.json()["data"] is None
        subs = [s for s in await c.submissions() if s["service"] == "ksk"]
        assert len(subs) == 1 and subs[0]["ma_lk"] == ["KSK202611000001"]

    run(tmp_path, pki, scenario)


def test_the_checksum_is_verified_with_the_issued_key_not_the_facility_certificate(
        tmp_path: Path, pki: TestPki, examples: Path, clinic: FileSigner, doctor: FileSigner) -> None:
    """Regression (issue 13): the hub accepted a checksum signed by the facility's CA certificate."""
    both = sign_document(sign_document((examples / "checkup_adult_2062.xml").read_bytes(), doctor, role="doctor"),
                         clinic)
    facility_key = load_message_key(pki.clinic_key, SecretSource("p", "UNSET"))

    async def scenario(c: InProcess, portal: Portal, clock: Clock) -> None:
        from tests.portal_helpers import PASSWORD, USER

        login = (await c.client.post("/api/auth/login", json={"username": USER, "password": PASSWORD})).json()
        auth = {"Authorization": f"Bearer {login['data']['token']}", "service-type": "100"}
        r = await c.client.post("/api/platform/data-sync/push", json=hub_message(facility_key, both), headers=auth)
        assert r.status_code == 400 and r.json()["header"]["res_code"] == "PS_DS_RSA_SIGNATURE_INVALID"

    run(tmp_path, pki, scenario)


@pytest.mark.parametrize(("change", "field"), [
    ({"msg_type": 101}, "msg_type"), ({"send_datetime": "1781084650736"}, "send_datetime"),
    ({"msg_id": "123"}, "msg_id"), ({"sender_id": "8930000000000"}, "sender_id"), ({"txn_type": None}, "txn_type")])
def test_the_hub_checks_every_header_field(tmp_path: Path, pki: TestPki, message_key: MessageKey,
                                           change: dict[str, Any], field: str) -> None:
    async def scenario(c: InProcess, portal: Portal, clock: Clock) -> None:
        from tests.portal_helpers import PASSWORD, USER

        login = (await c.client.post("/api/auth/login", json={"username": USER, "password": PASSWORD})).json()
        auth = {"Authorization": f"Bearer {login['data']['token']}", "service-type": "100"}
        message = hub_message(message_key, b"<KHAMSUCKHOE/>")
        message["header"] |= change
        if change.get("txn_type", "") is None:
            del message["header"]["txn_type"]
        message["signature"] = message_key.sign(compact(message["header"]), message["data"])
        r = await c.client.post("/api/platform/data-sync/push", json=message, headers=auth)
        assert r.status_code == 400 and r.json()["header"]["res_code"] == "CM_INVALID_REQUEST"
        assert field in r.json()["header"]["res_msg"]

    run(tmp_path, pki, scenario)


def test_check_in_goes_to_its_own_endpoint(tmp_path: Path, pki: TestPki, clinic: FileSigner) -> None:
    from sohs_cli.documents import samples

    checkin = sign_document(samples.checkin("3176", "LK202511000401"), clinic)

    async def scenario(c: InProcess, portal: Portal, clock: Clock) -> None:
        token = (await c.token())["APIKey"]
        receipt = await c.submit(token, checkin, "/api/qd130/checkInKcbQd3176", loai="0")
        assert receipt["maKetQua"] == "200", receipt
        wrong = await c.submit(token, checkin, "/api/qd130/guiHoSoXmlQD3176")
        assert wrong["maKetQua"] == "124" and "GIAMDINHHS" in wrong["thongDiep"]
        assert (await c.submit(token, checkin, "/api/qd130/checkInKcbQd3176"))["maKetQua"] == "205"  # loaiHoSo 130
        clock.advance(3)
        row = (await c.lookup(token, maLk="LK202511000401"))["ketQua"][0]
        assert row["trangThai"] == "HOP_LE" and row["maGiaoDich"] == receipt["maGiaoDich"]

    run(tmp_path, pki, scenario)


def test_the_gateway_lookup_does_not_see_the_hub(tmp_path: Path, pki: TestPki, examples: Path, clinic: FileSigner,
                                                 doctor: FileSigner, message_key: MessageKey) -> None:
    both = sign_document(sign_document((examples / "checkup_adult_2062.xml").read_bytes(), doctor, role="doctor"),
                         clinic)

    async def scenario(c: InProcess, portal: Portal, clock: Clock) -> None:
        from tests.portal_helpers import PASSWORD, USER

        login = (await c.client.post("/api/auth/login", json={"username": USER, "password": PASSWORD})).json()
        auth = {"Authorization": f"Bearer {login['data']['token']}", "service-type": "100"}
        pushed = (await c.client.post("/api/platform/data-sync/push", json=hub_message(message_key, both),
                                      headers=auth)).json()
        token = (await c.token())["APIKey"]
        assert (await c.lookup(token, maLk="KSK202611000001"))["maKetQua"] == "404"
        assert (await c.lookup(token, maGiaoDich=pushed["header"]["txn_id"]))["maKetQua"] == "404"

    run(tmp_path, pki, scenario)
