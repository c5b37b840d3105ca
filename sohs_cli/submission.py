"""Submitting signed files to the portal, with the ledger as the memory that makes reruns safe.

Order of a run:

1. **Reconcile** attempts a crashed run left open: look the document up on the portal (by its
   MA_LK, matched on the SHA-256 of the bytes) and adopt the receipt found there; only when the
   portal does not have it is the attempt closed as interrupted and the document sent again.
2. **Check** each file before anything leaves: signed, and the signature verifies (an unsigned file
   would get 123, a broken one 125); a kind the portal takes; the facility; not already delivered
   (same SHA-256: skipped unless ``force``).
3. **Send**, ``concurrency`` at a time: the attempt is committed to the ledger before the request,
   and finished after. When the portal stays unavailable past the retry policy, sending stops: the
   rest stays in the ledger as ``pending`` (exit 4, nothing lost).

``refresh`` asks the portal for the processing result of every delivered document not yet final.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sohs_cli.documents import episode_keys, hoso_roots, text_of
from sohs_cli.errors import ConfigError, ExitCode, InputError, PortalUnavailable
from sohs_cli.fileio import read_file
from sohs_cli.ledger import DocumentInfo, Ledger
from sohs_cli.portal.client import PortalClient, endpoint_for
from sohs_cli.verification import verify_bytes
from sohs_cli.xmlsafe import ParseLimits, parse_bytes


@dataclass(frozen=True)
class SubmitOptions:
    facility: str = ""  # expected MA_CSKCB; empty: taken from each file
    standard: str = "auto"
    concurrency: int = 2
    force: bool = False
    dry_run: bool = False
    limits: ParseLimits = field(default_factory=ParseLimits)


@dataclass
class Item:
    path: str
    status: str  # delivered | skipped | rejected | refused | failed | not-sent | would-send
    message: str = ""
    sha256: str = ""
    ma_lks: tuple[str, ...] = ()
    code: str = ""
    transaction_id: str = ""
    endpoint: str = ""


@dataclass
class SubmitSummary:
    items: list[Item] = field(default_factory=list)
    reconciled: int = 0

    def count(self, status: str) -> int:
        return sum(1 for i in self.items if i.status == status)

    @property
    def exit_code(self) -> ExitCode:
        statuses = {i.status for i in self.items}
        if statuses & {"failed", "not-sent"}:
            return ExitCode.UNAVAILABLE
        if statuses & {"rejected", "refused"}:
            return ExitCode.FINDINGS
        return ExitCode.OK


def _standard(root: Any, inner: dict[int, dict[str, Any]], wanted: str) -> str:
    if wanted in ("4750", "3176"):
        return wanted
    from sohs_cli.validation.engine import ValidateOptions, choose_standard

    roots = next(iter(inner.values()), {}) if inner else {"XML0": root}
    return choose_standard(ValidateOptions(), roots)[0]


def prepare(path: str, options: SubmitOptions) -> DocumentInfo | Item:
    """What the ledger needs to know of a file, or why it is refused before anything is sent."""
    try:
        data = read_file(path, options.limits.max_bytes)
        root = parse_bytes(data, source=path, limits=options.limits)
    except InputError as exc:
        return Item(path, "refused", exc.message)
    sha = hashlib.sha256(data).hexdigest()
    report = verify_bytes(data, path, limits=options.limits)
    if report.error:
        return Item(path, "refused", report.error, sha)
    if any(s.code == "not-signed" for s in report.signatures):
        return Item(path, "refused", "not signed (the portal answers 123): sign it first with sohs sign "
                                     "(chưa ký số)", sha)
    bad = next((s for s in report.signatures if not s.ok), None)
    if bad is not None:
        return Item(path, "refused", f"{bad.slot}: {bad.message_en} (chữ ký không hợp lệ)", sha)
    tag = root.tag if isinstance(root.tag, str) else ""
    inner = hoso_roots(root, options.limits) if tag == "GIAMDINHHS" else {}
    standard = _standard(root, inner, options.standard)
    try:
        endpoint, _ = endpoint_for(tag, standard)
    except ConfigError as exc:
        return Item(path, "refused", exc.message, sha)
    facility = text_of(root, "THONGTINDONVI/MACSKCB") if tag == "GIAMDINHHS" else \
        text_of(root, "DSACH_TRANG_THAI_KCB/TRANG_THAI_KCB/MA_CSKCB")
    if options.facility and facility != options.facility:
        return Item(path, "refused", f"MACSKCB {facility} is not the configured facility {options.facility}", sha)
    return DocumentInfo(sha, path, tag, standard, facility, tuple(episode_keys(root, inner)), endpoint)


async def reconcile(ledger: Ledger, client: PortalClient) -> int:
    """Close the attempts a crashed run left open; returns how many were found on the portal."""
    found = 0
    for row in ledger.open_attempts():
        receipt: dict[str, Any] | None = None
        supported = True
        for ma_lk in _lks(row):
            rows = await client.lookup(ma_lk=ma_lk)
            if rows is None:
                supported = False
                break
            receipt = next((r for r in rows if r.get("sha256") == row["sha256"]), None)
            if receipt:
                break
        if receipt:
            ledger.finish_attempt(row["attempt_id"], "reconciled", code="200",
                                  transaction_id=str(receipt.get("maGiaoDich", "")),
                                  received_at=str(receipt.get("thoiGianTiepNhan", "")),
                                  message="found on the portal after an interrupted run")
            found += 1
        else:
            why = "not on the portal" if supported else "the portal offers no lookup"
            ledger.finish_attempt(row["attempt_id"], "interrupted", message=f"interrupted run; {why}: send again")
    return found


def _lks(row: Any) -> list[str]:
    import json

    return [lk for lk in json.loads(row["ma_lks"]) if lk]


async def submit_files(paths: Sequence[str], client: PortalClient, ledger: Ledger, options: SubmitOptions,
                       progress: Callable[[Item], None] = lambda item: None) -> SubmitSummary:
    summary = SubmitSummary()
    if not options.dry_run:
        summary.reconciled = await reconcile(ledger, client)
    queue: list[tuple[int, DocumentInfo]] = []
    slots: list[Item | None] = []
    for path in paths:
        info = prepare(path, options)
        if isinstance(info, Item):
            slots.append(info)
            continue
        row = ledger.document(info.sha256)
        item = Item(path, "", sha256=info.sha256, ma_lks=info.ma_lks, endpoint=info.endpoint)
        if row is not None and not options.force and row["state"] in ("sent", "accepted", "rejected"):
            if row["state"] == "rejected":
                item.status, item.code = "rejected", row["portal_code"]
                item.message = f"rejected earlier ({row['portal_code']}: {row['message']}); fix the data and sign again"
            else:
                item.status, item.transaction_id = "skipped", row["transaction_id"]
                item.message = f"already delivered (maGiaoDich {row['transaction_id']}); --force to send again"
            slots.append(item)
            continue
        if options.dry_run:
            item.status, item.message = "would-send", f"would send to {info.endpoint}"
            slots.append(item)
            continue
        ledger.record(info)
        queue.append((len(slots), info))
        slots.append(None)
    for ready in slots:
        if ready is not None:
            progress(ready)
    await _send_all(queue, slots, client, ledger, options, progress)
    summary.items = [i for i in slots if i is not None]
    return summary


async def _send_all(queue: list[tuple[int, DocumentInfo]], slots: list[Item | None], client: PortalClient,
                    ledger: Ledger, options: SubmitOptions, progress: Callable[[Item], None]) -> None:
    gate = asyncio.Semaphore(max(1, options.concurrency))
    down: list[str] = []

    async def send(index: int, info: DocumentInfo) -> None:
        item = Item(info.path, "", sha256=info.sha256, ma_lks=info.ma_lks, endpoint=info.endpoint)
        async with gate:
            if down:
                item.status, item.message = "not-sent", "not sent: the portal is unavailable (nothing lost)"
            else:
                await _send_one(item, info, client, ledger, down)
        slots[index] = item
        progress(item)

    await asyncio.gather(*(send(i, info) for i, info in queue))


async def _send_one(item: Item, info: DocumentInfo, client: PortalClient, ledger: Ledger, down: list[str]) -> None:
    doc_id = ledger.record(info)
    attempt = ledger.begin_attempt(doc_id, info.endpoint)
    data = read_file(info.path)
    if hashlib.sha256(data).hexdigest() != info.sha256:  # changed since it was checked
        ledger.finish_attempt(attempt, "interrupted", message="the file changed while being sent")
        item.status, item.message = "refused", "the file changed while sohs was sending it; run again"
        return
    loai = "130" if info.kind == "GIAMDINHHS" else "0"
    try:
        answer = await client.submit(data, info.endpoint, loai, info.facility)
    except PortalUnavailable as exc:
        ledger.finish_attempt(attempt, "unavailable", message=exc.message)
        down.append(exc.message)
        item.status, item.message = "failed", exc.message
        return
    except ConfigError as exc:  # credentials or facility: every document would fail alike
        ledger.finish_attempt(attempt, "interrupted", message=exc.message)
        raise
    item.code = answer.code
    if answer.outcome == "accepted":
        ledger.finish_attempt(attempt, "accepted", code=answer.code, transaction_id=answer.transaction_id,
                              received_at=answer.received_at, message=answer.message)
        item.status, item.transaction_id = "delivered", answer.transaction_id
        item.message = f"maGiaoDich {answer.transaction_id} at {answer.received_at}"
    else:
        ledger.finish_attempt(attempt, "rejected", code=answer.code, message=answer.message)
        item.status, item.message = "rejected", f"{answer.code}: {answer.message}"


async def refresh(ledger: Ledger, client: PortalClient) -> tuple[int, bool]:
    """Ask the portal for results of delivered documents; ``(updated, lookup supported)``."""
    updated = 0
    for row in ledger.unfinished():
        rows = await client.lookup(ma_giao_dich=row["transaction_id"])
        if rows is None:
            return updated, False
        states = [r.get("trangThai") for r in rows]
        if not rows or "CHO_XU_LY" in states:
            continue
        errors = [dict(e, maLk=r.get("maLk", "")) for r in rows for e in (r.get("dsLoi") or [])]
        state = "rejected" if "TU_CHOI" in states else "accepted"
        processed = max(str(r.get("thoiGianXuLy", "")) for r in rows)
        replaced = [str(r["thayTheBoi"]) for r in rows if r.get("thayTheBoi")]
        note = f"replaced by maGiaoDich {replaced[0]}" if replaced else ""
        ledger.set_result(row["id"], state, errors, processed, note)
        updated += 1
    return updated, True
