"""The little ASGI plumbing the simulated portal needs: a request with a bounded body, responses.

Why not Starlette or FastAPI: the portal has a handful of form-encoded and JSON endpoints and one
HTML page; a raw ASGI callable is what both uvicorn and ``httpx.ASGITransport`` run, and ~100 lines
here cost less than another dependency to keep current.
"""

from __future__ import annotations

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


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names; the portal's accessToken arrives as "accesstoken"
    query: dict[str, str]
    client: str
    body: bytes = b""
    _form: dict[str, str] | None = field(default=None, repr=False)

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
        return json.loads(self.body.decode("utf-8"))


async def read_request(scope: Scope, receive: Receive, max_body: int) -> Request:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    declared = headers.get("content-length", "")
    # ASCII digits only, and no int() of thousands of them (Python's integer-string limit: HTTP 500)
    if declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > max_body):
        raise BodyTooLarge(declared)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_body:
            raise BodyTooLarge(str(size))
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    query = dict(urllib.parse.parse_qsl(scope.get("query_string", b"").decode("latin-1")))
    client = scope.get("client") or ("-", 0)
    return Request(scope.get("method", "GET"), scope.get("path", "/"), headers, query, str(client[0]),
                   b"".join(chunks))


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
    return Response(status, json.dumps(data, ensure_ascii=False).encode("utf-8"), headers=headers or {})


def html_response(text: str) -> Response:
    return Response(200, text.encode("utf-8"), "text/html; charset=utf-8")
