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
import functools
import hashlib
import os
import queue
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sohs_cli.documents.kinds import episode_keys, hoso_roots, text_of
from sohs_cli.foundation.errors import AmbiguousSend, ConfigError, ExitCode, InputError, PortalUnavailable
from sohs_cli.foundation.fileio import read_file
from sohs_cli.foundation.i18n import N_, _, language
from sohs_cli.foundation.xmlsafe import ParseLimits, parse_bytes
from sohs_cli.portal.client import PortalClient, endpoint_for
from sohs_cli.portal.hub import PUSH as HUB_PUSH
from sohs_cli.portal.hub import HubClient
from sohs_cli.signing.trust import Trust
from sohs_cli.signing.verification import VerifyReport, verify_bytes
from sohs_cli.submission.ledger import DocumentInfo, Ledger


@dataclass(frozen=True)
class SubmitOptions:
    facility: str = ""  # expected MA_CSKCB; empty: taken from each file
    standard: str = "auto"
    concurrency: int = 2
    force: bool = False
    dry_run: bool = False
    limits: ParseLimits = field(default_factory=ParseLimits)
    #: who may have signed what is sent (trust.from_settings); none: every document is refused
    trust: Trust = field(default_factory=Trust.none)
    #: send again documents the portal refused for the setup (SETUP_CODES), once it was fixed
    retry_setup: bool = False


#: Portal codes that, for a document whose signature verified here under the facility's trust before
#: it left, say the portal does not accept the signing certificate (not registered in "Danh mục chứng
#: thư số", or expired there): the setup's fault, not the data's (issue 16). Re-signing gives the same
#: bytes, so they are sent again only when asked: --retry-setup-rejections.
SETUP_CODES = ("125",)
SETUP_MARK = "setup rejection: "
SETUP_HINT = N_("the data is fine (its signature verifies here): the portal does not accept the signing certificate. "
              "Register it on the portal (Quản trị hệ thống → Danh mục chứng thư số), then send again with "
              "--retry-setup-rejections")


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
    setup: bool = False  # rejected for the setup (SETUP_CODES), not for the data


@dataclass
class SubmitSummary:
    """Counts by outcome; the items themselves only when asked (``keep_items``): a run of 100,000
    files reports each one as it ends and keeps nothing per file, so its memory stays flat."""

    keep_items: bool = True
    items: list[Item] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    reconciled: int = 0
    untaken: int = 0  # files not even read: SIGTERM came first

    def add(self, item: Item) -> None:
        self.counts[item.status] = self.counts.get(item.status, 0) + 1
        if item.setup:
            self.counts["setup"] = self.counts.get("setup", 0) + 1
        if self.keep_items:
            self.items.append(item)

    @property
    def total(self) -> int:
        return sum(v for k, v in self.counts.items() if k != "setup")

    def count(self, status: str) -> int:
        return self.counts.get(status, 0)

    @property
    def exit_code(self) -> ExitCode:
        statuses = set(self.counts)
        if statuses & {"failed", "not-sent"}:
            return ExitCode.UNAVAILABLE
        if "setup" in statuses:
            return ExitCode.CONFIG
        if statuses & {"rejected", "refused"}:
            return ExitCode.FINDINGS
        return ExitCode.OK


def _standard(root: Any, inner: dict[int, dict[str, Any]], wanted: str) -> str:
    if wanted in ("4750", "3176"):
        return wanted
    from sohs_cli.validation.engine import ValidateOptions, choose_standard

    roots = next(iter(inner.values()), {}) if inner else {"XML0": root}
    return choose_standard(ValidateOptions(), roots)[0]


def _checkup_facility(root: Any, inner: dict[int, dict[str, Any]], facility: str, gln: str) -> str:
    """Why a KHAMSUCKHOE is not the configured facility's ("" when it is): the envelope's MACSKCB (the
    13-digit ID, as the decision's example, or the 5-character code) and each record's MA_CSKCB /
    MA_GTIN_CSKCB (XML2) against ``facility`` and ``hub.gln``, as a GIAMDINHHS is checked (issue 13)."""
    from sohs_cli.documents.schemas import label

    head = text_of(root, "THONGTINDONVI/MACSKCB")
    wanted = gln if len(head) == 13 else facility
    if wanted and head != wanted:
        setting = "hub.gln" if len(head) == 13 else "facility"
        return _("MACSKCB (Mã cơ sở KBCB) {code} is not the configured facility ({setting} {wanted})", code=head,
                 setting=setting, wanted=wanted)
    for hoso, blocks in sorted(inner.items()):
        visit = blocks.get("XML2")
        if visit is None:
            continue
        for name, value, setting in (("MA_CSKCB", facility, "facility"), ("MA_GTIN_CSKCB", gln, "hub.gln")):
            got = text_of(visit, name)
            if value and got != value:
                return _("HOSO {hoso} XML2 {element} {code} is not the configured facility ({setting} {wanted})",
                         hoso=hoso, element=f"{name} ({label(name)})", code=got, setting=setting, wanted=value)
    return ""


@dataclass
class Document:
    """One document on its way from pick-up to filing (issue 19 item 3): its bytes, parsed once by the
    hardened parser, and what the stages learnt of it. A stage that needs the tree takes it from here
    instead of reading and parsing the file again; the signature is verified once (``verified``), and
    the check before sending reads that verdict. Once checked, the caller drops the document: what the
    send needs (:class:`DocumentInfo`) is small, the tree is not (one tree at a time, issue 15)."""

    path: str  # the file these bytes are: the outbox's, or the signed copy sohs wrote
    data: bytes
    root: Any  # lxml element: the tree of ``data``, blanks kept (what a signature covers)
    #: the tables of each HOSO of an envelope, when validation parsed them (every HOSO), else None
    inner: dict[int, dict[str, Any]] | None = None
    verified: VerifyReport | None = None  # the signatures of ``data``, verified under the trust

    @property
    def kind(self) -> str:
        return self.root.tag if isinstance(self.root.tag, str) else ""


def prepare(path: str, options: SubmitOptions, hub: bool = False, gln: str = "") -> DocumentInfo | Item:
    """What the ledger needs to know of a file, or why it is refused before anything is sent."""
    path = os.path.abspath(path)  # the ledger keeps it: cron and the dashboard run from anywhere
    try:
        data = read_file(path, options.limits.max_bytes)
        root = parse_bytes(data, source=path, limits=options.limits)
    except InputError as exc:
        return Item(path, "refused", exc.message)
    return check(Document(path, data, root), options, hub, gln)


def check(doc: Document, options: SubmitOptions, hub: bool = False, gln: str = "") -> DocumentInfo | Item:
    """:func:`prepare` of a document already read and parsed: signed, the signature valid (verified
    here unless the document holds its verdict), a kind the portal takes, the facility's."""
    path, data, root = os.path.abspath(doc.path), doc.data, doc.root
    sha = hashlib.sha256(data).hexdigest()
    report = doc.verified or verify_bytes(data, path, trust=options.trust, limits=options.limits, root=root)
    if report.error:
        return Item(path, "refused", report.error, sha)
    unsigned = [s.slot for s in report.signatures if s.code == "not-signed"]
    if unsigned:
        return Item(path, "refused", _("{slots} not signed (the portal answers 123): sign it first with sohs sign",
                                       slots=", ".join(unsigned)), sha)
    bad = next((s for s in report.signatures if not s.ok), None)
    if bad is not None:
        return Item(path, "refused", f"{bad.slot}: {bad.message_vi if language() == 'vi' else bad.message_en}", sha)
    tag = doc.kind
    inner = doc.inner if doc.inner is not None else \
        hoso_roots(root, options.limits) if tag in ("GIAMDINHHS", "KHAMSUCKHOE") else {}
    if tag == "KHAMSUCKHOE":
        if not hub:
            return Item(path, "refused", _("a checkup envelope goes to the Ministry of Health hub: configure hub.gln, "
                                           "hub.username and the signing key (see the README)"), sha)
        wrong = _checkup_facility(root, inner, options.facility, gln)
        if wrong:
            return Item(path, "refused", wrong, sha)
        return DocumentInfo(sha, path, tag, "2062", text_of(root, "THONGTINDONVI/MACSKCB"),
                            tuple(episode_keys(root, inner)), HUB_PUSH)
    standard = _standard(root, inner, options.standard)
    try:
        endpoint, _loai = endpoint_for(tag, standard)
    except ConfigError as exc:
        return Item(path, "refused", exc.message, sha)
    facility = text_of(root, "THONGTINDONVI/MACSKCB") if tag == "GIAMDINHHS" else \
        text_of(root, "DSACH_TRANG_THAI_KCB/TRANG_THAI_KCB/MA_CSKCB")
    if options.facility and facility != options.facility:
        return Item(path, "refused", _("MACSKCB {facility} is not the configured facility {configured}",
                                       facility=facility, configured=options.facility), sha)
    return DocumentInfo(sha, path, tag, standard, facility, tuple(episode_keys(root, inner)), endpoint)


async def reconcile(ledger: Ledger, client: PortalClient) -> int:
    """Close the attempts a crashed run left open; returns how many were found on the portal."""
    found = 0
    for row in ledger.open_attempts():
        lost = row["attempt_outcome"] == "ambiguous"  # finished, but its reply never came
        if row["kind"] == "KHAMSUCKHOE":  # the hub has no lookup; its msg_id makes a resend safe
            if not lost:
                ledger.finish_attempt(row["attempt_id"], "interrupted",
                                      message=N_("interrupted run; resent with the same msg_id"))
            continue
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
            attempt = ledger.begin_attempt(row["id"], row["endpoint"]) if lost else row["attempt_id"]
            ledger.finish_attempt(attempt, "reconciled", code="200",
                                  transaction_id=str(receipt.get("maGiaoDich", "")),
                                  received_at=str(receipt.get("thoiGianTiepNhan", "")),
                                  message=N_("found on the portal after a lost reply") if lost else
                                  N_("found on the portal after an interrupted run"))
            found += 1
        elif not lost:
            ledger.finish_attempt(row["attempt_id"], "interrupted",
                                  message=N_("interrupted run; not on the portal: send again") if supported else
                                  N_("interrupted run; the portal offers no lookup: send again"))
    return found


def _lks(row: Any) -> list[str]:
    import json

    return [lk for lk in json.loads(row["ma_lks"]) if lk]


CHUNK = 256  # files prepared, recorded and sent together


async def submit_files(paths: Sequence[str | DocumentInfo | Item], client: PortalClient, ledger: Ledger,
                       options: SubmitOptions,
                       progress: Callable[[Item], None] = lambda item: None,
                       hub: HubClient | None = None, keep_items: bool = True,
                       stopping: Callable[[], bool] = lambda: False) -> SubmitSummary:
    summary = SubmitSummary(keep_items=keep_items)
    if not options.dry_run:
        summary.reconciled = await reconcile(ledger, client)
    down: list[str] = []
    for start in range(0, len(paths), CHUNK):
        if stopping():  # SIGTERM: what is not taken yet is not read, recorded or sent (the next run's)
            summary.untaken = len(paths) - start
            break
        slots: list[Item | None] = []
        checked: list[tuple[int, DocumentInfo]] = []
        for offset, path in enumerate(paths[start:start + CHUNK]):
            if stopping():
                summary.untaken = len(paths) - start - offset
                break
            one = _check(path, ledger, options, hub is not None, hub.gln if hub is not None else "")
            if isinstance(one, Item):
                slots.append(one)
                progress(one)
            else:
                checked.append((len(slots), one))
                slots.append(None)
        ids = ledger.record_many([info for _, info in checked])  # what has to go is in the ledger before it goes
        todo = [(index, doc_id, info) for (index, info), doc_id in zip(checked, ids, strict=True)]
        await _send_all(todo, slots, client, ledger, options, progress, hub, down, stopping)
        for item in slots:
            assert item is not None
            summary.add(item)
        if summary.untaken:
            break
    return summary


def _check(path: str | DocumentInfo | Item, ledger: Ledger, options: SubmitOptions, hub: bool,
           gln: str = "") -> Item | DocumentInfo:
    """The document to send, or the finished item for a file refused, skipped or only shown. A
    :class:`DocumentInfo` or :class:`Item` is a file the caller checked already (:func:`check`)."""
    if isinstance(path, str):
        info = prepare(path, options, hub=hub, gln=gln)
    else:
        info, path = path, path.path
    if isinstance(info, Item):
        return info
    row = ledger.document(info.sha256)
    item = Item(path, "", sha256=info.sha256, ma_lks=info.ma_lks, endpoint=info.endpoint)
    if row is not None and not options.force and row["state"] in ("sent", "accepted", "rejected"):
        if row["state"] == "rejected" and row["message"].startswith(SETUP_MARK):
            if options.retry_setup and not options.dry_run:
                return info  # the setup was fixed: once more
            item.status, item.code, item.setup = "rejected", row["portal_code"], True
            item.message = _("rejected earlier for the setup ({code}): {hint}", code=row["portal_code"],
                             hint=_(SETUP_HINT))
            return item
        if row["state"] == "rejected":
            item.status, item.code = "rejected", row["portal_code"]
            item.message = _("rejected earlier ({code}: {message}); fix the data and sign again",
                             code=row["portal_code"], message=row["message"])
        else:
            item.status, item.transaction_id = "skipped", row["transaction_id"]
            item.message = _("already delivered (maGiaoDich {id}); --force to send again", id=row["transaction_id"]) \
                if row["path"] == info.path else \
                _("already delivered as {path} (maGiaoDich {id}); --force to send again", path=row["path"],
                  id=row["transaction_id"])
        return item
    if options.dry_run:
        item.status, item.message = "would-send", _("would send to {endpoint}", endpoint=info.endpoint)
        return item
    return info


class _Writer:
    """The ledger writes of a send, on one thread of their own, in order, committed in groups: the
    writes asked for while a commit (and its disk flush) is under way are committed together by the
    next one. A caller's future is resolved only once its write is on disk, so a request still
    leaves only after its attempt is recorded, but the documents in flight share one flush instead
    of queueing for one each (the flushes were the wall time of a submission, and a third of its
    system CPU). A write that fails is undone alone (a savepoint) and its caller gets the error; a
    commit that fails reaches every caller of its group: none of their writes is on disk."""

    def __init__(self, ledger: Ledger, loop: asyncio.AbstractEventLoop) -> None:
        self.ledger, self.loop = ledger, loop
        self.jobs: queue.SimpleQueue[tuple[Callable[[], Any], asyncio.Future[Any]] | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name="sohs-ledger", daemon=True)
        self.thread.start()

    def __call__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Awaitable[Any]:
        future: asyncio.Future[Any] = self.loop.create_future()
        self.jobs.put((functools.partial(fn, *args, **kwargs), future))
        return future

    def close(self) -> None:
        self.jobs.put(None)
        self.thread.join()

    def _run(self) -> None:
        while True:
            job = self.jobs.get()
            group: list[tuple[Callable[[], Any], asyncio.Future[Any]]] = []
            while job is not None:
                group.append(job)
                try:
                    job = self.jobs.get_nowait()
                except queue.Empty:
                    break
            done: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
            try:
                with self.ledger.group():
                    for fn, future in group:
                        try:
                            done.append((future, fn(), None))
                        except Exception as exc:  # handed to its caller, in the loop
                            done.append((future, None, exc))
            except Exception as exc:  # the commit: nothing of the group is on disk
                done = [(future, None, exc) for _, future in group]
            for future, value, error in done:
                self.loop.call_soon_threadsafe(_settle, future, value, error)
            if job is None:
                return


def _settle(future: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)


async def _send_all(todo: list[tuple[int, int, DocumentInfo]], slots: list[Item | None], client: PortalClient,
                    ledger: Ledger, options: SubmitOptions, progress: Callable[[Item], None],
                    hub: HubClient | None, down: list[str], stopping: Callable[[], bool]) -> None:
    # Ledger writes run on one thread of their own, in order (_Writer): each is committed (and
    # fsync'd) before the request it guards leaves, while other documents' requests go on meanwhile.
    io = _Writer(ledger, asyncio.get_running_loop())
    work = iter(todo)

    async def worker() -> None:  # ``concurrency`` of these, not one task per document: memory stays flat
        for index, doc_id, info in work:
            item = Item(info.path, "", sha256=info.sha256, ma_lks=info.ma_lks, endpoint=info.endpoint)
            if down:
                item.status, item.message = "not-sent", _("not sent: the portal is unavailable (nothing lost)")
            elif stopping():
                item.status, item.message = "not-sent", _("not sent: stopped (SIGTERM); the next run sends it")
            else:
                await _send_one(item, doc_id, info, hub if info.kind == "KHAMSUCKHOE" else client, io, down)
            slots[index] = item
            progress(item)

    try:
        await asyncio.gather(*(worker() for _ in range(max(1, options.concurrency))))
    finally:
        io.close()


async def _send_one(item: Item, doc_id: int, info: DocumentInfo, client: PortalClient | None, io: _Writer,
                    down: list[str]) -> None:
    ledger = io.ledger
    attempt = await io(ledger.begin_attempt, doc_id, info.endpoint)
    data = read_file(info.path)
    if hashlib.sha256(data).hexdigest() != info.sha256:  # changed since it was checked
        await io(ledger.finish_attempt, attempt, "interrupted", message=N_("the file changed while being sent"))
        item.status, item.message = "refused", _("the file changed while sohs was sending it; run again")
        return
    loai = "130" if info.kind == "GIAMDINHHS" else "0"
    try:
        if isinstance(client, HubClient):
            answer = await client.push(data, text_of(parse_bytes(data), "THONGTINHOSO/NGAYLAP"))
        else:
            assert client is not None
            started, sends = time.monotonic(), 1
            while True:
                try:
                    answer = await client.submit(data, info.endpoint, loai, info.facility)
                    break
                except AmbiguousSend as exc:
                    # Every lost reply is asked about before the next send, not only the first: a portal
                    # that is slow but alive (a busy night, a loaded machine) may lose two replies in a
                    # row for the same file, and that is no outage (it stopped the whole run, exit 4).
                    await io(ledger.finish_attempt, attempt, "ambiguous", message=exc.message)
                    found, note, lookup = await _after_lost_reply(client, info)
                    if found is not None:  # it arrived: adopt its receipt, send nothing
                        await _adopt(item, ledger, io, doc_id, info.endpoint, found)
                        return
                    if not _may_resend(client, sends, started, lookup):  # its attempt stays ambiguous
                        down.append(exc.message)
                        item.status, item.message = "failed", exc.message
                        return
                    client.log(f"{os.path.basename(info.path)}: {_(note)}")
                    await client.pause(sends)
                    sends += 1
                    attempt = await io(ledger.begin_attempt, doc_id, info.endpoint)
    except PortalUnavailable as exc:
        await io(ledger.finish_attempt, attempt, "ambiguous" if isinstance(exc, AmbiguousSend) else "unavailable",
                 message=exc.message)
        down.append(exc.message)
        item.status, item.message = "failed", exc.message
        return
    except ConfigError as exc:  # credentials or facility: every document would fail alike
        await io(ledger.finish_attempt, attempt, "interrupted", message=exc.message)
        raise
    item.code = answer.code
    if answer.outcome == "accepted":
        await io(ledger.finish_attempt, attempt, "accepted", code=answer.code, transaction_id=answer.transaction_id,
                 received_at=answer.received_at, message=answer.message)
        if isinstance(client, HubClient):  # QĐ 2062 PL02 has no lookup: the hub's *_SUCCESS is the final result
            await io(ledger.set_result, doc_id, "accepted", [], answer.received_at, answer.message)
        item.status, item.transaction_id = "delivered", answer.transaction_id
        item.message = _("maGiaoDich {id} at {time}", id=answer.transaction_id, time=answer.received_at)
    elif answer.code in SETUP_CODES and not isinstance(client, HubClient):
        # verified here before it left (prepare): the portal refuses the certificate, not the data
        await io(ledger.finish_attempt, attempt, "rejected", code=answer.code, message=SETUP_MARK + answer.message)
        item.status, item.setup = "rejected", True
        item.message = f"{answer.code}: {answer.message}: {_(SETUP_HINT)}"
    else:
        await io(ledger.finish_attempt, attempt, "rejected", code=answer.code, message=answer.message)
        item.status, item.message = "rejected", f"{answer.code}: {answer.message}"


def _may_resend(client: PortalClient, sends: int, started: float, lookup: bool) -> bool:
    """Whether a file whose reply was lost ``sends`` times (and which the portal was not found to
    hold) is sent once more. With a lookup every resend is safe (the portal was asked first), so
    it goes on within the retry policy: at most ``attempts`` sends, within ``deadline`` seconds of
    the first. Without one (the real BHXH gateway) each resend may leave one more copy on the
    portal, so there is one deliberate resend; a second lost reply leaves the file ``failed``
    (ambiguous in the ledger: the next run sends it again). Stopping (SIGTERM): never; the next run
    asks the portal and sends it then."""
    if client.stopping():
        return False
    if not lookup:
        return sends < 2
    return sends < client.policy.attempts and time.monotonic() - started < client.policy.deadline


async def _after_lost_reply(client: PortalClient, info: DocumentInfo) -> tuple[dict[str, Any] | None, str, bool]:
    """After a send whose reply was lost: the portal's record of these bytes when it has a lookup
    and holds them; else ``(None, why a resend follows, whether the portal has a lookup)``. Where the
    portal has no lookup (the real BHXH gateway), the resend is deliberate: the portal may then hold
    the file twice, under two maGiaoDich, and by its rules the later replaces the earlier of the same
    MA_LK."""
    lks = [lk for lk in info.ma_lks if lk]
    supported = bool(lks)  # a file without MA_LK cannot be looked up: a resend of it is blind
    for ma_lk in lks:
        rows = await client.lookup(ma_lk=ma_lk)
        if rows is None:
            supported = False
            break
        found = next((r for r in rows if r.get("sha256") == info.sha256), None)
        if found:
            return found, "", True
    if supported:
        return None, N_("the reply was lost and the portal does not hold it: sending it again"), True
    return None, N_("the reply was lost and the portal has no lookup: sending it again deliberately (if the first "
                    "arrived, the portal holds two receipts and the later replaces the earlier by MA_LK)"), False


async def _adopt(item: Item, ledger: Ledger, io: Callable[..., Awaitable[Any]], doc_id: int, endpoint: str,
                 found: dict[str, Any]) -> None:
    attempt = await io(ledger.begin_attempt, doc_id, endpoint)
    transaction_id, received = str(found.get("maGiaoDich", "")), str(found.get("thoiGianTiepNhan", ""))
    await io(ledger.finish_attempt, attempt, "reconciled", code="200", transaction_id=transaction_id,
             received_at=received, message=N_("the reply was lost; found on the portal, not sent again"))
    item.status, item.transaction_id, item.code = "delivered", transaction_id, "200"
    item.message = _("maGiaoDich {id} at {time} (the reply was lost; found on the portal)", id=transaction_id,
                     time=received)


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
