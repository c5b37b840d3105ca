"""The client of the Ministry of Health data hub (Trục dữ liệu Bộ Y tế) for checkup records, as
QĐ 2062/QĐ-BYT Phụ lục 02 defines it (shared/spec/ksk/hub_api.md).

* **Base URLs** (PL02 §2.1): production ``https://api.emrhub.vn``, sandbox
  ``https://api-sandbox.emrhub.vn`` (``hub.environment``); ``hub.url`` overrides both (the
  simulated hub of ``sohs portal serve``).
* **Login** ``POST /api/auth/login`` ``{username, password}`` → ``{header:{version, success,
  send_datetime, res_datetime, res_code, res_msg}, data:{token, refresh_token, duration, role}}``
  (PL02 §5.1). The token is ``data.token``, valid ``data.duration`` seconds. No refresh endpoint is
  defined (PL02 §3 lists two APIs), so an expired or refused token means logging in again, once.
* **Push** ``POST /api/platform/data-sync/push`` with ``Content-Type``, ``Accept``,
  ``Accept-Encoding``, ``Authorization: Bearer``, ``service-type: 100`` (PL02 §5.2 a) and the body
  ``{header:{version, sender_id, receiver_id, txn_type, msg_id, msg_type, data_type,
  send_datetime}, data, signature}``; ``data`` is the signed ``KHAMSUCKHOE`` in base64, ``signature``
  the checksum by the Ministry-issued message key (:mod:`sohs_cli.portal.hubmessage`).
* **msg_id** = sender_id + YYMMDD + 32 hex (PL02 §5.2 a 1.5). The date is the envelope's
  ``NGAYLAP`` and the 32 hex a UUIDv4 made from the SHA-256 of the document, so the same record
  always carries the same ``msg_id`` and a resend after a crash is recognisable as one.

* **The reply's signature** (PL02 §4, §5.2 b 3): the Ministry hands the unit the hub's public key
  "để đơn vị kiểm định bản tin Response". With ``hub.reply_key`` set (that key, PEM or a
  certificate), every push reply's ``signature`` is verified over its header and data
  (:func:`sohs_cli.portal.hubmessage.reply_text`) before its outcome is believed: a reply that does not
  verify, or carries none, is a configuration error (exit 3) and the record is not filed as
  accepted or rejected. Without ``hub.reply_key`` replies are not verified (the README says so):
  the key is not published, and the decision leaves open how a ``null`` data is hashed.

Every ``res_code`` is classified (:data:`OUTCOMES`); anything the decision does not describe (not
JSON, not the ``{header:{res_code}}`` shape, HTTP 401 without a code) ends in one clear error.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import brotli  # noqa: F401  httpx decodes "br" replies with it; PL02 §5 requires Accept-Encoding: gzip,deflate,br
import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from sohs_cli.foundation.errors import ConfigError, CredentialError, PortalUnavailable
from sohs_cli.foundation.i18n import N_, _, language
from sohs_cli.portal.client import Answer, PortalClient
from sohs_cli.portal.hubmessage import MessageKey, compact, no_message_key, reply_text, verify

LOGIN = "/api/auth/login"
PUSH = "/api/platform/data-sync/push"
BASE_URLS = {"production": "https://api.emrhub.vn", "sandbox": "https://api-sandbox.emrhub.vn"}  # PL02 §2.1
HEADERS = {"Content-Type": "application/json", "Accept": "*/*", "Accept-Encoding": "gzip,deflate,br"}
VN = dt.timezone(dt.timedelta(hours=7))
_NOT_THE_HUB = N_("check hub.url / hub.environment: it must be the Ministry's data hub API")

#: res_code -> (outcome, English, Vietnamese). Outcomes: accepted · rejected (this record: fix it) ·
#: relogin (the token: log in again once) · credentials · configuration (every record would fail
#: alike: exit 3) · later (the hub's own trouble: exit 4, nothing lost). PL02 §5.1 b, §5.2 b
#: (hub_api.md §7.1); the last group was seen on the sandbox or in vendor code (§7.2).
OUTCOMES: dict[str, tuple[str, str, str]] = {
    "CM_SUCCESS": ("accepted", "accepted", "thành công"),
    "PS_DS_VERIFY_SUCCESS": ("accepted", "administrative data verified", "thông tin hành chính đã được xác thực"),
    "PS_DS_SAVE_SUCCESS": ("accepted", "file stored", "file đã được lưu trữ thành công"),
    "CM_INVALID_REQUEST": ("rejected", "the input does not follow the standard",
                           "đầu vào dữ liệu không đúng quy chuẩn"),
    "PS_DS_CA_SIGNATURE_INVALID": ("rejected", "the file's digital signature is not valid",
                                   "chữ ký số của file không hợp lệ"),
    "PS_DS_CA_SIGNATURE_MISSING": ("rejected", "the file is not digitally signed", "file chưa được ký số"),
    "PS_DS_VERIFY_FAIL": ("rejected", "the administrative data could not be verified: correct the identity "
                          "fields and send again", "thông tin hành chính xác thực không thành công"),
    "PS_DS_RSA_SIGNATURE_INVALID": ("configuration", "the message checksum signature is not valid",
                                    "chữ ký số (RSA) không hợp lệ"),
    "PS_DS_RSA_SIGNATURE_MISSING": ("configuration", "the request carries no checksum signature",
                                    "request thiếu chữ ký số (RSA)"),
    "PS_DS_SAVE_FAIL": ("later", "the hub could not store the file", "gặp lỗi trong quá trình lưu trữ file"),
    "CM_AUTH_ACCOUNT_FAIL": ("credentials", "wrong username or password", "sai mật khẩu hoặc username"),
    # seen in practice, not in the decision
    "PS_SYNC_SUCCESS": ("accepted", "accepted (HCC gateway)", "đồng bộ thành công"),
    "PS_CCCD_DUPLICATE_IN_6_MONTHS": ("rejected", "this person had a checkup less than 6 months ago",
                                      "đã khám sức khỏe trong vòng 6 tháng"),
    "PS_SIGNATURE_INVALID": ("configuration", "the message checksum signature is not valid",
                             "chữ ký thông điệp không hợp lệ"),
    "ERROR_99": ("rejected", "refused by the hub (unspecified)", "cổng từ chối tiếp nhận"),
    "CM_AUTH_PERMISSION": ("relogin", "the token was refused", "token không hợp lệ"),
    "CM_AUTH_EXPIRED": ("relogin", "the token has expired", "token đã hết hạn"),
}


def outcome_of(code: str) -> str:
    """How a ``res_code`` is handled; an undocumented code is a rejection (never taken as delivered)."""
    return OUTCOMES.get(code, ("rejected", "", ""))[0]


def message_id(sender_id: str, ngaylap: str, sha256: str) -> str:
    """``sender_id + YYMMDD + UUIDv4 without dashes``, the same for the same document."""
    day = ngaylap[2:8] if len(ngaylap) >= 8 and ngaylap[:8].isdigit() else "000000"
    return f"{sender_id}{day}{uuid.UUID(bytes=bytes.fromhex(sha256[:32]), version=4).hex}"


def base_url(url: str, environment: str) -> str:
    """``hub.url`` when set, else the named environment's API base (PL02 §2.1)."""
    if url:
        return url
    if environment in BASE_URLS:
        return BASE_URLS[environment]
    if environment:
        raise ConfigError(_("hub.environment {value} is neither production nor sandbox", value=repr(environment)),
                          hint=_("set hub.environment = \"sandbox\" or \"production\", or hub.url"))
    raise ConfigError(_("no checkup hub URL"),
                      hint=_("set hub.environment = \"sandbox\" (api-sandbox.emrhub.vn) or \"production\" "
                             "(api.emrhub.vn), or hub.url for the simulated hub"))


@dataclass
class HubClient(PortalClient):
    """Shares the transport, timeouts and retry policy (5xx, 429, transport errors) of :class:`PortalClient`."""

    gln: str = ""
    message_key: MessageKey | None = field(default=None, repr=False)
    receiver_id: str = "TDLBYT"
    version: str = "1.0.6"
    reply_key: rsa.RSAPublicKey | None = field(default=None, repr=False)  # hub.reply_key: the hub's public key

    def __post_init__(self) -> None:
        super().__post_init__()
        if len(self.gln) != 13 or not self.gln.isdigit():
            raise ConfigError(_("hub.gln {value} is not the 13-digit facility ID", value=repr(self.gln)),
                              hint=_("set hub.gln in sohs.toml or SOHS_HUB_GLN"))
        self._bearer: tuple[str, float] | None = None

    def __repr__(self) -> str:
        return f"HubClient({self.base_url!r}, username={self.username!r}, gln={self.gln!r})"

    # -------------------------------------------------------------- login

    async def check_login(self) -> str:
        await self._bearer_token(fresh=True)
        return self._last_date

    async def _bearer_token(self, fresh: bool = False) -> str:
        async with self._login_lock:
            if not fresh and self._bearer and time.monotonic() < self._bearer[1]:
                return self._bearer[0]
            secret = self.password.configured()
            if secret is None:
                secret = self.password.ask(_("Hub password for {user}: ", user=self.username))
            r = await self._send(LOGIN, {"username": self.username, "password": secret.decode("utf-8")})
            self._last_date = r.headers.get("date", "")
            header, data = _reply(r, LOGIN)
            code = str(header.get("res_code", ""))
            token = data.get("token") if isinstance(data, dict) else None
            if code == "CM_SUCCESS" and isinstance(token, str) and token:
                duration = _seconds(data.get("duration") if isinstance(data, dict) else None)
                self._bearer = (token, time.monotonic() + duration - min(60.0, duration / 4))
                return token
            if r.status_code in (401, 403) or code.startswith("CM_AUTH"):
                raise CredentialError(
                    _("the checkup hub refused the login of {user} ({code}: {said})", user=self.username,
                      code=code or f"HTTP {r.status_code}", said=header.get("res_msg", "")),
                    hint=_("check hub.username and the hub password ({where})", where=self.password.describe()))
            raise ConfigError(_("the checkup hub answered the login with {code} and no data.token",
                                code=code or f"HTTP {r.status_code}"), hint=_(_NOT_THE_HUB))

    async def _send(self, path: str, payload: dict[str, Any] | bytes,
                    headers: dict[str, str] | None = None) -> httpx.Response:
        content = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
        return await self._post(path, content, {**HEADERS, **(headers or {})})

    # -------------------------------------------------------------- push

    def message(self, xml: bytes, ngaylap: str, now: dt.datetime | None = None) -> bytes:
        """The push body, exactly as sent: the compact header that was hashed, data, signature."""
        if self.message_key is None:
            raise no_message_key()
        sent = now or dt.datetime.now(dt.UTC)
        header = {"version": self.version, "sender_id": self.gln, "receiver_id": self.receiver_id,
                  "txn_type": "sync_checkup", "msg_id": message_id(self.gln, ngaylap, hashlib.sha256(xml).hexdigest()),
                  "msg_type": "101", "data_type": "xml/base64", "send_datetime": int(sent.timestamp() * 1000)}
        data = base64.b64encode(xml).decode("ascii")
        header_json = compact(header)
        signature = self.message_key.sign(header_json, data)
        return f'{{"header":{header_json},"data":"{data}","signature":"{signature}"}}'.encode()

    async def push(self, xml: bytes, ngaylap: str) -> Answer:
        raw = self.message(xml, ngaylap)
        for fresh in (False, True):
            token = await self._bearer_token(fresh)
            r = await self._send(PUSH, raw, {"Authorization": f"Bearer {token}", "service-type": "100"})
            header, data = _reply(r, PUSH, allow_bare_401=True)
            code = str(header.get("res_code", ""))
            relogin = outcome_of(code) == "relogin" or (r.status_code == 401 and not code)
            if not relogin:
                break
        else:
            raise CredentialError(_("the checkup hub refused the token of {user} after a fresh login ({code})",
                                    user=self.username, code=code or _("HTTP 401 without a CM_AUTH_* code")),
                                  hint=_("check that the hub account may push for hub.gln (facility-api role)"))
        if self.reply_key is not None:
            self._check_signature(r, header, data, code)
        return self._answer(r, header, data, code)

    def _check_signature(self, r: httpx.Response, header: dict[str, Any], data: Any, code: str) -> None:
        """The reply's checksum by the hub's key (``hub.reply_key``), before its outcome is believed."""
        assert self.reply_key is not None
        body = r.json()
        signature = body.get("signature") if isinstance(body, dict) else None
        if isinstance(signature, str) and signature.strip() and verify(self.reply_key, *reply_text(header, data),
                                                                        signature):
            return
        answered = code or f"HTTP {r.status_code}"
        raise ConfigError(
            _("the checkup hub's reply ({code}) carries no signature to check with hub.reply_key: its outcome is "
              "not believed and the record stays to send again", code=answered)
            if not isinstance(signature, str) or not signature.strip() else
            _("the checkup hub's reply ({code}) has a signature that does not verify with hub.reply_key: its "
              "outcome is not believed and the record stays to send again", code=answered),
            hint=_("hub.reply_key must be the hub's public key the Ministry handed out with the message key; if the "
                   "reply came from elsewhere, check hub.url / hub.environment"))

    def _answer(self, r: httpx.Response, header: dict[str, Any], data: Any, code: str) -> Answer:
        kind, en, vi = OUTCOMES.get(code, ("rejected", "", ""))
        said = str(header.get("res_msg", "")) or (vi if language() == "vi" else en)
        notes = [said] + ([str(data["message_notify"])] if isinstance(data, dict) and data.get("message_notify")
                          else [])
        message = "; ".join(n for n in notes if n)
        if kind == "accepted":
            received = _vn_time(header.get("res_datetime"))
            return Answer("accepted", code, message, str(header.get("txn_id", "")), received, r.status_code)
        if kind == "credentials":
            raise CredentialError(_("the checkup hub refused the account {user} ({code}: {said})", user=self.username,
                                    code=code, said=said),
                                  hint=_("check hub.username and the hub password ({where})",
                                         where=self.password.describe()))
        if kind == "configuration":
            raise ConfigError(_("the checkup hub refused the message checksum ({code}: {said})", code=code, said=said),
                              hint=_("hub.message_key must be the key pair the Ministry issued to {gln}, not the "
                                     "facility's signing certificate", gln=self.gln))
        if kind == "later":
            raise PortalUnavailable(_("the checkup hub could not take the record now ({code}: {said})", code=code,
                                      said=said), hint=_("nothing was lost: run again later"))
        if not en:
            message = "; ".join(n for n in (message, _("an undocumented res_code: not taken as delivered")) if n)
        return Answer("rejected", code, message, http_status=r.status_code)


def _reply(r: httpx.Response, path: str, allow_bare_401: bool = False) -> tuple[dict[str, Any], Any]:
    """``(header, data)`` of a reply of the documented shape, or the one error that says what came instead."""
    if r.status_code == 404:
        raise ConfigError(_("the checkup hub has no {path} (HTTP 404)", path=path),
                          hint=_("check hub.url / hub.environment: the API base, e.g. {url}", url=BASE_URLS["sandbox"]))
    try:
        body = r.json()
    except ValueError:
        if allow_bare_401 and r.status_code == 401:
            return {}, None
        if r.status_code == 401:
            raise CredentialError(_("the checkup hub answered {path} with HTTP 401 and no res_code", path=path),
                                  hint=_("check hub.username and the hub password")) from None
        raise PortalUnavailable(_("the checkup hub answered {path} with HTTP {status} and a body that is not JSON",
                                  path=path, status=r.status_code),
                                hint=_("nothing was lost: run again later; if it persists, check hub.url")) from None
    header = body.get("header") if isinstance(body, dict) else None
    if not isinstance(header, dict) or not isinstance(header.get("res_code"), str):
        if allow_bare_401 and r.status_code == 401:
            return {}, None
        raise ConfigError(_("the checkup hub answered {path} with HTTP {status} but not the PL02 shape {shape}",
                            path=path, status=r.status_code, shape="{header:{res_code,…}, data}"),
                          hint=_(_NOT_THE_HUB))
    return header, body.get("data")


def _seconds(value: Any) -> float:
    """``data.duration`` is seconds (PL02 §5.1 b 2.3); one hour when absent or odd."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return 3600.0
    return seconds if seconds > 0 else 3600.0


def _vn_time(epoch_ms: Any) -> str:
    """``res_datetime`` (13-digit epoch ms) as ``yyyymmddHHMMSS`` Vietnam time, as the ledger keeps receipts."""
    try:
        when = dt.datetime.fromtimestamp(int(epoch_ms) / 1000, VN)
    except (TypeError, ValueError, OverflowError, OSError):
        when = dt.datetime.now(VN)
    return when.strftime("%Y%m%d%H%M%S")
