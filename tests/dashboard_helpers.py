"""A ledger written by the real ``Ledger`` with documents on chosen nights, and an in-process client
of the dashboard's ASGI app (``httpx.ASGITransport``: no socket, the same app uvicorn serves)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from sohs_cli.dashboard import serve
from sohs_cli.foundation.config import resolve
from sohs_cli.submission.ledger import DocumentInfo, Ledger

CARD_ERROR = {"maLoi": "card-length", "truong": "MA_THE_BHYT", "nhan": "Mã thẻ BHYT", "dong": 17,
              "moTa": "thẻ 'GD479792000001' có 14 ký tự, mỗi thẻ cần 15",
              "moTaEn": "card 'GD479792000001' has 14 characters, each card needs 15", "maLk": "LK1"}
DATE_ERROR = {"maLoi": "ngay-ra-before-ngay-vao", "truong": "NGAY_RA", "nhan": "Ngày ra viện", "dong": 9,
              "moTa": "ngày ra trước ngày vào", "moTaEn": "discharge before admission", "maLk": "LK2"}


@dataclass
class Doc:
    name: str
    state: str  # pending | sent | accepted | rejected | failed | refused (rejected before sending)
    first_seen: str  # UTC, as the ledger stamps
    facility: str = "79001"
    kind: str = "GIAMDINHHS"
    standard: str = "3176"
    ma_lks: tuple[str, ...] = ("LK1",)
    errors: list[dict[str, Any]] = field(default_factory=list)
    code: str = "200"
    message: str = "Tiếp nhận thành công"


def fill(home: Path, docs: list[Doc], folder: Path | None = None) -> list[int]:
    """Record ``docs`` through the ledger's own methods, then date them (the ledger stamps "now")."""
    ledger = Ledger(home)
    ids = []
    for i, d in enumerate(docs):
        path = str((folder or home / "sent") / d.name)
        if d.state == "refused":  # refused before sending, as sohs run records it: no receipt, local findings
            ledger.record_refused(f"{i:064x}", path, d.facility, d.message, d.errors)
            ids.append(int(ledger.document(f"{i:064x}")["id"]))
            continue
        doc_id = ledger.record(DocumentInfo(f"{i:064x}", path, d.kind, d.standard, d.facility, d.ma_lks,
                                            "/api/qd130/guiHoSoXmlQD3176"))
        ids.append(doc_id)
        if d.state == "pending":
            continue
        attempt = ledger.begin_attempt(doc_id, "/api/qd130/guiHoSoXmlQD3176")
        if d.state == "failed":
            ledger.finish_attempt(attempt, "unavailable", message="HTTP 503")
            continue
        if d.state == "rejected" and not d.errors:
            ledger.finish_attempt(attempt, "rejected", code=d.code, message=d.message)
            continue
        ledger.finish_attempt(attempt, "accepted", code="200", transaction_id=f"79001202612010000{i:05d}",
                              received_at="20261201223000", message=d.message)
        if d.state in ("accepted", "rejected"):
            ledger.set_result(doc_id, d.state, d.errors, "20261201223500")
    ledger.close()
    db = sqlite3.connect(home / "ledger.sqlite3")
    db.executemany("UPDATE documents SET first_seen = ? WHERE id = ?", [(d.first_seen, i) for d, i in zip(docs, ids,
                                                                                                         strict=True)])
    db.commit()
    db.close()
    return ids


def app(home: Path, *, token_file: str | None = None, host: str = "127.0.0.1", lang: str = "vi",
        config: str | None = None) -> serve.Dashboard:
    return serve.build(resolve({"home": str(home)}, config), host=host, token_file=token_file, lang=lang)


def call(dashboard: Any, method: str, path: str, **kw: Any) -> httpx.Response:
    """``kw``: httpx's, and ``client`` (the peer's address, default 127.0.0.1) and ``scheme`` (http)."""
    peer, scheme = kw.pop("client", "127.0.0.1"), kw.pop("scheme", "http")

    async def go() -> httpx.Response:
        headers = {"host": "127.0.0.1:8765", **kw.pop("headers", {})}
        transport = httpx.ASGITransport(app=dashboard, client=(peer, 50000))
        async with httpx.AsyncClient(transport=transport, base_url=f"{scheme}://127.0.0.1:8765",
                                     headers=headers) as client:
            return await client.request(method, path, **kw)

    return asyncio.run(go())


def get(dashboard: Any, path: str, **kw: Any) -> httpx.Response:
    return call(dashboard, "GET", path, **kw)


def api(dashboard: Any, path: str, **kw: Any) -> Any:
    r = get(dashboard, path, **kw)
    assert r.status_code == 200, r.text
    return json.loads(r.text)
