"""Issue 15: the simulated portal keeps answering whatever it is sent: processing off its event loop,
no file that poisons it (across restarts), 4xx/205 rather than HTTP 500 for hostile requests."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pytest

from sohs_cli.mockportal import app as app_mod
from sohs_cli.mockportal.app import Portal, PortalConfig
from sohs_cli.signing.sign import FileSigner, sign_document
from sohs_cli.signing.testpki import TestPki
from tests.portal_helpers import InProcess, accounts, envelope


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


def _portal(tmp_path: Path, pki: TestPki, clock: Clock) -> Portal:
    return Portal(PortalConfig(data_dir=str(tmp_path / "data"), accounts=accounts(tmp_path, pki)), clock=clock)


def _go(portal: Portal, scenario: Any) -> Any:
    async def go() -> Any:
        client = InProcess(portal)
        try:
            return await scenario(client)
        finally:
            await client.client.aclose()
            await portal.stop()

    return asyncio.run(go())


def test_processing_runs_off_the_event_loop(tmp_path: Path, pki: TestPki, clinic: FileSigner,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[int] = []
    real = app_mod.process

    def spy(*args: Any) -> Any:
        threads.append(threading.get_ident())
        return real(*args)

    monkeypatch.setattr(app_mod, "process", spy)
    clock = Clock()
    portal = _portal(tmp_path, pki, clock)

    async def scenario(c: InProcess) -> tuple[int, dict[str, Any]]:
        token = (await c.token())["APIKey"]
        receipt = await c.submit(token, sign_document(envelope("LK202511009401"), clinic))
        clock.now += dt.timedelta(seconds=5)
        return threading.get_ident(), await c.lookup(token, maGiaoDich=receipt["maGiaoDich"])

    loop_thread, found = _go(portal, scenario)
    assert found["ketQua"][0]["trangThai"] == "HOP_LE"
    assert threads and loop_thread not in threads  # validated on the loop's thread before issue 15


def test_a_file_that_breaks_processing_does_not_poison_the_portal(tmp_path: Path, pki: TestPki, clinic: FileSigner,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any) -> Any:
        raise ValueError("Exceeds the limit (4300 digits) for integer string conversion")

    monkeypatch.setattr(app_mod, "process", broken)
    clock = Clock()
    portal = _portal(tmp_path, pki, clock)

    async def first(c: InProcess) -> dict[str, Any]:
        token = (await c.token())["APIKey"]
        await c.submit(token, sign_document(envelope("LK202511009402"), clinic))
        clock.now += dt.timedelta(seconds=5)
        r = await c.client.get("/_mock/submissions")
        assert r.status_code == 200, r.text
        return await c.lookup(token, maLk="LK202511009402")

    found = _go(portal, first)
    assert found["ketQua"][0]["trangThai"] == "TU_CHOI"
    assert found["ketQua"][0]["dsLoi"][0]["maLoi"] == "internal"
    monkeypatch.undo()
    again = _portal(tmp_path, pki, clock)  # a restart: still answering

    async def second(c: InProcess) -> int:
        return (await c.client.get("/_mock/submissions")).status_code

    assert _go(again, second) == 200


def test_five_thousand_digits_of_soluonghoso_are_rejected_not_500(tmp_path: Path, pki: TestPki,
                                                                  clinic: FileSigner) -> None:
    hostile = envelope("LK202511009403").replace(b"<SOLUONGHOSO>1<", b"<SOLUONGHOSO>" + b"7" * 5000 + b"<")
    clock = Clock()
    portal = _portal(tmp_path, pki, clock)

    async def scenario(c: InProcess) -> dict[str, Any]:
        token = (await c.token())["APIKey"]
        await c.submit(token, sign_document(hostile, clinic))
        clock.now += dt.timedelta(seconds=5)
        return await c.lookup(token, maLk="LK202511009403")

    found = _go(portal, scenario)
    assert found["ketQua"][0]["trangThai"] == "TU_CHOI"
    assert any(e["maLoi"] == "envelope-count" for e in found["ketQua"][0]["dsLoi"])


def test_a_content_length_of_thousands_of_digits_is_not_a_500(tmp_path: Path, pki: TestPki) -> None:
    portal = _portal(tmp_path, pki, Clock())

    async def scenario(c: InProcess) -> int:
        r = await c.client.post("/api/token/take", content=b"x", headers={"content-length": "9" * 5000})
        return r.status_code

    assert _go(portal, scenario) == 200  # the gateway's answer (1001: too large) comes with HTTP 200


@pytest.mark.parametrize("body", [b"[" * 100_000 + b"]" * 100_000,
                                  b'{"username": "\\ud800", "password": "x"}',
                                  b'{"username": "79001_BV", "password": "\\udfff"}'],
                         ids=["deeply-nested", "surrogate-username", "surrogate-password"])
def test_hostile_json_is_a_4xx_not_a_500(tmp_path: Path, pki: TestPki, body: bytes) -> None:
    portal = _portal(tmp_path, pki, Clock())

    async def scenario(c: InProcess) -> list[int]:
        login = await c.client.post("/api/auth/login", content=body, headers={"content-type": "application/json"})
        push = await c.client.post("/api/platform/data-sync/push", content=body,
                                   headers={"content-type": "application/json", "authorization": "Bearer x"})
        return [login.status_code, push.status_code]

    for status in _go(portal, scenario):
        assert 400 <= status < 500  # RecursionError / UnicodeEncodeError answered 500 before issue 15


def test_large_uploads_at_once_are_capped(tmp_path: Path, pki: TestPki) -> None:
    portal = _portal(tmp_path, pki, Clock())
    scope = {"type": "http", "method": "POST", "path": "/api/token/take", "query_string": b"",
             "headers": [(b"content-length", b"3000000"), (b"content-type", b"application/x-www-form-urlencoded")]}

    async def go() -> list[int]:
        release = asyncio.Event()
        statuses: list[int] = []

        def sender() -> Any:
            async def send(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    statuses.append(message["status"])
            return send

        async def slow() -> dict[str, Any]:  # half a large body, then the rest once released
            await release.wait()
            return {"type": "http.request", "body": b"x" * 1_500_000, "more_body": False}

        def receiver() -> Any:
            first = [True]

            async def receive() -> dict[str, Any]:
                if first[0]:
                    first[0] = False
                    return {"type": "http.request", "body": b"x" * 1_500_000, "more_body": True}
                return await slow()
            return receive

        held = [asyncio.create_task(portal(dict(scope), receiver(), sender())) for _ in range(2)]
        await asyncio.sleep(0.05)
        # a third large body while two are in flight (before issue 15 it was read too: never capped)
        await asyncio.wait_for(portal(dict(scope), receiver(), sender()), 10)
        assert statuses == [429]
        release.set()
        await asyncio.gather(*held)
        await portal(dict(scope), receiver(), sender())  # the slots are free again
        await portal.stop()
        return statuses

    statuses = asyncio.run(go())
    assert statuses[0] == 429 and statuses[1:3] == [200, 200] and statuses[3] == 200
