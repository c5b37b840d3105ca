"""The nightly run (``sohs run``, under the data folder's lock, :mod:`sohs_cli.foundation.datalock`): pick up the
outbox, validate, pack, sign, submit, file every document where it belongs, refresh results. Composed
from the pieces; no new rules.

Crash safety. Every step either leaves the outbox file where it was or moves it with one rename.
Packing bare tables is staged: the envelope is written into the outbox first, and only then are its
tables moved aside into ``outbox/.packed/<name>/``; they follow their envelope into ``sent/`` or
``rejected/``. Signing is deterministic and the ledger knows every SHA-256 it has sent, so a rerun
after ``kill -9`` recomputes the same bytes, finds them delivered, and only files them. Nothing is
sent twice and no outbox file is lost or left in two folders.

Folders: a file the portal accepted goes to ``sent/`` (with the signed copy beside it when sohs signed
it); a file refused by validation, by its signature or by the portal goes to ``rejected/`` with
``FILE.errors.json``; a file that cannot be read as a health-record document goes to ``failed/``;
a file that could not be delivered because the portal was down stays in the outbox for the next run.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sohs_cli.documents.kinds import ENVELOPES, detect_kind, pack, text_of
from sohs_cli.foundation.errors import ConfigError, ExitCode, PortalUnavailable, SohsError
from sohs_cli.foundation.fileio import atomic_write, machine_error, move, read_file
from sohs_cli.foundation.filenames import NameBook, safe_stem
from sohs_cli.foundation.i18n import _
from sohs_cli.foundation.xmlsafe import parse_bytes
from sohs_cli.portal.client import PortalClient
from sohs_cli.portal.hub import HubClient
from sohs_cli.signing.sign import Signer, sign_document
from sohs_cli.signing.verification import verify_bytes
from sohs_cli.submission.ledger import DocumentInfo, Ledger
from sohs_cli.submission.submit import Document, Item, SubmitOptions, check, refresh, submit_files
from sohs_cli.validation.engine import validate_bytes
from sohs_cli.validation.report import FileReport
from sohs_cli.validation.splitting import split_envelope

SIGNED_ROOTS = (*ENVELOPES, "CHI_TIEU_TRANG_THAI_KCB")
SKIP_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".errors.json")
Event = Callable[[str, dict[str, Any]], None]


@dataclass(frozen=True)
class Folders:
    outbox: Path
    sent: Path
    rejected: Path
    failed: Path

    def create(self) -> None:
        for p in (self.outbox, self.sent, self.rejected, self.failed):
            p.mkdir(parents=True, exist_ok=True)


@dataclass
class RunReport:
    picked: int = 0
    packed: int = 0
    signed: int = 0
    delivered: int = 0
    skipped: int = 0
    rejected: int = 0
    failed: int = 0
    waiting: int = 0  # left in the outbox: portal unavailable
    setup: int = 0  # left in the outbox: sohs is not set up for them (hub, signing key)
    processed: int = 0  # results refreshed from the portal
    internal: int = 0  # documents left in the outbox by a bug in sohs (exit 70 once the rest is done)
    settling: int = 0  # left in the outbox: still being written (run.settle_seconds, a temporary name)
    ignored: int = 0  # never read: in a sub-folder, not *.xml, not a plain file
    files: list[dict[str, str]] = field(default_factory=list)
    episodes: list[dict[str, str]] = field(default_factory=list)  # of split envelopes: where each went

    @property
    def exit_code(self) -> ExitCode:
        if self.internal:
            return ExitCode.INTERNAL
        if self.setup:
            return ExitCode.CONFIG
        if self.waiting:
            return ExitCode.UNAVAILABLE
        if self.rejected or self.failed:
            return ExitCode.FINDINGS
        return ExitCode.OK

    def as_dict(self) -> dict[str, Any]:
        keys = ("picked", "packed", "signed", "delivered", "skipped", "rejected", "failed", "waiting", "setup",
                "processed", "internal", "settling", "ignored")
        return {k: getattr(self, k) for k in keys} | {"exit_code": int(self.exit_code), "files": self.files,
                                                       "episodes": self.episodes}


def complete_files(outbox: Path, settle: float, now: float | None = None) -> list[Path]:
    """Outbox files ready to take: ``*.xml``, not hidden, not temporary, unchanged for ``settle`` s."""
    return survey(outbox, settle, now)[0]


MAX_NAMED = 1000  # files left aside that a run names one by one; the rest are counted


def survey(outbox: Path, settle: float, now: float | None = None) -> tuple[list[Path], list[tuple[Path, str, str]]]:
    """``(ready, left)``: the outbox files to take now, and every other file there with why it is
    left (``(path, "settling" | "ignored", reason)``): still being written, in a sub-folder (never
    read), not ``*.xml``, not a plain file. Hidden files and folders (``.packed``) are sohs's own."""
    now = time.time() if now is None else now
    ready: list[Path] = []
    left: list[tuple[Path, str, str]] = []
    for p in sorted(outbox.iterdir()):
        if p.name.startswith("."):
            continue
        if p.is_symlink() or (not p.is_file() and not p.is_dir()):
            # a link is not followed out of the outbox, a FIFO never opened (issue 15): plain files only
            left.append((p, "ignored", _("not a plain file (a link or a pipe): not read")))
        elif p.is_dir():
            left += [(q, "ignored", _("in the sub-folder {folder}/: sohs reads only the outbox itself; move it up",
                                       folder=p.name))
                     for q in _files_under(p, MAX_NAMED - len(left))]
        elif p.name.lower().endswith(SKIP_SUFFIXES):
            left.append((p, "settling", _("a temporary name: still being written")))
        elif p.suffix.lower() != ".xml":
            left.append((p, "ignored", _("not an .xml file: not read")))
        elif (age := now - p.stat().st_mtime) < settle:
            left.append((p, "settling", _("changed {age} s ago, within run.settle_seconds ({settle} s): still being "
                                          "written? the next run takes it", age=f"{max(0.0, age):.0f}",
                                          settle=f"{settle:g}")))
        else:
            ready.append(p)
    return ready, left


def _files_under(folder: Path, limit: int) -> list[Path]:
    out: list[Path] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out += [Path(root) / f for f in sorted(files) if not f.startswith(".")]
        if len(out) >= max(1, limit):
            break
    return out[:max(1, limit)]


def _claim(src: Path, folder: Path) -> Path:
    """Where ``src`` goes in ``folder``: never over another file, nor where one of its companions
    (signed copy, tables, errors) would land on another's."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise machine_error(exc, str(folder), "create the folder", setup=True) from None
    return NameBook(folder).claim(src.stem, src.suffix, also=(".signed.xml", *_companions(src.suffix)[1:]))


def _companions(suffix: str) -> tuple[str, ...]:
    """The names a filed document takes beside its signed copy: itself, its tables, its errors."""
    return suffix, ".tables", f"{suffix}.errors.json"


def _place(src: Path, folder: Path) -> Path:
    """Move ``src`` into ``folder`` with one rename (a copy across filesystems), at a name of its own."""
    target = _claim(src, folder)
    move(str(src), str(target))
    return target


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _interrupted(src: Path, folder: Path, signed: Path) -> Path | None:
    """The name a run that died while filing ``src`` gave it: its signed copy is in ``folder`` (the
    same bytes: signing is deterministic), the original and the other companions are not. The
    signed copy is filed first, so that a kill between the two moves leaves the original in the
    outbox, not the delivered bytes in the work folder."""
    want = _sha256(signed)
    n = 0
    while True:
        name = src.stem if n == 0 else f"{src.stem}-{n}"
        copy = folder / f"{name}.signed.xml"
        if not copy.exists():
            return None
        if not any(os.path.lexists(folder / f"{name}{c}") for c in _companions(src.suffix)) and _sha256(copy) == want:
            return folder / f"{name}{src.suffix}"
        n += 1


STASH = ".packed"
MANIFEST = ".envelope.json"  # in a stash: which envelope its tables went into


class Run:
    def __init__(self, folders: Folders, ledger: Ledger, client: PortalClient, signer: Signer | None,
                 hub: HubClient | None, options: SubmitOptions, event: Event, work: Path,
                 stopping: Callable[[], bool] = lambda: False, doctor: Signer | None = None) -> None:
        self.folders, self.ledger, self.client, self.signer = folders, ledger, client, signer
        self.doctor = doctor  # signing.doctor_p12: signs a checkup record's CKS_NGUOI_KET_LUAN first
        self.hub, self.options, self.event, self.work = hub, options, event, work
        self.stopping = stopping  # SIGTERM: finish the step under way, start no other
        self.report = RunReport()
        self.checked: dict[str, DocumentInfo | Item] = {}  # path to submit -> what the send needs

    @property
    def stash_root(self) -> Path:
        return self.folders.outbox / STASH

    def _file(self, src: Path, folder: Path, outcome: str, message: str, errors: list[Any] | None = None,
              signed: Path | None = None, tables: Path | None = None, local: bool = True) -> Path:
        """File one document (and what travels with it) in its final folder; returns where the bytes
        that were sent now are (the signed copy when sohs signed it). ``local``: sohs itself refused
        it (nothing was sent), so the ledger learns of it here (``sohs status --state rejected``)."""
        if signed is not None and not (signed.exists() and folder in (self.folders.sent, self.folders.rejected)):
            signed = None  # nothing signed travels with it
        if signed is not None:
            # the signed copy first (see _interrupted); a run that died between the two finishes here
            target = _interrupted(src, folder, signed) or _claim(src, folder)
            move(str(signed), str(target.with_name(target.stem + ".signed.xml")))
            move(str(src), str(target))
        else:
            target = _place(src, folder)
        if local and folder != self.folders.sent:
            self._remember(target, outcome, message, errors or [])
        if errors is not None or folder == self.folders.rejected:
            atomic_write(str(target) + ".errors.json", json.dumps(
                {"file": src.name, "outcome": outcome, "message": message, "errors": errors or []},
                ensure_ascii=False, indent=1).encode("utf-8"), setup=True)
        sent = target.with_name(target.stem + ".signed.xml") if signed is not None else target
        packed = tables or self.stash_root / src.stem
        if packed.is_dir():
            move(str(packed), str(target.with_name(target.stem + ".tables")))
        self.report.files.append({"file": src.name, "outcome": outcome, "folder": folder.name, "message": message})
        self.event(outcome, {"file": src.name, "folder": folder.name, "message": message})
        return sent

    def _remember(self, path: Path, outcome: str, message: str, errors: list[Any]) -> None:
        """A file refused before sending, in the ledger as ``rejected`` (its SHA-256, where it is, why)."""
        try:
            sha = _sha256(path)
        except OSError:
            return  # it was just moved there; unreadable now means the folder is gone: the move said so
        self.ledger.record_refused(sha, str(path), self.options.facility,
                                  _("not sent ({outcome}): {message}", outcome=outcome, message=message), errors)

    def _leave(self, path: Path, outcome: str, message: str) -> None:
        """A document left in the outbox, named in the report with why (the next run takes it)."""
        self.report.files.append({"file": path.name, "outcome": outcome, "folder": self.folders.outbox.name,
                                  "message": message})
        self.event(outcome, {"file": path.name, "message": message})

    @contextlib.contextmanager
    def _each(self, paths: list[Path], folder: Path, outcome: str) -> Iterator[None]:
        """One document's (or one group's) step: a failure of the document files it in ``folder``
        with its reason and the run goes on; a setup or machine problem (every document would meet
        it) stops the run; a bug leaves the document where it is, and the run ends with exit 70
        once every other document is done."""
        try:
            yield
        except ConfigError:
            raise
        except SohsError as exc:
            for path in paths:
                if path.exists():
                    self._file(path, folder, outcome, exc.message, [])
            if not paths:
                self.event("error", {"message": exc.message})
        except Exception as exc:  # a bug: the others still go; the document stays for a fixed sohs
            self.report.internal += 1
            for path in paths:
                self._leave(path, "internal-error", _("{error} (left in the outbox; this is a bug in sohs, please "
                                                      "report it)", error=f"{type(exc).__name__}: {exc}"))

    # -------------------------------------------------------------- stages

    def pack_tables(self, files: list[Path]) -> Iterator[Document]:
        """The outbox's documents to send, each as soon as it is read (parsed once: the stages that
        follow take its tree), then envelopes for the bare tables, grouped by MA_LK. The caller has
        a document's tree until it asks for the next: one tree at a time (issue 15)."""
        groups: dict[str, list[tuple[Path, bytes]]] = {}
        for path in files:
            if self.stopping():
                return  # what is not yet taken stays in the outbox
            doc: Document | None = None
            with self._each([path], self.folders.failed, "unreadable"):
                data = read_file(str(path), self.options.limits.max_bytes)
                root = parse_bytes(data, source=path.name, limits=self.options.limits)
                kind = detect_kind(root)
                if kind is None:
                    self._file(path, self.folders.failed, "unknown",
                               _("<{tag}> is not a document sohs knows", tag=root.tag), [])
                elif root.tag in SIGNED_ROOTS:
                    doc = Document(str(path), data, root)
                elif kind.family == "ksk":
                    self._file(path, self.folders.failed, "unpacked-checkup",
                               _("checkup blocks are packed with sohs pack --checkup and signed by the doctor "
                                 "first"), [])
                else:
                    groups.setdefault((root.findtext("MA_LK") or "").strip(), []).append((path, data))
                del root  # a table's tree is not kept while the groups wait: one tree at a time (issue 15)
            if doc is not None:
                yield doc
                del doc
        for ma_lk, tables in sorted(groups.items()):
            if self.stopping():
                break
            packed: Document | None = None
            with self._each([p for p, _data in tables], self.folders.rejected, "invalid"):
                packed = self._pack_group(ma_lk, tables)
            if packed is not None:
                yield packed
                del packed

    def _pack_group(self, ma_lk: str, tables: list[tuple[Path, bytes]]) -> Document | None:
        """One episode's tables as an envelope in the outbox (staged: envelope first, then the tables
        step aside into the stash), or None when the group was rejected."""
        bad = [(p, r) for p, r in ((p, validate_bytes(d, p.name)) for p, d in tables) if not r.valid]
        if bad or not ma_lk:
            for p, _data in tables:
                report = next((r for q, r in bad if q == p), None)
                errors = [f.to_dict() for f in report.errors] if report else []
                why = _("invalid table") if report else (_("no MA_LK (Mã liên kết)") if not ma_lk else
                                                         _("another table of the episode is invalid"))
                self._file(p, self.folders.rejected, "invalid", why, errors)
            return None
        # a re-export with two XML1 of one episode cannot be packed: InputError, the group is rejected
        envelope = pack([(p.name, d) for p, d in tables], facility=self.options.facility)
        stem = safe_stem(ma_lk)  # MA_LK is content: ../x, /abs, sub/dir/X, 300 bytes (filenames.py)
        names = NameBook(self.folders.outbox)
        name = names.claim(stem)
        while (self.stash_root / name.stem).exists():  # a stash of that name waits for its envelope
            name = names.claim(stem)
        atomic_write(str(name), envelope.data, setup=True)  # 1: the envelope exists …
        stash = self.stash_root / name.stem
        try:
            stash.mkdir(parents=True, exist_ok=True)
            atomic_write(str(stash / MANIFEST), json.dumps(
                {"envelope": name.name, "sha256": hashlib.sha256(envelope.data).hexdigest(), "ma_lk": ma_lk},
                ensure_ascii=False).encode("utf-8"), setup=True)
        except OSError as exc:
            raise machine_error(exc, str(stash), "create the folder", setup=True) from None
        for p, _data in tables:  # 2: … then its tables step aside
            move(str(p), str(stash / p.name))
        self.report.packed += 1
        self.event("packed", {"file": name.name, "tables": len(tables), "ma_lk": ma_lk})
        return Document(str(name), envelope.data, parse_bytes(envelope.data, source=name.name,
                                                              limits=self.options.limits))

    def prepare(self, documents: Iterable[Document]) -> dict[str, Path]:
        """Validate, sign and check each document; returns ``{path to submit: outbox file}``, and
        :attr:`checked` holds what the send needs of each (or why it is refused)."""
        ready: dict[str, Path] = {}
        try:
            self.work.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise machine_error(exc, str(self.work), "create the folder", setup=True) from None
        for doc in documents:
            if self.stopping():
                break
            with self._each([Path(doc.path)], self.folders.rejected, "invalid"):
                self._prepare_one(doc, ready)
            del doc  # its tree: one at a time
        return ready

    def _prepare_one(self, doc: Document, ready: dict[str, Path]) -> None:
        path, data = Path(doc.path), doc.data
        inner: dict[int, dict[str, Any]] = {}
        report = validate_bytes(data, path.name, root=doc.root, inner=inner)
        if not report.valid:
            if self.split_partly_invalid(path, data, report, ready):
                return
            self._file(path, self.folders.rejected, "invalid",
                       _("{n} validation error(s)", n=len(report.errors)),
                       [f.to_dict() for f in report.errors])
            return
        if report.kind == "KHAMSUCKHOE" and self.hub is None:
            self.report.setup += 1
            self._leave(path, "setup", _("checkup envelopes go to the Ministry hub: configure hub.gln (left in the "
                                         "outbox)"))
            return
        if report.kind in ENVELOPES and len(inner) == len(doc.root.findall("THONGTINHOSO/DANHSACHHOSO/HOSO")):
            doc.inner = inner  # every HOSO's tables, as validation read them: the check takes them
        check = verify_bytes(data, path.name, trust=self.options.trust, root=doc.root)
        unsigned = [s for s in check.signatures if s.code == "not-signed"]
        broken = check.error or next((s.message_en for s in check.signatures if s.code not in ("ok", "not-signed")),
                                     "")
        if broken:
            self._file(path, self.folders.rejected, "bad-signature", broken)
            return
        if not unsigned:
            doc.verified = check  # verified once: the check before sending reads this verdict
            self._checked(doc, path, ready)
            return
        doctor_first = any(s.role == "doctor" for s in unsigned)
        if doctor_first and self.doctor is None:
            self._file(path, self.folders.rejected, "needs-doctor",
                       _("the concluding doctor signs CKS_NGUOI_KET_LUAN (Chữ ký số người kết luận) first (sohs "
                         "sign --as doctor, or signing.doctor_p12 for sohs run)"))
            return
        if self.signer is None:
            self.report.setup += 1
            self._leave(path, "setup", _("not signed, and no signing key is configured (signing.p12): left in the "
                                         "outbox"))
            return
        try:
            root = doc.root  # spent by the first signature (it changes the tree)
            if doctor_first and self.doctor is not None:  # QĐ 2062: the doctor, then the facility over it
                data, root = sign_document(data, self.doctor, role="doctor", source=path.name, root=root), None
            signed = sign_document(data, self.signer, source=path.name, root=root)
        except ConfigError:
            raise
        except SohsError as exc:
            self._file(path, self.folders.rejected, "sign-failed", exc.message)
            return
        copy = self.work / path.name
        atomic_write(str(copy), signed, setup=True)
        # the signed bytes are a document of their own: parsed once, their new signature verified once
        # (by the check); their tables are the ones validation read
        self._checked(Document(str(copy), signed, parse_bytes(signed, source=copy.name, limits=self.options.limits),
                               inner=doc.inner), path, ready)
        self.report.signed += 1

    def _checked(self, doc: Document, original: Path, ready: dict[str, Path]) -> None:
        """The check before sending (:func:`sohs_cli.submission.submit.check`), made now, while the tree is
        here; the send reads its result and the file's bytes, not the tree."""
        key = os.path.abspath(doc.path)
        self.checked[key] = check(doc, self.options, hub=self.hub is not None,
                                  gln=self.hub.gln if self.hub is not None else "")
        ready[key] = original

    def split_partly_invalid(self, path: Path, data: bytes, report: FileReport, ready: dict[str, Path]) -> bool:
        """Deliver what is deliverable (issue 14): an envelope whose episodes are partly invalid is split
        (:mod:`sohs_cli.validation.splitting`). The invalid episodes go to ``rejected/`` as an envelope of their
        own (``NAME.invalid.xml`` with its ``.errors.json``, naming every episode and where it went);
        the valid ones become ``NAME.valid.xml`` in the outbox and go on like any document (signed,
        sent, filed); the original export is kept beside the invalid part (``NAME.invalid.original.xml``).
        Returns False when the envelope cannot be split (it is then rejected whole).

        After a crash half way, the next run splits the original again: the valid part has the same
        bytes, so the ledger knows it (nothing is sent twice)."""
        split = split_envelope(data, report, self.options.limits)
        if split is None:
            return False
        valid = NameBook(self.folders.outbox).claim(f"{safe_stem(path.stem)}.valid", ".xml")
        invalid = self.work / f"{safe_stem(path.stem)}.invalid.xml"
        atomic_write(str(invalid), split.invalid, setup=True)
        summary = split.summary()
        lks = ", ".join(e.ma_lk or f"HOSO {e.index}" for e in split.invalid_episodes)
        errors = [f.to_dict() | {"ma_lk": e.ma_lk, "hoso": e.index} for e in split.invalid_episodes for f in e.errors]
        n_bad, n_ok = len(split.invalid_episodes), len(split.valid_episodes)
        filed = self._file(invalid, self.folders.rejected, "invalid",
                           _("{bad} of {total} episode(s) invalid ({lks}); the {good} valid one(s) go in {file}",
                             bad=n_bad, total=n_bad + n_ok, lks=lks, good=n_ok, file=valid.name), errors, local=False)
        with contextlib.suppress(OSError, ValueError):  # the episodes, beside the errors (a convenience)
            extra = json.loads(Path(str(filed) + ".errors.json").read_text(encoding="utf-8"))
            atomic_write(str(filed) + ".errors.json", json.dumps(
                extra | {"split_from": path.name, "valid_part": valid.name} | summary,
                ensure_ascii=False, indent=1).encode("utf-8"), setup=True)
        # the ledger names the invalid episodes too: the part is recorded as rejected (never sent), with
        # its findings and its MA_LK (not through _file's record_refused, which knows no episodes)
        doc_id = self.ledger.record(DocumentInfo(
            hashlib.sha256(split.invalid).hexdigest(), str(filed), "GIAMDINHHS", report.standard,
            text_of(parse_bytes(split.invalid, source=filed.name), "THONGTINDONVI/MACSKCB"),
            tuple(e.ma_lk for e in split.invalid_episodes if e.ma_lk), ""))
        self.ledger.set_result(doc_id, "rejected", errors, "",
                               _("not sent: {bad} invalid episode(s) split from {file}; the valid ones went in "
                                 "{valid}", bad=n_bad, file=path.name, valid=valid.name))
        atomic_write(str(valid), split.valid, setup=True)
        move(str(path), str(NameBook(filed.parent).claim(f"{filed.stem}.original", ".xml")))
        for part, episodes in ((valid.name, split.valid_episodes), (filed.name, split.invalid_episodes)):
            for e in episodes:
                self.report.episodes.append({"file": path.name, "hoso": str(e.index), "ma_lk": e.ma_lk,
                                             "part": part, "folder": self.folders.outbox.name
                                             if part == valid.name else self.folders.rejected.name})
        self.event("split", {"file": path.name, "valid": valid.name, "invalid": filed.name,
                             "valid_count": n_ok, "invalid_count": n_bad, "invalid_list": lks,
                             "valid_episodes": [e.ma_lk for e in split.valid_episodes],
                             "invalid_episodes": [e.ma_lk for e in split.invalid_episodes]})
        self._prepare_one(Document(str(valid), split.valid, parse_bytes(split.valid, source=valid.name,
                                                                        limits=self.options.limits)), ready)
        return True

    async def deliver(self, ready: dict[str, Path]) -> None:
        """Submit what is ready, file each document, then refresh results, even with nothing to send:
        yesterday's results arrive today."""
        summary = await submit_files([self.checked.get(p, p) for p in ready], self.client, self.ledger, self.options,
                                     hub=self.hub, stopping=self.stopping)
        for item in summary.items:
            original = ready[item.path]
            with self._each([], self.folders.failed, "unreadable"):
                self._file_item(item, original)
        if summary.untaken:  # SIGTERM before they were taken: named, left in the outbox
            for path in list(ready)[len(summary.items):]:
                self.report.waiting += 1
                self._leave(ready[path], "waiting", _("not sent: stopped (SIGTERM); the next run sends it"))
        if self.stopping():
            return
        try:
            updated, _supported = await refresh(self.ledger, self.client)
            self.report.processed = updated
        except PortalUnavailable as exc:
            if ready:
                raise
            self.event("refresh-failed", {"message": exc.message})  # nothing was to send: a warning only
        self.file_processing_rejections()

    def _file_item(self, item: Item, original: Path) -> None:
        signed = Path(item.path) if Path(item.path) != original else None
        if item.status in ("delivered", "skipped"):
            where = self._file(original, self.folders.sent, item.status, item.message, signed=signed, local=False)
            self.ledger.relocate(item.sha256, str(where))  # the ledger follows the file
        elif item.status in ("rejected", "refused"):
            self.report.setup += item.setup  # the portal refused the certificate: a setup problem (exit 3)
            where = self._file(original, self.folders.rejected, "setup-rejected" if item.setup else "rejected",
                               item.message,
                               [{"maKetQua": item.code, "thongDiep": item.message}], signed=signed,
                               local=not item.sha256)
            if item.sha256:
                self.ledger.relocate(item.sha256, str(where))
        else:
            self.report.waiting += 1
            self._leave(original, "waiting", item.message)

    def file_processing_rejections(self) -> None:
        """Documents the portal refused while processing them leave ``sent/`` for ``rejected/``, with
        their field errors: ``rejected/`` is the one place to look for what to fix."""
        sent = self.folders.sent.resolve()
        for row in self.ledger.select(states=["rejected"]):
            path = Path(row["path"])
            if path.resolve().parent != sent or not path.exists():
                continue
            original = path.with_name(path.name.removesuffix(".signed.xml") + ".xml") \
                if path.name.endswith(".signed.xml") else path
            if not original.exists():
                original = path
            tables = original.with_name(original.stem + ".tables")
            errors = json.loads(row["errors"])
            message = _("rejected by the portal after processing: {n} field error(s) (maGiaoDich {id})",
                        n=len(errors), id=row["transaction_id"])
            with self._each([], self.folders.failed, "unreadable"):
                where = self._file(original, self.folders.rejected, "rejected", message, errors,
                                   signed=path if path != original else None, tables=tables, local=False)
                self.ledger.relocate(row["sha256"], str(where))

    def recover(self) -> None:
        """Tables a run that died left in the stash follow their envelope now: into the folder the
        envelope was filed in (found by the SHA-256 the stash's manifest records, whatever name it
        got there), or back into the outbox when the envelope is nowhere (they are packed again)."""
        if not self.stash_root.is_dir():
            return
        for stash in sorted(self.stash_root.iterdir()):
            with self._each([], self.folders.failed, "unreadable"):
                self._recover_one(stash)

    def _recover_one(self, stash: Path) -> None:
        if not stash.is_dir():
            return
        manifest = _manifest(stash)
        envelope = str(manifest.get("envelope") or f"{stash.name}.xml")
        if (self.folders.outbox / envelope).exists():
            return  # the envelope is still to be sent; its tables wait for it
        found = self._filed_envelope(Path(envelope).stem, str(manifest.get("sha256", "")))
        if found is not None:
            target = NameBook(found.parent).claim(found.stem, ".tables")
            move(str(stash), str(target))
            self.event("recovered", {"file": found.name, "folder": found.parent.name, "tables": str(target.name)})
            return
        back = NameBook(self.folders.outbox)
        for table in sorted(stash.iterdir()):
            if table.name != MANIFEST:
                move(str(table), str(back.claim(table.stem, table.suffix)))
        with contextlib.suppress(OSError):
            (stash / MANIFEST).unlink(missing_ok=True)
            stash.rmdir()
        self.event("recovered", {"file": stash.name, "folder": self.folders.outbox.name,
                                 "message": _("its envelope is nowhere: the tables are back in the outbox")})

    def _filed_envelope(self, stem: str, sha256: str) -> Path | None:
        for folder in (self.folders.sent, self.folders.rejected, self.folders.failed):
            if not folder.is_dir():
                continue
            for candidate in folder.glob(f"{glob.escape(stem)}*.xml"):
                if candidate.name.endswith(".signed.xml") or not (
                        candidate.stem == stem or candidate.stem.removeprefix(stem + "-").isdigit()):
                    continue
                if not sha256 or hashlib.sha256(candidate.read_bytes()).hexdigest() == sha256:
                    return candidate
        return None


def _manifest(stash: Path) -> dict[str, Any]:
    try:
        value = json.loads((stash / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # a stash from an older sohs: found by its name only
    return value if isinstance(value, dict) else {}


def run_once(run: Run, settle: float) -> RunReport:
    run.folders.create()
    run.recover()
    files, left = survey(run.folders.outbox, settle)
    run.report.picked = len(files)
    run.event("picked", {"files": len(files)})
    for path, outcome, reason in left:  # every file of the outbox is accounted for, and why
        name = str(path.relative_to(run.folders.outbox))
        setattr(run.report, outcome, getattr(run.report, outcome) + 1)
        run.report.files.append({"file": name, "outcome": outcome, "folder": run.folders.outbox.name,
                                 "message": reason})
        run.event(outcome, {"file": name, "message": reason})
    ready = run.prepare(run.pack_tables(files))
    asyncio.run(_deliver(run, ready))
    filed = run.report.files
    run.report.delivered = sum(1 for f in filed if f["outcome"] == "delivered")
    run.report.skipped = sum(1 for f in filed if f["outcome"] == "skipped")
    run.report.rejected = sum(1 for f in filed if f["folder"] == run.folders.rejected.name)
    run.report.failed = sum(1 for f in filed if f["folder"] == run.folders.failed.name)
    # a split episode went where its part went: the valid part was delivered (sent/), refused, or waits
    final = {f["file"]: f["folder"] for f in filed}
    for episode in run.report.episodes:
        episode["folder"] = final.get(episode["part"], episode["folder"])
    return run.report


async def _deliver(run: Run, ready: dict[str, Path]) -> None:
    try:
        await run.deliver(ready)
    finally:
        await run.client.close()
        if run.hub is not None:
            await run.hub.close()
