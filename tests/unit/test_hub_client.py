"""The checkup hub client against QĐ 2062 PL02 (shared/spec/ksk/hub_api.md, copied facts only): the
request it sends, and how it reads every reply a real hub could give. The hub here is a scripted
ASGI app: each test says what the hub answers, so odd replies the simulator never gives are covered."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from sohs_cli.foundation.credentials import SecretSource
from sohs_cli.foundation.errors import ConfigError, CredentialError, PortalUnavailable, SohsError
from sohs_cli.portal.client import Answer, RetryPolicy
from sohs_cli.portal.hub import HubClient, base_url, message_id
from sohs_cli.portal.hubmessage import MessageKey
from sohs_cli.signing.sign import FileSigner
from sohs_cli.signing.testpki import TestPki

GLN = "8930000000017"
XML = b'<KHAMSUCKHOE><THONGTINHOSO><NGAYLAP>20261123</NGAYLAP></THONGTINHOSO></KHAMSUCKHOE>'
LOGIN_OK = {"header": {"version": "1.0.6", "success": True, "send_datetime": 1784861591000,
                       "res_datetime": 1784861591123, "res_code": "CM_SUCCESS", "res_msg": "ok"},
            "data": {"token": "tok-1", "refresh_token": "r", "duration": 6000, "role": "facility"}}


def pushed(code: str, data: Any = None) -> dict[str, Any]:
    return {"header": {"version": "1.0.6", "sender_id": "TTYQG", "receiver_id": GLN, "txn_id": f"DS-{GLN}-abc",
                       "txn_type": "sync_checkup", "res_code": code, "res_msg": f"msg of {code}", "msg_type": "102",
                       "msg_id": "TTYQG20260720x", "ref_msg_id": "m", "send_datetime": 1,
                       "res_datetime": 1784868558849},
            "data": data, "signature": "c2ln"}


Reply = tuple[int, Any]  # (HTTP status, JSON value or raw bytes)


class ScriptedHub:
    """Answers login with ``login`` and each push with the next of ``pushes``; keeps what it received."""

    def __init__(self, pushes: list[Reply], login: Reply = (200, LOGIN_OK)) -> None:
        self.pushes, self.login = pushes, login
        self.requests: list[tuple[str, dict[str, str], bytes]] = []

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.requests.append((scope["path"], headers, body))
        status, value = self.login if scope["path"] == "/api/auth/login" else self.pushes.pop(0)
        raw = value if isinstance(value, bytes) else json.dumps(value).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": raw})


def client(hub: ScriptedHub, key: MessageKey | None) -> HubClient:
    os.environ["TEST_HUB_PW"] = "hub-secret"
    return HubClient("http://hub.test", f"{GLN}_api", SecretSource("hub password", "TEST_HUB_PW"),
                     transport=httpx.ASGITransport(app=hub), policy=RetryPolicy(attempts=1), gln=GLN,
                     message_key=key)


def push(hub: ScriptedHub, key: MessageKey | None, xml: bytes = XML) -> Answer:
    async def go() -> Answer:
        c = client(hub, key)
        try:
            return await c.push(xml, "20261123")
        finally:
            await c.close()

    return asyncio.run(go())


def test_the_request_carries_every_header_and_field_of_pl02(message_key: MessageKey, pki: TestPki) -> None:
    hub = ScriptedHub([(200, pushed("PS_DS_SAVE_SUCCESS"))])
    push(hub, message_key)
    (login_path, login_headers, login_body), (path, headers, raw) = hub.requests
    assert login_path == "/api/auth/login" and json.loads(login_body) == {"username": f"{GLN}_api",
                                                                           "password": "hub-secret"}
    for h in (login_headers, headers):  # PL02 §5.1 a, §5.2 a: every header is "Bắt buộc"
        assert h["content-type"] == "application/json" and h["accept"] == "*/*"
        assert h["accept-encoding"] == "gzip,deflate,br"
    assert path == "/api/platform/data-sync/push"
    assert headers["authorization"] == "Bearer tok-1" and headers["service-type"] == "100"
    body = json.loads(raw)
    header = body["header"]
    assert list(header) == ["version", "sender_id", "receiver_id", "txn_type", "msg_id", "msg_type", "data_type",
                            "send_datetime"]
    assert header["sender_id"] == GLN and header["receiver_id"] == "TDLBYT" and header["txn_type"] == "sync_checkup"
    assert header["msg_type"] == "101" and header["data_type"] == "xml/base64"
    assert isinstance(header["send_datetime"], int) and len(str(header["send_datetime"])) == 13
    assert base64.b64decode(body["data"]) == XML
    # the checksum exactly as hub_api.md §5 reads it, computed here without sohs: the header text as
    # sent, hex upper-case SHA-256 of it and of the base64 data, RSA-SHA256 over A.B, base64
    header_text = raw.decode()[len('{"header":'):raw.decode().index(',"data":')]
    assert not re.search(r"\s", header_text)
    a = hashlib.sha256(header_text.encode()).hexdigest().upper()
    b = hashlib.sha256(body["data"].encode()).hexdigest().upper()
    public = serialization.load_pem_public_key(Path(pki.hub_key_public).read_bytes())
    assert isinstance(public, rsa.RSAPublicKey)
    public.verify(base64.b64decode(body["signature"]), f"{a}.{b}".encode(), padding.PKCS1v15(), hashes.SHA256())


def test_msg_id_is_sender_date_and_32_hex_and_stable_for_the_same_record(message_key: MessageKey) -> None:
    sha = hashlib.sha256(XML).hexdigest()
    first = message_id(GLN, "20261123", sha)
    assert re.fullmatch(GLN + r"261123[0-9a-f]{32}", first)
    assert uuid.UUID(first[-32:]).version == 4  # "UUIDv4 không gạch" (PL02 §5.2 a 1.5)
    assert message_id(GLN, "20261123", sha) == first
    assert message_id(GLN, "20261123", hashlib.sha256(XML + b" ").hexdigest()) != first
    hub = ScriptedHub([(200, pushed("CM_SUCCESS")), (200, pushed("CM_SUCCESS"))])
    push(hub, message_key)
    push(hub, message_key)
    ids = [json.loads(body)["header"]["msg_id"] for path, _, body in hub.requests if path.endswith("push")]
    assert ids == [first, first]  # a resend after a crash is the same message


@pytest.mark.parametrize(("code", "outcome"), [
    ("CM_SUCCESS", "accepted"), ("PS_DS_VERIFY_SUCCESS", "accepted"), ("PS_DS_SAVE_SUCCESS", "accepted"),
    ("CM_INVALID_REQUEST", "rejected"), ("PS_DS_CA_SIGNATURE_INVALID", "rejected"),
    ("PS_DS_CA_SIGNATURE_MISSING", "rejected"), ("PS_DS_VERIFY_FAIL", "rejected"),
    ("PS_CCCD_DUPLICATE_IN_6_MONTHS", "rejected"), ("PS_SOMETHING_NEW", "rejected"),
    ("PS_DS_RSA_SIGNATURE_INVALID", ConfigError), ("PS_DS_RSA_SIGNATURE_MISSING", ConfigError),
    ("PS_DS_SAVE_FAIL", PortalUnavailable), ("CM_AUTH_ACCOUNT_FAIL", CredentialError)])
def test_every_res_code_is_classified(message_key: MessageKey, code: str, outcome: Any) -> None:
    """Regression (issue 13): PS_DS_VERIFY_SUCCESS and PS_DS_SAVE_SUCCESS were filed as rejected."""
    hub = ScriptedHub([(200 if "SUCCESS" in code else 400, pushed(code))])
    if isinstance(outcome, str):
        answer = push(hub, message_key)
        assert answer.outcome == outcome and answer.code == code
        if outcome == "accepted":
            assert answer.transaction_id == f"DS-{GLN}-abc" and answer.received_at == "20260724114918"
        else:
            assert f"msg of {code}" in answer.message
    else:
        with pytest.raises(outcome) as err:
            push(hub, message_key)
        assert code in err.value.message and err.value.hint


def test_an_expired_token_means_logging_in_again_once(message_key: MessageKey) -> None:
    hub = ScriptedHub([(401, pushed("CM_AUTH_EXPIRED")), (200, pushed("PS_DS_SAVE_SUCCESS"))])
    assert push(hub, message_key).outcome == "accepted"
    assert [p for p, _, _ in hub.requests].count("/api/auth/login") == 2  # no refresh endpoint: log in again
    hub = ScriptedHub([(401, pushed("CM_AUTH_PERMISSION")), (401, pushed("CM_AUTH_PERMISSION"))])
    with pytest.raises(CredentialError, match="after a fresh login"):
        push(hub, message_key)


@pytest.mark.parametrize(("login", "pushes", "error", "words"), [
    ((200, b"<html>proxy</html>"), [], PortalUnavailable, "not JSON"),
    ((200, {"token": "old-shape", "duration": 60}), [], ConfigError, "PL02 shape"),
    ((401, b""), [], CredentialError, "HTTP 401"),
    ((200, {"header": {"res_code": "CM_SUCCESS"}, "data": {}}), [], ConfigError, "no data.token"),
    ((200, LOGIN_OK), [(200, b"<html>gateway</html>")], PortalUnavailable, "not JSON"),
    ((200, LOGIN_OK), [(200, {"res_code": "CM_SUCCESS"})], ConfigError, "PL02 shape"),
    ((200, LOGIN_OK), [(401, b""), (401, b"")], CredentialError, "without a CM_AUTH_* code"),
    ((200, LOGIN_OK), [(404, b"not found")], ConfigError, "HTTP 404"),
])
def test_replies_the_decision_does_not_describe_get_one_clear_error(
        message_key: MessageKey, login: Reply, pushes: list[Reply], error: type[SohsError], words: str) -> None:
    with pytest.raises(error) as err:
        push(ScriptedHub(pushes, login), message_key)
    assert words in err.value.message and "\n" not in err.value.message and err.value.hint


def test_the_message_key_is_its_own_setting() -> None:
    with pytest.raises(ConfigError, match="message key the Ministry") as err:
        push(ScriptedHub([]), None)
    assert "hub.message_key" in (err.value.hint or "")
    assert base_url("", "production") == "https://api.emrhub.vn"
    assert base_url("", "sandbox") == "https://api-sandbox.emrhub.vn"
    assert base_url("http://127.0.0.1:1", "production") == "http://127.0.0.1:1"
    for environment in ("", "staging"):
        with pytest.raises(ConfigError, match="hub"):
            base_url("", environment)


# ------------------------------------------------------------------ the hub's reply signature (PL02 §4, §5.2 b 3)


def hub_signed(reply: dict[str, Any], key: rsa.RSAPrivateKey) -> dict[str, Any]:
    """``reply`` with the hub's checksum, computed here without sohs: the recipe of PL02 §4 over the
    reply's header and data as compact JSON (whitespace removed), ``{}`` for a null data."""
    def unspaced_json(value: Any) -> str:
        return "{}" if value is None else re.sub(r"\s", "", json.dumps(value, separators=(",", ":"),
                                                                         ensure_ascii=False))

    a = hashlib.sha256(unspaced_json(reply["header"]).encode()).hexdigest().upper()
    b = hashlib.sha256(unspaced_json(reply["data"]).encode()).hexdigest().upper()
    signature = key.sign(f"{a}.{b}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return reply | {"signature": base64.b64encode(signature).decode()}


def push_verified(hub: ScriptedHub, key: MessageKey, reply_key: rsa.RSAPublicKey) -> Answer:
    async def go() -> Answer:
        c = client(hub, key)
        c.reply_key = reply_key
        try:
            return await c.push(XML, "20261123")
        finally:
            await c.close()

    return asyncio.run(go())


@pytest.mark.parametrize("data", [None, {"data_state": "0", "message_notify": "Successfully inserted data"}])
def test_a_reply_signed_by_the_hubs_key_is_believed(message_key: MessageKey, data: Any) -> None:
    from sohs_cli.signing.testpki import new_key

    hub_key = new_key()
    reply = hub_signed(pushed("PS_DS_SAVE_SUCCESS", data), hub_key)
    assert push_verified(ScriptedHub([(200, reply)]), message_key, hub_key.public_key()).outcome == "accepted"
    rejected = hub_signed(pushed("PS_CCCD_DUPLICATE_IN_6_MONTHS"), hub_key)
    assert push_verified(ScriptedHub([(400, rejected)]), message_key, hub_key.public_key()).outcome == "rejected"


@pytest.mark.parametrize("tamper", ["other key", "changed code", "no signature", "not base64"])
def test_a_reply_that_does_not_verify_with_hub_reply_key_is_not_believed(message_key: MessageKey,
                                                                         tamper: str) -> None:
    from sohs_cli.signing.testpki import new_key

    hub_key = new_key()
    reply = hub_signed(pushed("PS_DS_SAVE_SUCCESS"), new_key() if tamper == "other key" else hub_key)
    if tamper == "changed code":  # a rejection turned into a success on the way
        reply = hub_signed(pushed("CM_INVALID_REQUEST"), hub_key)
        reply["header"]["res_code"] = "PS_DS_SAVE_SUCCESS"
    elif tamper == "no signature":
        del reply["signature"]
    elif tamper == "not base64":
        reply["signature"] = "***"
    with pytest.raises(ConfigError) as err:
        push_verified(ScriptedHub([(200, reply)]), message_key, hub_key.public_key())
    assert "hub.reply_key" in err.value.message and "not believed" in err.value.message
    assert "\n" not in err.value.message and "hub.reply_key" in (err.value.hint or "")
    # without hub.reply_key the reply is not verified (the README says so)
    assert push(ScriptedHub([(200, reply)]), message_key).outcome == "accepted"


def test_the_simulated_hub_signs_its_replies_with_its_hub_key(tmp_path: Path, pki: TestPki, examples: Path,
                                                              message_key: MessageKey, clinic: FileSigner,
                                                              doctor: FileSigner) -> None:
    """sohs portal serve --hub-key: the client verifies every reply with the public half (hub.reply_key)."""
    from sohs_cli.mockportal.app import Portal, PortalConfig
    from sohs_cli.portal.hubmessage import load_public_key
    from sohs_cli.signing.sign import sign_document
    from tests.portal_helpers import PASSWORD, USER, accounts

    record = sign_document(sign_document((examples / "checkup_adult_2062.xml").read_bytes(), doctor, role="doctor"),
                           clinic)
    portal = Portal(PortalConfig(data_dir=str(tmp_path / "data"), accounts=accounts(tmp_path, pki),
                                 processing_delay=0, hub_key=pki.hub_own_key))

    async def go(reply_key: rsa.RSAPublicKey, xml: bytes) -> Answer:
        os.environ["TEST_HUB_PW"] = PASSWORD
        c = HubClient("http://hub.test", USER, SecretSource("hub password", "TEST_HUB_PW"),
                      transport=httpx.ASGITransport(app=portal), policy=RetryPolicy(attempts=1), gln=GLN,
                      message_key=message_key, reply_key=reply_key)
        try:
            return await c.push(xml, "20261110")
        finally:
            await c.close()

    async def scenario() -> tuple[Answer, Answer, Exception | None]:
        good = await go(load_public_key(pki.hub_own_key_public), record)
        refused = await go(load_public_key(pki.hub_own_key_public), record.replace(b"<NGAYLAP>", b"<NGAYLAP> "))
        try:
            await go(load_public_key(pki.hub_key_public), record)  # not the hub's key
            wrong = None
        except ConfigError as exc:
            wrong = exc
        await portal.stop()
        return good, refused, wrong

    good, refused, wrong = asyncio.run(scenario())
    assert good.outcome == "accepted" and good.code == "PS_DS_SAVE_SUCCESS"
    assert refused.outcome == "rejected"  # a signed rejection verifies too
    assert wrong is not None and "does not verify" in wrong.message
