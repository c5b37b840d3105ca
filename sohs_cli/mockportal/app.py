"""The simulated receiving portal: one ASGI application, served by ``sohs portal serve`` (uvicorn) and
used in-process through ``httpx.ASGITransport`` (tests, ``sohs demo``). Same code both ways.

Processing of received files is asynchronous: a background task processes what is due every
``PROCESS_EVERY`` seconds, and every lookup first processes what is due, so a result never depends
on the timing of that task. The task starts with the lifespan (uvicorn) or on the first request
(in-process, where no lifespan runs). Paths under ``/_mock/`` are what the real portal does not have.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import html
import json
import logging
from collections.abc import Callable
from typing import Any

from sohs_cli.mockportal import gateway, hub
from sohs_cli.mockportal.asgi import (
    BodyTooLarge,
    ClientGone,
    Receive,
    Request,
    Response,
    Scope,
    Send,
    TooManyUploads,
    html_response,
    json_response,
    read_request,
)
from sohs_cli.mockportal.context import PortalConfig as PortalConfig  # re-exported: callers build one
from sohs_cli.mockportal.faults import FaultPlan
from sohs_cli.mockportal.processing import process
from sohs_cli.mockportal.store import Store

log = logging.getLogger("sohs.portal")
PROCESS_EVERY = 0.5


class Portal:
    def __init__(self, config: PortalConfig, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.config = config
        self.accounts = config.accounts
        self.store = Store(config.data_dir)
        self.faults = FaultPlan(config.faults)
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._worker: asyncio.Task[None] | None = None
        self._processing: asyncio.Lock | None = None
        self._uploads: asyncio.Semaphore | None = None
        self.routes: dict[tuple[str, str], Callable[[Portal, Request], Response]] = {
            ("POST", "/api/token/take"): gateway.token_take,
            ("POST", gateway.LOOKUP): gateway.lookup,
            ("POST", hub.LOGIN): hub.login,
            ("POST", hub.PUSH): hub.push,
            ("GET", "/_mock/health"): _health,
            ("GET", "/_mock/submissions"): _submissions,
            ("GET", "/_mock/"): _page,
            ("GET", "/_mock"): _page,
        }
        for path in gateway.ENDPOINTS:
            self.routes[("POST", path)] = gateway.submit
        if config.realistic:
            del self.routes[("POST", gateway.LOOKUP)]

    def now(self) -> dt.datetime:
        return self._clock()

    # -------------------------------------------------------------- processing

    def process_due(self) -> int:
        """Process what is due, here and now (tests and in-process callers; the server itself uses
        :meth:`process_due_async`, which keeps the validation off its event loop)."""
        done = 0
        for sub, body in self.store.due(self.now().timestamp()):
            lks = [row["ma_lk"] for row in self.store.hosos(sub.ma_giao_dich)]
            self._record(sub, _safely(sub.endpoint, body, lks, sub.ma_giao_dich))
            done += 1
        return done

    async def process_due_async(self, wanted: Callable[[Any, list[str]], bool] | None = None) -> int:
        """Process what is due (or what of it ``wanted(submission, its MA_LKs)`` picks) with the
        validation in a worker thread: a hostile file that takes seconds to check no longer stops
        every other request (issue 15: the loop blocked 24 s). The store is read and written on the
        loop's thread only; one processing pass at a time."""
        if self._processing is None:
            self._processing = asyncio.Lock()
        done = 0
        async with self._processing:
            for sub, body in self.store.due(self.now().timestamp()):
                lks = [row["ma_lk"] for row in self.store.hosos(sub.ma_giao_dich)]
                if sub.status != "received" or (wanted is not None and not wanted(sub, lks)):
                    continue
                self._record(sub, await asyncio.to_thread(_safely, sub.endpoint, body, lks, sub.ma_giao_dich))
                done += 1
        return done

    async def _fresh(self, req: Request) -> None:
        """Before a handler that shows results: process what it will show. A lookup waits for its own
        submission(s) only, not for the backlog of every clinic (each in the worker thread)."""
        if req.path != gateway.LOOKUP:
            await self.process_due_async()
            return
        form = req.form()
        number, ma_lk = form.get("maGiaoDich", ""), form.get("maLk", "")
        # its episodes too: an earlier version of the same MA_LK is processed first, in receipt order
        episodes = {row["ma_lk"] for row in self.store.hosos(number)} if number else {ma_lk} - {""}
        await self.process_due_async(lambda sub, lks: sub.ma_giao_dich == number or bool(episodes & set(lks)))

    def _record(self, sub: Any, results: list[tuple[int, str, str, list[Any]]]) -> None:
        self.store.record_result(sub.ma_giao_dich, sub.facility, results, gateway.stamp(self.now()))

    async def _process_forever(self) -> None:
        while True:
            try:
                await self.process_due_async()
            except Exception:  # keep serving; a processing bug must not stop the portal
                log.exception("processing failed")
            await asyncio.sleep(PROCESS_EVERY)

    def start(self) -> None:
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._process_forever())

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        self.store.close()

    # -------------------------------------------------------------- ASGI

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        self.start()
        if self._uploads is None:
            self._uploads = asyncio.Semaphore(self.config.max_large_uploads)
        try:
            req = await read_request(scope, receive, self.config.max_body, self._uploads)
        except TooManyUploads:
            await json_response({"error": "too many large uploads at once; retry shortly"}, 429,
                                {"Retry-After": "1"}).send(send)
            return
        except BodyTooLarge:
            await gateway.answer("1001", f"File size quá dài (giới hạn {self.config.max_body:,} byte)").send(send)
            return
        except ClientGone:
            return
        try:
            await self._handle(req, send)
        finally:
            if req.slot:
                self._uploads.release()

    async def _handle(self, req: Request, send: Send) -> None:
        handler = self.routes.get((req.method, req.path))
        if handler is None:
            if self.config.realistic:  # a web server's page, as a real gateway answers an unknown path
                await gateway.not_found_page().send(send)
                return
            known = any(path == req.path for _, path in self.routes)
            await json_response({"error": "method not allowed" if known else "not found"},
                                405 if known else 404).send(send)
            return
        if req.path.startswith("/api/"):
            early = await self._faults()
            if early is not None:
                await early.send(send)
                return
        if handler in _FRESH:  # results first, off the loop: the handler finds its own processed
            await self._fresh(req)
        try:
            response = handler(self, req)
        except gateway.DropConnection as drop:
            log.info("dropping the reply to an accepted submission %s (--drop-after-accept)", drop)
            # the head promises a body that never comes: the server closes the connection mid-reply
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")]})
            await send({"type": "http.response.body", "body": b"", "more_body": True})
            return
        await response.send(send)

    async def _faults(self) -> Response | None:
        plan, faults = self.faults, self.faults.faults
        wait = plan.throttled()
        if wait > 0:
            return json_response({"error": "too many requests"}, 429, {"Retry-After": str(max(1, round(wait)))})
        if faults.latency > 0:
            await asyncio.sleep(faults.latency)
        if plan.draw(faults.fail_rate):
            return json_response({"error": "service unavailable (injected)"}, 503)
        if plan.draw(faults.timeout_rate):
            await asyncio.sleep(faults.hang_seconds)
        return None

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _safely(endpoint: str, body: bytes, ma_lks: list[str], source: str) -> list[tuple[int, str, str, list[Any]]]:
    """Processing that cannot poison the portal: a file whose processing fails (a bug) is rejected
    with that said, and logged, instead of staying due and failing every lookup after it, across
    restarts (issue 15: a 5,000-digit SOLUONGHOSO made listings and lookups answer 500 for good)."""
    try:
        return process(endpoint, body, ma_lks, source)
    except Exception:
        log.exception("processing %s failed; it is recorded as rejected", source)
        error = {"maLoi": "internal", "truong": "", "nhan": "", "dong": 0, "viTri": source,
                 "moTa": "Lỗi xử lý nội bộ của cổng mô phỏng (xem nhật ký)",
                 "moTaEn": "the simulated portal failed to process this file (see its log)"}
        return [(i, lk, "rejected", [error]) for i, lk in enumerate(ma_lks or [""], start=1)]


# ------------------------------------------------------------------ /_mock/


def _health(portal: Portal, req: Request) -> Response:
    return json_response({"status": "ok", "submissions": len(portal.store.all_submissions())})


def submissions_view(portal: Portal) -> list[dict[str, Any]]:
    portal.process_due()
    out = []
    for sub in portal.store.all_submissions():
        hosos = portal.store.hosos(sub.ma_giao_dich)
        out.append({
            "maGiaoDich": sub.ma_giao_dich, "service": sub.service, "endpoint": sub.endpoint,
            "maCSKCB": sub.facility, "username": sub.username, "ma_lk": [h["ma_lk"] for h in hosos],
            "sha256": sub.sha256, "size": sub.size, "thoiGianTiepNhan": sub.received_at,
            "times_received": sub.times_received, "status": sub.status,
            "result": [{"ma_lk": h["ma_lk"], "state": h["state"], "replaced_by": h["replaced_by"],
                        "errors": json.loads(h["errors"])} for h in hosos]})
    return out


def _submissions(portal: Portal, req: Request) -> Response:
    return json_response(submissions_view(portal))


def _page(portal: Portal, req: Request) -> Response:
    rows = []
    for s in submissions_view(portal):
        states = ", ".join(f"{r['ma_lk']}: {r['state']}" + (f" ({len(r['errors'])} lỗi)" if r["errors"] else "")
                           for r in s["result"])
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in (
            s["maGiaoDich"], s["thoiGianTiepNhan"], s["maCSKCB"], s["endpoint"], states, s["times_received"],
            s["sha256"][:16])) + "</tr>")
    head = "".join(f"<th>{h}</th>" for h in ("Mã giao dịch", "Thời gian tiếp nhận", "Mã CSKCB", "Cổng",
                                             "Kết quả (MA_LK)", "Số lần nhận", "SHA-256"))
    return html_response(
        "<!doctype html><html lang=vi><meta charset=utf-8><title>Danh sách tiếp nhận (mô phỏng)</title>"
        "<style>body{font-family:sans-serif}td,th{border:1px solid #ccc;padding:4px}</style>"
        "<h1>Danh sách tiếp nhận — cổng mô phỏng sohs</h1><p>Simulated BHXH portal: not the real one.</p>"
        f"<table><tr>{head}</tr>{''.join(rows)}</table></html>")


#: handlers that show processing results: what is due is processed before them
_FRESH = {gateway.lookup, _submissions, _page}
