"""The client of the Ministry of Health checkup hub (QĐ 1551 PL02, QĐ 2062; DOMAIN.md §4.3).

``POST /api/auth/login`` (JSON) gives a bearer token; ``POST /api/platform/data-sync/push`` carries
``{header, data, signature}``: ``data`` is the signed ``KHAMSUCKHOE`` in base64, ``signature`` is
RSA-SHA256 by the facility's key over ``A + "." + B`` (``A = UPPER(hex(SHA256(header JSON)))``,
``B = UPPER(hex(SHA256(data)))``). The header is sent as the exact compact JSON that was hashed.

Idempotency: the hub treats a new ``msg_id`` as a new version and gives no lookup, so the ``msg_id``
is derived from the document itself: ``<GLN><YYMMDD of NGAYLAP><first 32 hex of its SHA-256>``, the
shape of ``<sender_id><YYMMDD><uuid4 hex>``. A resend after a crash carries the same ``msg_id`` and
is answered with the first result.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from sohs_cli.errors import ConfigError, CredentialError
from sohs_cli.hubmessage import compact, signed_text
from sohs_cli.portal.client import Answer, PortalClient
from sohs_cli.signing import Signer

PUSH = "/api/platform/data-sync/push"
ACCEPTED = ("PS_SYNC_SUCCESS", "CM_SUCCESS")


def message_id(gln: str, ngaylap: str, sha256: str) -> str:
    return f"{gln}{ngaylap[2:8]}{sha256[:32]}"


@dataclass
class HubClient(PortalClient):
    """Shares the transport, timeouts and retry policy of :class:`PortalClient`."""

    gln: str = ""
    signer: Signer | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        if len(self.gln) != 13 or not self.gln.isdigit():
            raise ConfigError(f"hub.gln {self.gln!r} is not the 13-digit facility ID (mã định danh cơ sở)",
                              hint="set hub.gln in sohs.toml or SOHS_HUB_GLN")
        self._bearer: tuple[str, float] | None = None

    async def _bearer_token(self, fresh: bool = False) -> str:
        if not fresh and self._bearer and time.monotonic() < self._bearer[1]:
            return self._bearer[0]
        secret = self.password.configured()
        if secret is None:
            secret = self.password.ask(f"Hub password for {self.username}: ")
        r = await self._send_json("/api/auth/login", {"username": self.username, "password": secret.decode()})
        body = _body(r)
        if "token" not in body:
            raise CredentialError(f"the checkup hub refused the login of {self.username} "
                                  f"({body.get('res_code', r.status_code)}) (đăng nhập thất bại)",
                                  hint=f"check the hub account and password ({self.password.describe()})")
        duration = float(body.get("duration") or 3600)
        self._bearer = (str(body["token"]), time.monotonic() + duration * 0.75)
        return self._bearer[0]

    async def _send_json(self, path: str, payload: dict[str, Any] | bytes,
                         headers: dict[str, str] | None = None) -> httpx.Response:
        content = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
        return await self._post(path, content, {"Content-Type": "application/json", **(headers or {})})

    async def push(self, xml: bytes, ngaylap: str) -> Answer:
        if self.signer is None:
            raise ConfigError("checkup envelopes need the facility's key to sign the hub message",
                              hint="give --p12 (or signing.p12 in sohs.toml)")
        sha = hashlib.sha256(xml).hexdigest()
        header = {"version": "1.0.6", "sender_id": self.gln, "receiver_id": "TDLBYT", "txn_type": "sync_checkup",
                  "msg_id": message_id(self.gln, ngaylap, sha), "msg_type": "101", "data_type": "xml/base64",
                  "send_datetime": int(dt.datetime.now(dt.UTC).timestamp() * 1000)}
        data = base64.b64encode(xml).decode("ascii")
        header_json = compact(header)
        signature = base64.b64encode(self.signer.sign(signed_text(header_json, data))).decode("ascii")
        raw = f'{{"header":{header_json},"data":"{data}","signature":"{signature}"}}'.encode()
        for fresh in (False, True):
            token = await self._bearer_token(fresh)
            r = await self._send_json(PUSH, raw, {"Authorization": f"Bearer {token}", "service-type": "100"})
            body = _body(r)
            code = str((body.get("header") or {}).get("res_code", ""))
            if code not in ("CM_AUTH_EXPIRED", "CM_AUTH_PERMISSION") or r.status_code != 401:
                break
        note = str((body.get("data") or {}).get("message_notify", ""))
        if code in ACCEPTED:
            return Answer("accepted", code, note, str(body["header"].get("txn_id", "")),
                          dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).strftime("%Y%m%d%H%M%S"),
                          r.status_code)
        if code.startswith("CM_AUTH"):
            raise ConfigError(f"the checkup hub refused {self.gln} ({code}: {note})",
                              hint="check hub.gln and the hub account")
        return Answer("rejected", code or str(r.status_code), note, http_status=r.status_code)


def _body(r: httpx.Response) -> dict[str, Any]:
    try:
        body = r.json()
    except ValueError:
        body = {}
    return body if isinstance(body, dict) else {}
