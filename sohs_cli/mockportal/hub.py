"""The Ministry of Health checkup hub (QĐ 1551 PL02 as amended by QĐ 2062; DOMAIN.md §4.3).

``POST /api/auth/login`` with JSON ``{username, password}`` -> ``{token, refresh_token, duration, role}``.
``POST /api/platform/data-sync/push`` with ``Authorization: Bearer``, ``service-type: 100`` and the
message ``{"header": {...}, "data": "<base64 KHAMSUCKHOE>", "signature": "<base64>"}``.

Message signature, as the HCC guide implemented by HISNM computes it: ``A = UPPER(hex(SHA256(header
JSON)))``, ``B = UPPER(hex(SHA256(trim(data))))``, ``signature = Base64(RSA-PKCS1v15-SHA256(A + "." +
B))``. The header JSON's exact serialisation is not published (UNCERTAIN); the simulator hashes the
compact form ``json.dumps(header, separators=(",", ":"), ensure_ascii=False)`` with keys in the order
sent, and documents it. The checkup envelope's two XML signatures must verify, by certificates
registered for the account. A repeated ``msg_id`` is answered with the first result (the hub treats
a new ``msg_id`` as a new version: clients must reuse it when they resend).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import secrets
from typing import TYPE_CHECKING, Any

from sohs_cli.certs import rsa_verify
from sohs_cli.documents import episode_keys
from sohs_cli.errors import InputError
from sohs_cli.hubmessage import compact, signed_text
from sohs_cli.mockportal.accounts import Account
from sohs_cli.mockportal.asgi import Request, Response, json_response
from sohs_cli.mockportal.gateway import stamp
from sohs_cli.mockportal.store import Submission
from sohs_cli.validation.engine import validate_bytes
from sohs_cli.verification import verify_bytes
from sohs_cli.xmlsafe import ParseLimits, parse_bytes

if TYPE_CHECKING:
    from sohs_cli.mockportal.app import Portal

LOGIN = "/api/auth/login"
PUSH = "/api/platform/data-sync/push"
RECEIVER = "TDLBYT"


def login(portal: Portal, req: Request) -> Response:
    try:
        body = req.json()
        username, password = str(body["username"]), str(body["password"])
    except (ValueError, KeyError, TypeError):
        return json_response({"res_code": "CM_INVALID_REQUEST", "message": "cần JSON {username, password}"}, 400)
    account = portal.accounts.get(username)
    if account is None or not account.gln or not account.password_ok(password):
        return json_response({"res_code": "CM_AUTH_ACCOUNT_FAIL", "message": "sai tài khoản hoặc mật khẩu"}, 401)
    if account.locked:
        return json_response({"res_code": "CM_AUTH_PERMISSION", "message": "tài khoản đã bị khóa"}, 403)
    token = secrets.token_urlsafe(32)
    duration = int(portal.config.token_ttl)
    portal.store.add_token(token, secrets.token_urlsafe(24), username, "ksk", portal.now().timestamp() + duration)
    return json_response({"token": token, "refresh_token": secrets.token_urlsafe(32), "duration": duration,
                          "role": "facility"})


def _reply(code: str, ref: dict[str, Any], account: Account | None, message: str, status: int = 200,
           txn_id: str = "", state: str = "") -> Response:
    now_ms = int(dt.datetime.now(dt.UTC).timestamp() * 1000)
    header = {"version": ref.get("version", "1.0.6"), "sender_id": RECEIVER,
              "receiver_id": account.gln if account else ref.get("sender_id", ""), "msg_type": "102",
              "ref_msg_id": ref.get("msg_id", ""), "res_code": code, "txn_id": txn_id, "send_datetime": now_ms}
    return json_response({"header": header, "data": {"data_state": state, "message_notify": message}}, status)


def push(portal: Portal, req: Request) -> Response:
    row = None
    auth = req.headers.get("authorization", "")
    if auth.startswith("Bearer "):
        row = portal.store.token(auth[7:].strip(), "ksk")
    if row is None:
        return _reply("CM_AUTH_PERMISSION", {}, None, "token không hợp lệ", 401)
    if row["expires_ts"] <= portal.now().timestamp():
        return _reply("CM_AUTH_EXPIRED", {}, None, "token đã hết hạn", 401)
    account = portal.accounts[row["username"]]
    try:
        body = req.json()
        header, data, signature = dict(body["header"]), str(body["data"]), str(body["signature"])
        msg_id = str(header["msg_id"])
    except (ValueError, KeyError, TypeError):
        return _reply("CM_INVALID_REQUEST", {}, account, "cần {header, data, signature} với header.msg_id", 400)
    if req.headers.get("service-type") != "100" or header.get("sender_id") != account.gln:
        return _reply("CM_AUTH_PERMISSION", header, account, "sender_id hoặc service-type không đúng", 403)
    earlier = portal.store.by_msg_id("ksk", account.facility, msg_id)
    if earlier is not None:
        return json_response(earlier.reply)
    try:
        raw_sig = base64.b64decode(signature, validate=True)
        xml = base64.b64decode(data.strip(), validate=True)
    except (binascii.Error, ValueError):
        return _reply("CM_INVALID_REQUEST", header, account, "data hoặc signature không phải base64", 400)
    text = signed_text(compact(header), data)
    if not any(rsa_verify(c, raw_sig, text) for c in account.certificates):
        return _reply("PS_SIGNATURE_INVALID", header, account, "chữ ký thông điệp không hợp lệ", 400)
    problem = _check_envelope(xml, account)
    if problem:
        code, message = problem
        return _reply(code, header, account, message, 400)
    same = portal.store.same_bytes("ksk", account.facility, hashlib.sha256(xml).hexdigest())
    if same is not None:  # identical bytes under a new msg_id: the first result stands
        return json_response(same.reply)
    return _accepted(portal, account, header, xml, msg_id)


def _check_envelope(xml: bytes, account: Account) -> tuple[str, str] | None:
    try:
        root = parse_bytes(xml, source="data", limits=ParseLimits())
    except InputError as exc:
        return "CM_INVALID_REQUEST", exc.message
    if root.tag != "KHAMSUCKHOE":
        return "CM_INVALID_REQUEST", f"data phải là KHAMSUCKHOE, không phải {root.tag}"
    report = verify_bytes(xml, "data", trust=account.trust())
    untrusted = next((s for s in report.signatures if s.code == "untrusted"), None)
    if untrusted is not None:
        return "PS_DS_CA_SIGNATURE_INVALID", f"{untrusted.slot}: chứng thư số chưa được đăng ký"
    if not report.valid:
        first = report.error or next((f"{s.slot}: {s.message_vi}" for s in report.signatures if not s.ok), "")
        return "PS_DS_CA_SIGNATURE_INVALID", f"chữ ký số trong KHAMSUCKHOE không hợp lệ: {first}"
    for s in report.signatures:
        if s.certificate is None or not account.registered(s.certificate):
            return "PS_DS_CA_SIGNATURE_INVALID", f"{s.slot}: chứng thư số chưa được đăng ký"
    validation = validate_bytes(xml, "data")
    if not validation.valid:
        errors = "; ".join(f.message_vi for f in validation.errors[:5])
        return "CM_INVALID_REQUEST", f"dữ liệu không hợp lệ ({len(validation.errors)} lỗi): {errors}"
    return None


def _accepted(portal: Portal, account: Account, header: dict[str, Any], xml: bytes, msg_id: str) -> Response:
    now = portal.now()
    txn_id = f"TXN{stamp(now)}{portal.store.next_number():06d}"
    response = _reply("PS_SYNC_SUCCESS", header, account, "đồng bộ thành công", txn_id=txn_id, state="SUCCESS")
    lks = episode_keys(parse_bytes(xml))
    sub = Submission(txn_id, "ksk", PUSH, account.username, account.facility, hashlib.sha256(xml).hexdigest(),
                     len(xml), stamp(now), now.timestamp(), "received", 1, json.loads(response.body))
    portal.store.add_submission(sub, xml, lks, msg_id)
    return response
