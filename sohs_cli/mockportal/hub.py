"""The simulated Ministry of Health data hub for checkup records (QĐ 2062/QĐ-BYT Phụ lục 02;
shared/spec/ksk/hub_api.md), for accounts with a ``gln``.

``POST /api/auth/login`` ``{username, password}`` → ``{header:{version, success, send_datetime,
res_datetime, res_code, res_msg}, data:{token, refresh_token, duration, role}}`` (PL02 §5.1 b).

``POST /api/platform/data-sync/push`` (PL02 §5.2) checks, in this order, and answers ``{header:{version,
sender_id, receiver_id, txn_id, txn_type, res_code, res_msg, msg_type "102", msg_id, send_datetime,
ref_msg_id, res_datetime}, data, signature}``:

1. ``Authorization: Bearer`` → HTTP 401 ``CM_AUTH_PERMISSION`` (unknown) / ``CM_AUTH_EXPIRED``;
2. ``service-type: 100`` and every header field of PL02 §5.2 a with its type and shape (``msg_type``
   the string ``"101"``, ``send_datetime`` a 13-digit number, ``msg_id`` = sender_id + YYMMDD + 32
   hex, ``sender_id`` the account's ``gln``) → HTTP 400 ``CM_INVALID_REQUEST`` naming the field;
3. the checksum, verified with the public half of the message key registered for the account
   (``message_key`` in the accounts file) → ``PS_DS_RSA_SIGNATURE_MISSING`` / ``_INVALID``;
4. a ``msg_id`` seen before → the first answer again (the decision is silent; our choice, so that a
   resend after a crash is harmless);
5. ``data`` is base64 of a ``KHAMSUCKHOE`` → ``CM_INVALID_REQUEST``;
6. its ``CKS_*`` signatures: absent → ``PS_DS_CA_SIGNATURE_MISSING``; not verifying, or by a
   certificate not registered for the account → ``PS_DS_CA_SIGNATURE_INVALID``;
7. sohs validation of the record (schemas and rules) → ``CM_INVALID_REQUEST`` with the first errors;
8. stored → HTTP 200 ``PS_DS_SAVE_SUCCESS`` with the data of PL02 §5.2 b 2.x.

The reply's ``signature`` is the same checksum over the reply's header and ``data`` (compact JSON
text, or ``{}`` when null: :func:`sohs_cli.portal.hubmessage.reply_text`), by the hub's own key: the PEM
given with ``sohs portal serve --hub-key`` (its public half is the client's ``hub.reply_key``), else
a fresh key per process, which no client can verify.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import re
import secrets
import uuid
from typing import Any

from sohs_cli.documents.kinds import episode_keys
from sohs_cli.foundation.errors import InputError
from sohs_cli.foundation.xmlsafe import ParseLimits, parse_bytes
from sohs_cli.mockportal.accounts import Account
from sohs_cli.mockportal.asgi import Request, Response, json_response
from sohs_cli.mockportal.context import PortalContext as Portal  # what a handler may use of the portal
from sohs_cli.mockportal.gateway import stamp
from sohs_cli.mockportal.store import Submission
from sohs_cli.portal.hubmessage import MessageKey, compact, reply_text, verify
from sohs_cli.signing.verification import verify_bytes
from sohs_cli.validation.engine import validate_bytes

LOGIN = "/api/auth/login"
PUSH = "/api/platform/data-sync/push"
HUB_ID = "TDLBYT"  # the hub's sender_id in replies (PL02 §5.2 b 1.1 example)
VERSION = "1.0.6"
MESSAGES = {  # res_msg as PL02 prints them (⟨restored⟩ Vietnamese)
    "CM_SUCCESS": "Trạng thái request trả về mã thành công chung",
    "CM_AUTH_ACCOUNT_FAIL": "Sai mật khẩu hoặc username",
    "CM_INVALID_REQUEST": "Lỗi trả ra khi đầu vào dữ liệu không đúng quy chuẩn",
    "PS_DS_RSA_SIGNATURE_INVALID": "Chữ ký số (RSA) không hợp lệ không kiểm tra được tính toàn vẹn",
    "PS_DS_RSA_SIGNATURE_MISSING": "Request thiếu chữ ký số (RSA) không kiểm tra được tính toàn vẹn",
    "PS_DS_CA_SIGNATURE_INVALID": "Chữ ký số của file không hợp lệ",
    "PS_DS_CA_SIGNATURE_MISSING": "File chưa được ký số",
    "PS_DS_SAVE_SUCCESS": "File đã được lưu trữ thành công",
    "CM_AUTH_PERMISSION": "Token không hợp lệ",
    "CM_AUTH_EXPIRED": "Token đã hết hạn",
}
FIELDS = ("version", "sender_id", "receiver_id", "txn_type", "msg_id", "msg_type", "data_type", "send_datetime")
_KEYS: dict[str, MessageKey] = {}


def _now_ms() -> int:
    return int(dt.datetime.now(dt.UTC).timestamp() * 1000)


def _msg(code: str, detail: str = "") -> str:
    return f"{MESSAGES.get(code, code)}: {detail}" if detail else MESSAGES.get(code, code)


def _login_reply(code: str, status: int, data: dict[str, Any] | None = None, detail: str = "") -> Response:
    now = _now_ms()
    header = {"version": VERSION, "success": code == "CM_SUCCESS", "send_datetime": now, "res_datetime": now,
              "res_code": code, "res_msg": _msg(code, detail)}
    return json_response({"header": header, "data": data}, status)


def login(portal: Portal, req: Request) -> Response:
    try:
        body = req.json()
        username, password = str(body["username"]), str(body["password"])
    except (ValueError, KeyError, TypeError):
        return _login_reply("CM_INVALID_REQUEST", 400, detail="cần JSON {username, password}")
    account = portal.accounts.get(username)
    if account is None or not account.gln or not account.password_ok(password):
        return _login_reply("CM_AUTH_ACCOUNT_FAIL", 401)
    if account.locked:
        return _login_reply("CM_AUTH_PERMISSION", 403, detail="tài khoản đã bị khóa")
    token = secrets.token_urlsafe(32)
    duration = int(portal.config.token_ttl)
    portal.store.add_token(token, secrets.token_urlsafe(24), username, "ksk", portal.now().timestamp() + duration)
    return _login_reply("CM_SUCCESS", 200, {"token": token, "refresh_token": secrets.token_urlsafe(32),
                                            "duration": duration, "role": "facility"})


def _hub_key(portal: Portal) -> MessageKey:
    """The key the hub signs its replies with: ``--hub-key`` (PortalConfig.hub_key), else one made for the process."""
    path = portal.config.hub_key
    if path not in _KEYS:
        if path:
            from sohs_cli.foundation.credentials import SecretSource
            from sohs_cli.portal.hubmessage import load_message_key

            _KEYS[path] = load_message_key(path, SecretSource("hub key password", "SOHS_MOCK_HUB_KEY_PASSWORD"))
        else:
            from sohs_cli.signing.testpki import new_key

            _KEYS[path] = MessageKey("simulated hub", new_key())
    return _KEYS[path]


def _reply(portal: Portal, code: str, ref: dict[str, Any], account: Account | None, status: int = 200, detail: str = "",
           txn_id: str = "", data: dict[str, Any] | None = None) -> Response:
    now = dt.datetime.now(dt.UTC)
    sender = account.gln if account else str(ref.get("sender_id", ""))
    header = {"version": str(ref.get("version", VERSION)), "sender_id": HUB_ID, "receiver_id": sender,
              "txn_id": txn_id, "txn_type": "sync_checkup", "res_code": code, "res_msg": _msg(code, detail),
              "msg_type": "102", "msg_id": f"{HUB_ID}{now:%y%m%d}{uuid.uuid4().hex}",
              "send_datetime": ref.get("send_datetime", 0), "ref_msg_id": str(ref.get("msg_id", "")),
              "res_datetime": int(now.timestamp() * 1000)}
    signature = _hub_key(portal).sign(*reply_text(header, data))
    return json_response({"header": header, "data": data, "signature": signature}, status)


def _header_problem(header: dict[str, Any], account: Account) -> str:
    """What is wrong with the request header (PL02 §5.2 a 1.1–1.8), or ""."""
    for name in FIELDS:
        if name not in header:
            return f"header.{name} thiếu"
    strings = [n for n in FIELDS if n != "send_datetime" and not isinstance(header[n], str)]
    if strings:
        return f"header.{strings[0]} phải là chuỗi (String)"
    stamp_ms = header["send_datetime"]
    if isinstance(stamp_ms, bool) or not isinstance(stamp_ms, int) or len(str(stamp_ms)) != 13:
        return "header.send_datetime phải là số Unix timestamp 13 chữ số (Long)"
    if header["sender_id"] != account.gln:
        return f"header.sender_id {header['sender_id']} không phải mã định danh của tài khoản"
    if header["txn_type"] != "sync_checkup" or header["msg_type"] != "101":
        return "header.txn_type phải là sync_checkup và msg_type là \"101\""
    if header["data_type"] not in ("xml/base64", "json/base64"):
        return "header.data_type phải là xml/base64 hoặc json/base64"
    if not re.fullmatch(re.escape(account.gln) + r"[0-9]{6}[0-9a-fA-F]{32}", header["msg_id"]):
        return "header.msg_id phải là sender_id + YYMMDD + UUIDv4 không gạch (32 ký tự hex)"
    if not header["receiver_id"]:
        return "header.receiver_id trống"
    return ""


def push(portal: Portal, req: Request) -> Response:
    row = None
    auth = req.headers.get("authorization", "")
    if auth.startswith("Bearer "):
        row = portal.store.token(auth[7:].strip(), "ksk")
    if row is None:
        return _reply(portal, "CM_AUTH_PERMISSION", {}, None, 401)
    if row["expires_ts"] <= portal.now().timestamp():
        return _reply(portal, "CM_AUTH_EXPIRED", {}, None, 401)
    account = portal.accounts[row["username"]]
    if req.headers.get("service-type") != "100":
        return _reply(portal, "CM_INVALID_REQUEST", {}, account, 400, "thiếu header service-type: 100")
    try:
        body = req.json()
        header, data = body["header"], body["data"]
    except (ValueError, KeyError, TypeError):
        return _reply(portal, "CM_INVALID_REQUEST", {}, account, 400, "cần JSON {header, data, signature}")
    if not isinstance(header, dict) or not isinstance(data, str):
        return _reply(portal, "CM_INVALID_REQUEST", {}, account, 400, "header phải là Object, data là String base64")
    problem = _header_problem(header, account)
    if problem:
        return _reply(portal, "CM_INVALID_REQUEST", header, account, 400, problem)
    signature = body.get("signature")
    if not isinstance(signature, str) or not signature.strip():
        return _reply(portal, "PS_DS_RSA_SIGNATURE_MISSING", header, account, 400)
    if not any(verify(key, compact(header), data, signature) for key in account.message_keys):
        why = "" if account.message_keys else "chưa đăng ký khóa công khai (message_key) cho tài khoản"
        return _reply(portal, "PS_DS_RSA_SIGNATURE_INVALID", header, account, 400, why)
    earlier = portal.store.by_msg_id("ksk", account.facility, header["msg_id"])
    if earlier is not None:
        return json_response(earlier.reply)
    if header["data_type"] != "xml/base64":
        return _reply(portal, "CM_INVALID_REQUEST", header, account, 400, "hệ thống mô phỏng chỉ nhận xml/base64")
    try:
        xml = base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        return _reply(portal, "CM_INVALID_REQUEST", header, account, 400, "data không phải base64")
    problem_code = _check_envelope(xml, account)
    if problem_code:
        code, detail = problem_code
        return _reply(portal, code, header, account, 400, detail)
    same = portal.store.same_bytes("ksk", account.facility, hashlib.sha256(xml).hexdigest())
    if same is not None:  # identical bytes under a new msg_id: the first result stands
        return json_response(same.reply)
    return _accepted(portal, account, header, xml)


def _check_envelope(xml: bytes, account: Account) -> tuple[str, str] | None:
    try:
        root = parse_bytes(xml, source="data", limits=ParseLimits())
    except InputError as exc:
        return "CM_INVALID_REQUEST", exc.message
    if root.tag != "KHAMSUCKHOE":
        return "CM_INVALID_REQUEST", f"data phải là KHAMSUCKHOE, không phải {root.tag}"
    report = verify_bytes(xml, "data", trust=account.trust())
    missing = [s.slot for s in report.signatures if s.code == "not-signed"]
    if missing:
        return "PS_DS_CA_SIGNATURE_MISSING", ", ".join(missing)
    untrusted = next((s for s in report.signatures if s.code == "untrusted"), None)
    if untrusted is not None:
        return "PS_DS_CA_SIGNATURE_INVALID", f"{untrusted.slot}: chứng thư số chưa được đăng ký"
    if not report.valid:
        first = report.error or next((f"{s.slot}: {s.message_vi}" for s in report.signatures if not s.ok), "")
        return "PS_DS_CA_SIGNATURE_INVALID", first
    for s in report.signatures:
        if s.certificate is None or not account.registered(s.certificate):
            return "PS_DS_CA_SIGNATURE_INVALID", f"{s.slot}: chứng thư số chưa được đăng ký"
    validation = validate_bytes(xml, "data")
    if not validation.valid:
        errors = "; ".join(f.message_vi for f in validation.errors[:5])
        return "CM_INVALID_REQUEST", f"dữ liệu không hợp lệ ({len(validation.errors)} lỗi): {errors}"
    return None


def _accepted(portal: Portal, account: Account, header: dict[str, Any], xml: bytes) -> Response:
    now = portal.now()
    txn_id = f"DS-{account.gln}-{now:%y%m%d}{uuid.uuid4().hex}"  # PL02 §5.2 b 1.3
    data = {"data_state": "0", "data_state_msg": "Data is received", "message_check_ca": "Digitally signed XML data",
            "message_notify": "Successfully inserted data to DATA LAKE"}
    response = _reply(portal, "PS_DS_SAVE_SUCCESS", header, account, txn_id=txn_id, data=data)
    lks = episode_keys(parse_bytes(xml))
    sub = Submission(txn_id, "ksk", PUSH, account.username, account.facility, hashlib.sha256(xml).hexdigest(),
                     len(xml), stamp(now), now.timestamp(), "received", 1, json.loads(response.body))
    portal.store.add_submission(sub, xml, lks, header["msg_id"])
    return response
