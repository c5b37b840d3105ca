"""The little ASGI plumbing the simulated portal needs: a request with a bounded body, responses.

Why not Starlette or FastAPI: the portal has a handful of form-encoded and JSON endpoints and one
HTML page; a raw ASGI callable is what both uvicorn and ``httpx.ASGITransport`` run, and ~100 lines
here cost less than another dependency to keep current.
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class BodyTooLarge(Exception):
    pass


class ClientGone(Exception):
    pass


class TooManyUploads(Exception):
    """Every slot for a large body is taken: the client is told to come back (429), and memory stays
    bounded by the slots, not by how many clients send 63 MB at once (issue 15: 16 of them, 1.4 GB)."""


LARGE_BODY = 1024 * 1024  # a body over this takes an upload slot while it is read and handled


def _plain_json(value: Any) -> Any:
    """``value`` unless it holds a lone surrogate (``"\\ud800"`` is valid JSON but no text: the
    first ``.encode()`` of it answered HTTP 500). Iterative: depth costs no recursion here."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            item.encode("utf-8")  # UnicodeEncodeError is a ValueError
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return value


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names; the portal's accessToken arrives as "accesstoken"
    query: dict[str, str]
    client: str
    body: bytes = b""
    _form: dict[str, str] | None = field(default=None, repr=False)
    slot: bool = False  # holds an upload slot (read_request), released when the reply is sent

    def form(self) -> dict[str, str]:
        """Form fields (application/x-www-form-urlencoded); the last value wins for repeated names."""
        if self._form is None:
            try:
                pairs = urllib.parse.parse_qsl(self.body.decode("utf-8"), keep_blank_values=True,
                                               max_num_fields=64)
            except (UnicodeDecodeError, ValueError):
                pairs = []
            self._form = dict(pairs)
        return self._form

    def json(self) -> Any:
        """The JSON body, or ValueError for anything that is not plain JSON text: not UTF-8, nested
        deeper than Python's recursion allows (RecursionError answered HTTP 500), lone surrogates."""
        try:
            return _plain_json(json.loads(self.body.decode("utf-8")))
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


async def read_request(scope: Scope, receive: Receive, max_body: int,
                       slots: asyncio.Semaphore | None = None) -> Request:
    """The request with its whole body (at most ``max_body``). A body over ``LARGE_BODY`` takes one
    of ``slots`` (``Request.slot`` is then True: the caller releases it), or TooManyUploads."""
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    declared = headers.get("content-length", "")
    # ASCII digits only, and no int() of thousands of them (Python's integer-string limit: HTTP 500)
    if declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > max_body):
        raise BodyTooLarge(declared)
    chunks: list[bytes] = []
    size = 0
    slot = False

    async def take_slot() -> bool:
        if slots is None:
            return False
        if slots.locked():
            raise TooManyUploads()
        await slots.acquire()  # free: it returns at once, nothing else runs in between
        return True

    if declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > LARGE_BODY):
        slot = await take_slot()
    try:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientGone()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > max_body:
                raise BodyTooLarge(str(size))
            if size > LARGE_BODY and not slot:
                slot = await take_slot()
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
    except BaseException:
        if slot and slots is not None:
            slots.release()
        raise
    query = dict(urllib.parse.parse_qsl(scope.get("query_string", b"").decode("latin-1")))
    client = scope.get("client") or ("-", 0)
    return Request(scope.get("method", "GET"), scope.get("path", "/"), headers, query, str(client[0]),
                   b"".join(chunks), slot=slot)


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    async def send(self, send: Send) -> None:
        raw = [(b"content-type", self.content_type.encode()), (b"content-length", str(len(self.body)).encode())]
        raw += [(k.lower().encode(), v.encode()) for k, v in self.headers.items()]
        await send({"type": "http.response.start", "status": self.status, "headers": raw})
        await send({"type": "http.response.body", "body": self.body})


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    text = json.dumps(data, ensure_ascii=False)
    try:
        body = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate echoed from a request: escaped, never a 500
        body = json.dumps(data).encode("ascii")
    return Response(status, body, headers=headers or {})


def html_response(text: str) -> Response:
    return Response(200, text.encode("utf-8"), "text/html; charset=utf-8")
