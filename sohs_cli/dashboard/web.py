"""The dashboard as one ASGI application (served by uvicorn): routes, the token rule, the headers.

Why no web framework: a dozen GET routes, one login form and streamed exports; a raw ASGI callable,
in the style of the simulated portal, is what uvicorn runs and what ``httpx.ASGITransport`` drives
in tests. Templates are Jinja2 with autoescape on for every template: every data value is escaped
unless a template says otherwise, and none does. The nights chart's bars and the nights' table come
ready-made (and escaped) from :mod:`charts`: a template is too slow for three years of them.

Who may see it: with a token (``--token-file``), every request must carry it, as
``Authorization: Bearer TOKEN`` (scripts) or as the session cookie the login form sets (browsers),
compared in constant time. Ten wrong tokens from one address within five minutes (by the form or
as a bearer) and that address is answered 429 until the five minutes have passed: a token of 16
characters or more cannot be guessed anyway, but nothing should be free to try. The session cookie
is ``Secure`` when the request came over https (uvicorn sees it from a TLS proxy on the same machine
through ``X-Forwarded-Proto``); the dashboard itself speaks plain http, on loopback or behind such a
proxy, so over http a ``Secure`` cookie would never be sent back and the sign-in would not hold.
Without a token the server is bound to loopback (the CLI enforces it)
and answers only requests whose ``Host`` is a loopback name, so a web page elsewhere cannot reach it
through DNS rebinding. Every answer says ``Cache-Control: no-store`` and carries a strict CSP.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import math
import threading
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sohs_cli.dashboard import charts, exports
from sohs_cli.dashboard.store import VN, night_of
from sohs_cli.dashboard.texts import TEXTS, text
from sohs_cli.dashboard.views import MAX_NIGHTS, BadQuery, Views, filters_of, page_of
from sohs_cli.submission.ledger import STATES

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

HERE = Path(__file__).parent
SESSION_COOKIE = "sohs_session"
LANG_COOKIE = "sohs_lang"
MAX_BODY = 4096
LOGIN_TRIES = 10  # wrong tokens from one address within LOGIN_WINDOW seconds: it waits out the window
LOGIN_WINDOW = 300.0
LOGIN_ADDRESSES = 1024  # addresses remembered at most (the oldest forgotten first)
SECURITY_HEADERS = {
    "cache-control": "no-store",
    "pragma": "no-cache",
    "content-security-policy": "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
EXIT_KEYS = frozenset(k for k in TEXTS if k.startswith("exit."))
END_KEYS = frozenset(k for k in TEXTS if k.startswith("end."))
STATIC = {"dashboard.css": "text/css; charset=utf-8", "dashboard.js": "text/javascript; charset=utf-8"}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    cookies: dict[str, str]
    body: bytes = b""
    scheme: str = "http"
    client: str = ""  # the peer's address

    @property
    def raw_query(self) -> str:
        return urllib.parse.urlencode([(k, v) for k, vs in self.query.items() for v in vs])


@dataclass
class Answer:
    status: int
    body: bytes | Iterator[bytes]
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] | None = None


def session_value(token: str) -> str:
    """What the session cookie holds: derived from the token, so the token itself never sits in a cookie."""
    return hmac.new(token.encode("utf-8"), b"sohs dashboard session", hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8", "surrogateescape"), b.encode("utf-8", "surrogateescape"))


def host_name(host: str) -> str:
    """The name part of a ``Host`` header (``[::1]:8765`` -> ``[::1]``, ``localhost:8765`` -> ``localhost``)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[:host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def safe_next(target: str) -> str:
    """A redirect target on this server only (``/…``, never ``//host`` or a scheme)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target or any(ord(c) < 32 for c in target):
        return "/"
    return target


class Dashboard:
    def __init__(self, views: Views, *, token: str | None = None, lang: str = "vi",
                 allowed_hosts: tuple[str, ...] = (), clock: Callable[[], float] = time.monotonic) -> None:
        self.views = views
        self.token = token
        self.session = session_value(token) if token else ""
        self.lang = lang
        self.allowed_hosts = allowed_hosts
        self._db = threading.Lock()  # one SQLite connection, one query at a time
        self._env = _environment()
        self.clock = clock
        self._wrong: dict[str, list[float]] = {}  # address -> times of its recent wrong tokens

    # -------------------------------------------------------------- ASGI

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        req = await _read(scope, receive)
        if req is None:
            answer = Answer(413, b"request too large", "text/plain; charset=utf-8")
        else:
            answer = await self.answer(req)
        await _send(send, answer)

    async def answer(self, req: Request) -> Answer:
        if self.allowed_hosts and host_name(req.headers.get("host", "")) not in self.allowed_hosts:
            return Answer(421, b"misdirected request: this dashboard answers on loopback only",
                          "text/plain; charset=utf-8")
        lang = self._lang(req)
        if req.path.startswith("/static/"):
            return _static(req.path.removeprefix("/static/"))
        guessing = self.token is not None and ((req.path == "/login" and req.method == "POST")
                                               or bool(req.headers.get("authorization")))
        wait = self._wait(req.client) if guessing else 0.0
        if wait:
            retry = {"retry-after": str(math.ceil(wait))}
            if req.path != "/login":
                return _json({"error": f"too many wrong tokens from this address: try again in {math.ceil(wait)} s"},
                             429, retry)
            html = self._render("login.html", lang, req, {"next": "/", "wrong": False,
                                                          "wait": math.ceil(wait / 60)})
            return Answer(429, html, headers=retry)
        if req.path == "/login":
            return self._login(req, lang)
        if not self._allowed(req):
            if req.path.startswith("/api/") or req.method != "GET":
                return _json({"error": "unauthorized: send Authorization: Bearer TOKEN"}, 401,
                             {"www-authenticate": 'Bearer realm="sohs dashboard"'})
            target = req.path + ("?" + req.raw_query if req.query else "")
            return Answer(303, b"", headers={"location": "/login?" + urllib.parse.urlencode({"next": target})})
        if req.method not in ("GET", "HEAD"):
            return _json({"error": "method not allowed: the dashboard is read-only"}, 405, {"allow": "GET"})
        if req.path == "/lang":
            to = "en" if (req.query.get("to") or [""])[-1] == "en" else "vi"
            return Answer(303, b"", headers={"location": safe_next((req.query.get("next") or ["/"])[-1]),
                                             "set-cookie": f"{LANG_COOKIE}={to}; Path=/; SameSite=Strict; "
                                                           f"{'Secure; ' if req.scheme == 'https' else ''}"
                                                           "Max-Age=31536000"})
        try:
            return await asyncio.to_thread(self._route, req, lang)
        except BadQuery as exc:
            if req.path.startswith("/api/"):
                return _json({"error": str(exc)}, 400)
            return Answer(400, self._render("notfound.html", lang, req, {"problem": str(exc)}))

    def _allowed(self, req: Request) -> bool:
        if self.token is None:
            return True
        auth = req.headers.get("authorization", "")
        if auth[:7].lower() == "bearer " and same(auth[7:].strip(), self.token):
            return True
        if auth:
            self._wrong_token(req.client)
        cookie = req.cookies.get(SESSION_COOKIE, "")
        return bool(cookie) and same(cookie, self.session)

    def _lang(self, req: Request) -> str:
        chosen = req.cookies.get(LANG_COOKIE, "")
        return chosen if chosen in ("vi", "en") else self.lang

    def _login(self, req: Request, lang: str) -> Answer:
        target = safe_next((req.query.get("next") or ["/"])[-1])
        if self.token is None:
            return Answer(303, b"", headers={"location": target})
        wrong = False
        if req.method == "POST":
            form = urllib.parse.parse_qs(req.body.decode("utf-8", "replace"), max_num_fields=8)
            given = (form.get("token") or [""])[-1].strip()
            if given and same(given, self.token):
                secure = "; Secure" if req.scheme == "https" else ""
                return Answer(303, b"", headers={
                    "location": target,
                    "set-cookie": f"{SESSION_COOKIE}={self.session}; Path=/; HttpOnly; SameSite=Strict{secure}"})
            wrong = True
            self._wrong_token(req.client)
        html = self._render("login.html", lang, req, {"next": target, "wrong": wrong, "wait": 0})
        return Answer(401 if wrong else 200, html)

    def _wrong_token(self, client: str) -> None:
        if client not in self._wrong and len(self._wrong) >= LOGIN_ADDRESSES:
            self._wrong.pop(next(iter(self._wrong)))
        self._wrong.setdefault(client, []).append(self.clock())

    def _wait(self, client: str) -> float:
        """Seconds ``client`` must wait before its next token is looked at (0: none)."""
        now = self.clock()
        recent = [at for at in self._wrong.get(client, []) if now - at < LOGIN_WINDOW]
        if recent:
            self._wrong[client] = recent[-LOGIN_TRIES:]
        else:
            self._wrong.pop(client, None)
        return LOGIN_WINDOW - (now - recent[-LOGIN_TRIES]) if len(recent) >= LOGIN_TRIES else 0.0

    # -------------------------------------------------------------- routes

    def _route(self, req: Request, lang: str) -> Answer:
        path = req.path.rstrip("/") or "/"
        with self._db:
            if path.startswith("/api/"):
                return self._api(path.removeprefix("/api/"), req)
            if path in ("/", "/nights"):
                data = self.views.nights(req.query)
                nightly = data["unit"] == "night"  # else a bar and a row per week or month, each opening its nights
                chart = charts.bars(data["nights"] if nightly else data["periods"], data["unit"])
                return Answer(200, self._render("nights.html", lang, req, {
                    "data": data, "chart": chart, "health": self.views.health(),
                    "chart_bars": charts.bars_markup(chart, lambda s: text(lang, "short." + s), ddmm),
                    "nights_rows": charts.table_markup(data["nights"], ddmm) if nightly
                    else charts.periods_markup(data["periods"], ddmm)}))
            if path == "/documents":
                return Answer(200, self._render("documents.html", lang, req, {"data": self.views.documents(req.query)}))
            if path.startswith("/documents/") and path.removeprefix("/documents/").isdigit():
                doc = self.views.document(int(path.removeprefix("/documents/")))
                if doc is None:
                    return Answer(404, self._render("notfound.html", lang, req, {}))
                return Answer(200, self._render("document.html", lang, req, {"doc": doc}))
            if path == "/failing":
                return Answer(200, self._render("failing.html", lang, req, {"data": self.views.failing(req.query)}))
            if path == "/health":
                return Answer(200, self._render("health.html", lang, req, {"data": self.views.health()}))
            if path in ("/export.csv", "/export.json"):
                return self._export(req, path.endswith(".csv"))
        return Answer(404, self._render("notfound.html", lang, req, {}))

    def _api(self, name: str, req: Request) -> Answer:
        if name == "nights":
            return _json(self.views.nights(req.query))
        if name == "documents":
            return _json(self.views.documents(req.query))
        if name.startswith("documents/") and name.removeprefix("documents/").isdigit():
            doc = self.views.document(int(name.removeprefix("documents/")))
            return _json(doc) if doc is not None else _json({"error": "no such document"}, 404)
        if name == "failing":
            return _json(self.views.failing(req.query))
        if name == "health":
            return _json(self.views.health())
        if name in ("export.csv", "export.json"):
            return self._export(req, name.endswith(".csv"))
        return _json({"error": "not found"}, 404)

    def _export(self, req: Request, as_csv: bool) -> Answer:
        rows = self._locked(self.views.ledger.each_document(filters_of(req.query), page_of(req.query)))
        stamp = dt.datetime.now(VN).strftime("%Y%m%d-%H%M")
        if as_csv:
            return Answer(200, exports.csv_chunks(rows), "text/csv; charset=utf-8",
                          {"content-disposition": f'attachment; filename="sohs-status-{stamp}.csv"'})
        return Answer(200, exports.json_chunks(rows), "application/json; charset=utf-8",
                      {"content-disposition": f'attachment; filename="sohs-status-{stamp}.json"'})

    def _locked(self, rows: Iterator[Any]) -> Iterator[Any]:
        """The export's rows, each page read under the connection's lock (the export streams later)."""
        while True:
            with self._db:
                chunk = [row for _, row in zip(range(500), rows, strict=False)]
            if not chunk:
                return
            yield from chunk

    def _render(self, template: str, lang: str, req: Request, context: dict[str, Any]) -> bytes:
        here = req.path + ("?" + req.raw_query if req.query else "")
        page: str = self._env.get_template(template).render(
            lang=lang, t=lambda key, **kw: text(lang, key, **kw), req=req, here=here, states=STATES,
            token_required=self.token is not None, exit_keys=EXIT_KEYS, end_keys=END_KEYS, max_nights=MAX_NIGHTS,
            **context)
        return page.encode("utf-8")


# ------------------------------------------------------------------ plumbing


async def _read(scope: Scope, receive: Receive) -> Request | None:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        body += message.get("body", b"")
        if len(body) > MAX_BODY:
            return None
        if not message.get("more_body", False):
            break
    cookies: dict[str, str] = {}
    for part in headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name:
            cookies[name] = value
    query = urllib.parse.parse_qs(scope.get("query_string", b"").decode("latin-1"), max_num_fields=64)
    client = scope.get("client") or ("", 0)
    return Request(scope.get("method", "GET"), scope.get("path", "/"), query, headers, cookies, body,
                   scheme=str(scope.get("scheme", "http")), client=str(client[0]))


async def _send(send: Send, answer: Answer) -> None:
    headers = {**SECURITY_HEADERS, "content-type": answer.content_type, **(answer.headers or {})}
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    if isinstance(answer.body, bytes):
        raw.append((b"content-length", str(len(answer.body)).encode()))
        await send({"type": "http.response.start", "status": answer.status, "headers": raw})
        await send({"type": "http.response.body", "body": answer.body})
        return
    await send({"type": "http.response.start", "status": answer.status, "headers": raw})
    chunks = answer.body
    while True:
        chunk = await asyncio.to_thread(next, chunks, None)
        if chunk is None:
            break
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Answer:
    return Answer(status, json.dumps(data, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8",
                  headers)


def _static(name: str) -> Answer:
    if name not in STATIC:
        return Answer(404, b"not found", "text/plain; charset=utf-8")
    return Answer(200, (HERE / "static" / name).read_bytes(), STATIC[name])


def vn_time(stamp: str) -> str:
    """A UTC ledger stamp or a portal stamp (already Vietnam time), as ``dd/mm/yyyy HH:MM:SS``."""
    if not stamp:
        return ""
    try:
        if len(stamp) == 14 and stamp.isdigit():  # the portal: yyyyMMddHHmmss, Vietnam time
            at = dt.datetime.strptime(stamp, "%Y%m%d%H%M%S")
        else:
            at = dt.datetime.fromisoformat(stamp)  # the ledger's ...Z, the run log's ...+0000
            at = (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).astimezone(VN)
    except ValueError:
        return stamp
    return at.strftime("%d/%m/%Y %H:%M:%S")


def field_errors(errors: Any) -> list[dict[str, str]]:
    """Field errors of any source (the portal's ``truong/nhan/moTa``, a local finding's
    ``element/label/message_vi``, a refusal's ``maKetQua/thongDiep``) in one shape for the page."""
    out = []
    for e in errors if isinstance(errors, list) else []:
        if not isinstance(e, dict):
            e = {"moTa": str(e)}

        def first(*keys: str, e: dict[str, Any] = e) -> str:
            return next((str(e[k]) for k in keys if e.get(k) not in (None, "")), "")

        out.append({"field": first("truong", "element"), "label": first("nhan", "label"),
                    "vi": first("moTa", "message_vi", "thongDiep", "message"),
                    "en": first("moTaEn", "message_en", "message", "moTa", "thongDiep"),
                    "code": first("maLoi", "code", "maKetQua"), "line": first("dong", "line"), "ma_lk": first("maLk")})
    return out


def ddmm(night: str) -> str:
    """An ISO night as the page shows it, ``dd/mm/yyyy``."""
    return f"{night[8:10]}/{night[5:7]}/{night[:4]}" if len(night) == 10 else night


def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             extensions=["jinja2.ext.do"])
    env.filters["vn"] = vn_time
    env.filters["field_errors"] = field_errors
    env.filters["night"] = lambda stamp: night_of(stamp).isoformat() if stamp else ""
    env.filters["ddmm"] = ddmm
    env.globals["url"] = _url
    return env


def _url(path: str, query: dict[str, list[str]] | None = None, **changes: Any) -> str:
    """``path`` with ``query``, some parameters changed (None removes one; lists repeat it)."""
    params: dict[str, list[str]] = {k: list(v) for k, v in (query or {}).items()}
    for key, value in changes.items():
        if value is None or value == "" or value == []:
            params.pop(key, None)
        else:
            params[key] = [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]
    encoded = urllib.parse.urlencode([(k, v) for k, vs in params.items() for v in vs])
    return path + ("?" + encoded if encoded else "")
