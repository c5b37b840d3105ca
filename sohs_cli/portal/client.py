"""The HTTP client of the BHXH receiving portal (DOMAIN.md §5). httpx lives here and nowhere else.

Login (``/api/token/take``, password as MD5 upper-case hex) gives a token that is cached until 60 s
before it expires; a 401 on a submission logs in again once. The endpoint is chosen by document
kind and standard. Errors come in the body with HTTP 200, so every answer is classified from
``maKetQua``:

* ``accepted``: 200, a ``maGiaoDich`` (the receipt);
* ``rejected``: any other code for the document (123, 124, 125, 205, 1001 …), never retried: the
  same bytes get the same answer;
* ``PortalUnavailable`` (exit 4): transport errors, timeouts, HTTP 5xx and 429 after the retry
  policy is spent;
* ``CredentialError`` / ``ConfigError`` (exit 3): login refused, 401 again after a fresh login,
  402/403 (the facility is not the account's): every document would fail the same way.

Retry policy (STYLE.md 8): only transport errors, timeouts, 5xx and 429, at most ``attempts`` tries
and ``deadline`` seconds per request, exponential backoff from 0.5 s (doubling, at most 30 s) with
full jitter, ``Retry-After`` honoured for 429. Each retry is reported to ``log``.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import random
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from sohs_cli.foundation.credentials import SecretSource
from sohs_cli.foundation.errors import AmbiguousSend, ConfigError, CredentialError, PortalUnavailable
from sohs_cli.foundation.i18n import N_, _, language

TOKEN_MARGIN = 60.0
LOOKUP = "/api/kcb/tra-cuu-trang-thai"


def endpoint_for(root_tag: str, standard: str) -> tuple[str, str]:
    """``(path, loaiHoSo)`` for a document root and table standard (CV 1245 §2–3)."""
    if root_tag == "GIAMDINHHS":
        return f"/api/qd130/guiHoSoXmlQD{standard}", "130"
    if root_tag == "CHI_TIEU_TRANG_THAI_KCB":
        return f"/api/qd130/checkInKcbQd{standard}", "0"
    raise ConfigError(_("<{root}> has no BHXH endpoint in sohs yet", root=root_tag),
                      hint=_("checkup envelopes (KHAMSUCKHOE) go to the Ministry of Health hub"))


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    deadline: float = 300.0
    base: float = 0.5
    cap: float = 30.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(0, min(self.cap, self.base * 2 ** (attempt - 1)))


@dataclass
class Answer:
    outcome: str  # accepted | rejected
    code: str
    message: str
    transaction_id: str = ""
    received_at: str = ""
    http_status: int = 200
    retries: int = 0


@dataclass
class _Token:
    access: str
    id_token: str
    expires: float  # monotonic seconds


STOP_POLL = 0.25  # seconds between two looks at ``stopping`` during a retry wait


@dataclass
class PortalClient:
    base_url: str
    username: str
    password: SecretSource = field(repr=False)
    ca_bundle: str = ""
    timeout: float = 30.0
    connect_timeout: float = 10.0
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    transport: httpx.AsyncBaseTransport | None = None  # a seam: tests and the demo pass an in-process app
    log: Callable[[str], None] = lambda message: None
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    #: the caller is stopping (SIGTERM): a retry wait ends at once and nothing more is sent
    stopping: Callable[[], bool] = lambda: False
    seed: int | None = None
    connections: int = 8  # the pool holds at most this many: httpcore's pool work grows with its size

    def __post_init__(self) -> None:
        if not self.base_url:
            raise ConfigError(_("no portal URL"),
                              hint=_("give --portal URL, set SOHS_PORTAL_URL, or portal.url in sohs.toml"))
        _check_url(self.base_url)
        if not self.username:
            raise ConfigError(_("no portal username"), hint=_("give --username, set SOHS_PORTAL_USERNAME, "
                                                              "or portal.username in sohs.toml"))
        verify: str | bool = self.ca_bundle or True
        self._http = httpx.AsyncClient(base_url=self.base_url.rstrip("/"), verify=verify, transport=self.transport,
                                  timeout=httpx.Timeout(self.timeout, connect=self.connect_timeout), trust_env=True,
                                  limits=httpx.Limits(max_connections=self.connections,
                                                      max_keepalive_connections=self.connections))
        self._token: _Token | None = None
        self._md5: str | None = None
        self._rng = random.Random(self.seed)
        self._login_lock = asyncio.Lock()
        self._last_date = ""

    def __repr__(self) -> str:
        return f"PortalClient({self.base_url!r}, username={self.username!r})"

    async def close(self) -> None:
        await self._http.aclose()

    # -------------------------------------------------------------- login

    def _password_md5(self) -> str:
        if self._md5 is None:
            secret = self.password.configured()
            if secret is None:
                secret = self.password.ask(_("Portal password for {user}: ", user=self.username))
            self._md5 = hashlib.md5(secret).hexdigest().upper()
        return self._md5

    async def check_login(self) -> str:
        """Log in once, for ``sohs doctor``; returns the portal's ``Date`` header ("" when absent)."""
        await self._login()
        return self._last_date

    async def _login(self) -> _Token:
        r = await self._post("/api/token/take", {"username": self.username, "password": self._password_md5()})
        self._last_date = r.headers.get("date", "")
        body = _json(r)
        if str(body.get("maKetQua")) != "200" or not isinstance(body.get("APIKey"), dict):
            raise CredentialError(
                _("the portal refused the login of {user} (maKetQua {code}: {message})", user=self.username,
                  code=body.get("maKetQua"), message=body.get("thongDiep", "")),
                hint=_("check the username and the password ({where})", where=self.password.describe()))
        key = body["APIKey"]
        lifetime = _seconds_until(str(key.get("expires_in", "")))
        margin = min(TOKEN_MARGIN, max(0.0, lifetime) / 4)
        self._token = _Token(str(key["access_token"]), str(key["id_token"]), time.monotonic() + lifetime - margin)
        return self._token

    async def _headers(self, fresh: bool = False) -> dict[str, str]:
        async with self._login_lock:  # concurrent documents share one login
            token = self._token
            if fresh or token is None or time.monotonic() >= token.expires:
                token = await self._login()
        return {"accessToken": token.access, "tokenId": token.id_token, "passwordHash": self._password_md5()}

    # -------------------------------------------------------------- requests

    async def _post(self, path: str, data: dict[str, str] | bytes,
                    headers: dict[str, str] | None = None, idempotent: bool = True) -> httpx.Response:
        """POST with the retry policy; a response that is neither 5xx nor 429 is returned as is.

        ``idempotent=False`` (a submission): only what surely did not reach the portal is retried
        (no connection, 429, 503); a failure after the request left (the reply lost, a timeout
        while waiting, 500/502/504) raises :class:`AmbiguousSend` at once: the portal may hold it."""
        started = time.monotonic()
        last = ""
        for attempt in range(1, self.policy.attempts + 1):
            wait = 0.0
            sent = False
            try:
                if isinstance(data, bytes):  # a prepared body; its Content-Type may come with the headers
                    r = await self._http.post(path, content=data, headers={**_FORM, **(headers or {})})
                else:
                    r = await self._http.post(path, data=data, headers=headers)
            except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:  # a setting, not an outage: never retried
                raise ConfigError(_("the portal URL {url} cannot be used: {reason}", url=self.base_url,
                                    reason=_transport(exc)),
                                  hint=_("write it in full, e.g. https://egw.baohiemxahoi.gov.vn")) from None
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                last = _transport(exc)  # never left
            except httpx.TimeoutException:
                last, sent = _("no answer within {seconds:g} s", seconds=self.timeout), True
            except httpx.TransportError as exc:
                last, sent = _transport(exc), True
            else:
                if r.status_code == 429:
                    last = _("HTTP 429 (rate limited)")
                    wait = _retry_after(r.headers.get("retry-after", ""))
                elif r.status_code >= 500:
                    last, sent = f"HTTP {r.status_code}", r.status_code != 503  # 503: not taken
                else:
                    return r
            if sent and not idempotent:
                raise AmbiguousSend(_("the request left but no answer came ({reason}): the portal may hold it",
                                      reason=last),
                                    hint=_("sohs asks the portal (where it can) before it sends again"))
            if attempt == self.policy.attempts:
                break
            wait = max(wait, self.policy.backoff(attempt, self._rng))
            if time.monotonic() - started + wait > self.policy.deadline:
                break
            self.log(_("{path}: {reason}; retry {attempt}/{attempts} in {wait:.1f} s", path=path, reason=last,
                       attempt=attempt, attempts=self.policy.attempts - 1, wait=wait))
            if not await self._wait(wait):  # stopped (SIGTERM) while waiting: no retry leaves
                break
        raise PortalUnavailable(_("the portal is unavailable ({reason})", reason=last),
                                hint=_("nothing was lost: run again later"))

    async def pause(self, attempt: int) -> None:
        """The retry policy's backoff before send number ``attempt + 1`` of a file whose reply was lost
        (the caller asked the portal in between): a portal that lost a reply gets time to catch up."""
        await self._wait(self.policy.backoff(attempt, self._rng))

    async def _wait(self, seconds: float) -> bool:
        """Sleep ``seconds`` in slices of at most :data:`STOP_POLL`, ending early when the caller is
        stopping: a SIGTERM during a 30 s backoff (or a portal's Retry-After of minutes) stops the
        job within a slice, not after the wait. False when the wait was cut short."""
        left = seconds
        while left > 0:
            if self.stopping():
                return False
            step = min(left, STOP_POLL)
            await self.sleep(step)
            left -= step
        return not self.stopping()

    async def submit(self, data: bytes, path: str, loai: str, facility: str) -> Answer:
        form = form_body({"username": self.username, "loaiHoSo": loai, "maTinh": facility[:2], "maCSKCB": facility},
                         base64.b64encode(data).decode("ascii"))
        for fresh in (False, True):
            reply = await self._post(path, form, await self._headers(fresh), idempotent=False)
            try:
                body = _json(reply)
            except PortalUnavailable as exc:  # something answered after taking the file: it may hold it
                raise AmbiguousSend(exc.message, hint=_("sohs asks the portal (where it can) before it sends "
                                                        "again")) from None
            code = str(body.get("maKetQua", ""))
            if code != "401":
                break
        message = str(body.get("thongDiep", ""))
        if code == "401":
            raise CredentialError(_("the portal refused the token of {user} twice: {message}", user=self.username,
                                    message=message), hint=_("check the account and its password"))
        if code in ("402", "403"):
            raise ConfigError(_("the portal says facility {facility} is not allowed for {user} (maKetQua {code}: "
                                "{message})", facility=facility, user=self.username, code=code, message=message),
                              hint=_("check facility and portal.username"))
        if code == "200":
            return Answer("accepted", code, message, str(body.get("maGiaoDich", "")),
                          str(body.get("thoiGianTiepNhan", "")))
        return Answer("rejected", code, message)

    async def lookup(self, *, ma_giao_dich: str = "", ma_lk: str = "") -> list[dict[str, Any]] | None:
        """Processing results (simulator extension); None when the portal has no lookup API."""
        form = {"username": self.username, "maGiaoDich": ma_giao_dich, "maLk": ma_lk}
        r = await self._post(LOOKUP, form, await self._headers())
        body = _lookup_body(r)
        if body is None:
            return None
        if str(body.get("maKetQua")) == "401":
            body = _lookup_body(await self._post(LOOKUP, form, await self._headers(fresh=True)))
            if body is None:
                return None
        rows = body.get("ketQua") or []
        return [dict(x) for x in rows if isinstance(x, dict)] if isinstance(rows, list) else []


_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _check_url(url: str) -> None:
    """A portal URL is ``https://host[:port][/path]`` (``http://`` for a local simulator): a URL
    without its scheme would be retried as an outage and end "run again later" (exit 4), when it is a
    setting mistake (exit 3 at once)."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(_("the portal URL {url} does not start with https:// and a host", url=repr(url)),
                          hint=_("write it in full, e.g. https://egw.baohiemxahoi.gov.vn (portal.url, SOHS_PORTAL_URL "
                                 "or --portal)"))


#: what a network failure was, in the run's language (httpx's own text is English)
_TRANSPORT = {
    "ConnectError": N_("no connection"), "ConnectTimeout": N_("the connection timed out"),
    "PoolTimeout": N_("no free connection in time"), "ReadError": N_("the connection broke while reading"),
    "WriteError": N_("the connection broke while sending"), "RemoteProtocolError": N_("the connection was closed"),
    "ProxyError": N_("the proxy refused the connection"), "UnsupportedProtocol": N_("not an http:// or https:// URL"),
    "InvalidURL": N_("not a valid URL"),
}


def _transport(exc: Exception) -> str:
    """A network failure for a message: httpx's class and text in English runs (what an admin
    searches for), a sentence of the catalog in Vietnamese ones."""
    name = type(exc).__name__
    if language() == "en":
        return f"{name}: {exc}" if str(exc) else name
    return _(_TRANSPORT.get(name, N_("a network error")))


def form_body(fields: dict[str, str], file_b64: str) -> bytes:
    """``application/x-www-form-urlencoded`` with ``fileHSBase64`` last. Base64 needs only ``+ / =``
    escaped, done with ``str.replace`` in C: URL-encoding a megabyte of it character by character
    in Python cost more CPU than the rest of a submission."""
    head = urllib.parse.urlencode(fields)
    tail = file_b64.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
    return f"{head}&fileHSBase64={tail}".encode("ascii")


def _lookup_body(r: httpx.Response) -> dict[str, Any] | None:
    """The lookup's JSON, or None when the portal has no lookup: the BHXH gateway defines none, and a
    server without it answers 403, 404, 405 or 501, or a web page (HTML), not an outage (issue 16:
    `run` exited 4 after delivering everything)."""
    if r.status_code in (400, 403, 404, 405, 410, 501):
        return None
    try:
        body = r.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) and ("ketQua" in body or "maKetQua" in body) else None


def _json(r: httpx.Response) -> dict[str, Any]:
    try:
        body = r.json()
    except ValueError:
        raise PortalUnavailable(_("the portal answered HTTP {status} with something that is not JSON",
                                  status=r.status_code),
                                hint=_("run again later; if it persists, check --portal")) from None
    if not isinstance(body, dict):
        raise PortalUnavailable(_("the portal answered JSON that is not an object"))
    return body


def _retry_after(value: str) -> float:
    try:
        return max(0.0, float(value))
    except ValueError:
        return 1.0


def _seconds_until(expires_in: str) -> float:
    """``expires_in`` is a UTC time (CV 3190); some deployments send seconds. Unknown: one hour."""
    text = expires_in.strip()
    if text.replace(".", "", 1).isdigit():
        return float(text)
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return 3600.0
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return (when - dt.datetime.now(dt.UTC)).total_seconds()
