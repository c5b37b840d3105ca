"""Shared pieces for the portal tests: accounts, a signed-envelope factory, an in-process client."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sohs_cli.documents import samples
from sohs_cli.documents.kinds import pack
from sohs_cli.mockportal.accounts import load_accounts, md5_upper
from sohs_cli.portal.hubmessage import MessageKey, compact
from sohs_cli.signing.sign import FileSigner, sign_document
from sohs_cli.signing.testpki import TestPki

USER, PASSWORD, FACILITY, GLN = "79001_BV", "matkhau-thu-nghiem", "79001", "8930000000017"


def write_accounts(directory: Path, pki: TestPki, *, locked: bool = False) -> Path:
    """An accounts file registering the session PKI's clinic and doctor certificates for 79001."""
    path = directory / "accounts.toml"
    path.write_text(
        f'[[account]]\nusername = "{USER}"\npassword = "{PASSWORD}"\nfacility = "{FACILITY}"\n'
        f'gln = "{GLN}"\ncertificates = ["{pki.clinic_cert}", "{pki.doctor_cert}"]\n'
        f'message_key = "{pki.hub_key_public}"\n\n'
        f'[[account]]\nusername = "01001_BV"\npassword = "other"\nfacility = "01001"\nlocked = {str(locked).lower()}\n',
        encoding="utf-8")
    return path


def accounts(directory: Path, pki: TestPki) -> Any:
    return load_accounts(str(write_accounts(directory, pki)))


def envelope(ma_lk: str, *, standard: str = "3176", today: dt.date | None = None, **xml1: str) -> bytes:
    """An unsigned GIAMDINHHS with XML1 + XML13 of one episode."""
    base = samples.xml1_values(standard, ma_lk, ma_loai_rv="2", **xml1)
    tables = [("x1", samples.xml1(standard, ma_lk, ma_loai_rv="2", **xml1)),
              ("x13", samples.xml13(standard, ma_lk, base))]
    return pack(tables, facility=FACILITY, today=today).data


def signed(signer: FileSigner, ma_lk: str, **kw: Any) -> bytes:
    return sign_document(envelope(ma_lk, **kw), signer)


def form(token: dict[str, str], data: bytes, *, facility: str = FACILITY,
         loai: str = "130") -> tuple[dict[str, str], dict[str, str]]:
    headers = {"accessToken": token["access_token"], "tokenId": token["id_token"], "passwordHash": md5_upper(PASSWORD)}
    body = {"username": USER, "loaiHoSo": loai, "maTinh": facility[:2], "maCSKCB": facility,
            "fileHSBase64": base64.b64encode(data).decode()}
    return headers, body


def hub_message(key: MessageKey, xml: bytes, msg_id: str | None = None) -> dict[str, Any]:
    """A QĐ 2062 PL02 push message, its checksum signed with the (TEST) Ministry-issued message key."""
    data = base64.b64encode(xml).decode()
    header = {"version": "1.0.6", "sender_id": GLN, "receiver_id": "TDLBYT", "txn_type": "sync_checkup",
              "msg_id": msg_id or f"{GLN}{dt.date.today():%y%m%d}{uuid.uuid4().hex}", "msg_type": "101",
              "data_type": "xml/base64", "send_datetime": int(dt.datetime.now(dt.UTC).timestamp() * 1000)}
    return {"header": header, "data": data, "signature": key.sign(compact(header), data)}


class InProcess:
    """An async client on the portal app in-process (httpx.ASGITransport): no sockets, same code."""

    def __init__(self, app: Any) -> None:
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://portal.test")

    async def token(self, username: str = USER, password: str = PASSWORD) -> dict[str, Any]:
        r = await self.client.post("/api/token/take", data={"username": username, "password": md5_upper(password)})
        result: dict[str, Any] = r.json()
        return result

    async def submit(self, token: dict[str, str], data: bytes, path: str = "/api/qd130/guiHoSoXmlQD3176",
                     **kw: Any) -> dict[str, Any]:
        headers, body = form(token, data, **kw)
        r = await self.client.post(path, data=body, headers=headers)
        assert r.status_code == 200, r.text
        result: dict[str, Any] = r.json()
        return result

    async def lookup(self, token: dict[str, str], **what: str) -> dict[str, Any]:
        headers, _ = form(token, b"")
        r = await self.client.post("/api/kcb/tra-cuu-trang-thai", data={"username": USER, **what}, headers=headers)
        result: dict[str, Any] = r.json()
        return result

    async def submissions(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = (await self.client.get("/_mock/submissions")).json()
        return result


def submit_once(portal: Any, data: bytes) -> dict[str, Any]:
    """Log in to ``portal`` in-process, submit ``data`` once, and stop the portal: its answer."""

    async def go() -> dict[str, Any]:
        client = InProcess(portal)
        try:
            token = (await client.token())["APIKey"]
            return await client.submit(token, data)
        finally:
            await client.client.aclose()
            await portal.stop()

    return asyncio.run(go())


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def served(tmp_path: Path, pki: TestPki, *extra: str) -> Iterator[str]:
    """A real server process; stopped with SIGTERM, which must end it cleanly (exit 0)."""
    port = free_port()
    accounts = write_accounts(tmp_path, pki)
    with server_process([sys.executable, "-m", "sohs_cli", "portal", "serve", "--port", str(port), "--data-dir",
                         str(tmp_path / "data"), "--accounts", str(accounts), "--processing-delay", "0", *extra],
                        port, "/_mock/health", tmp_path / f"serve-{port}.log",
                        env=os.environ | {"PYTHONUNBUFFERED": "1"}) as base:
        yield base


@contextlib.contextmanager
def server_process(argv: list[str], port: int, ready: str, log_path: Path, *, cwd: Path | None = None,
                   env: dict[str, str] | None = None) -> Iterator[str]:
    """``argv`` (a server on ``port``) running until the block ends, its output in ``log_path``: started,
    waited for until ``ready`` answers 200 (a server that exits or never answers fails the test with its
    log), then stopped with SIGTERM, which must end it cleanly (exit 0)."""
    log = open(log_path, "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(base + ready, timeout=1).status_code == 200:
                    break
            if proc.poll() is not None:
                pytest.fail(log_path.read_text())
            time.sleep(0.1)
        else:
            pytest.fail(f"{' '.join(argv[2:5])} did not answer {ready} in 30 s: {log_path.read_text()}")
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=20)
        log.close()
        assert code == 0, log_path.read_text()
