"""Signing many files: where each result goes, validation first, atomic writes, parallel workers.

A batch finishes: every file gets an outcome, a bad file never stops the others (STYLE.md 9). The
key is loaded once by the caller; with ``jobs > 1`` worker processes are forked after it is loaded,
so the key is never serialised, written or sent anywhere.
"""

from __future__ import annotations

import os
import signal
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from sohs_cli.foundation.errors import ExitCode, SohsError, UsageError
from sohs_cli.foundation.fileio import atomic_write, output_dirs, read_file
from sohs_cli.foundation.i18n import _, language
from sohs_cli.foundation.xmlsafe import ParseLimits
from sohs_cli.signing.sign import Signer, sign


@dataclass(frozen=True)
class SignOptions:
    role: str = "facility"
    validate: bool = True
    checkup_form: str | None = None  # base64 (default) | xmldsig; None: the doctor's form, else base64
    limits: ParseLimits = field(default_factory=ParseLimits)


@dataclass(frozen=True)
class SignOutcome:
    source: str
    target: str
    exit_code: ExitCode  # OK when signed and written
    message: str = ""
    hint: str = ""
    note: str = ""  # what signing changed besides the signature (an added CHUKYDONVI)

    @property
    def ok(self) -> bool:
        return self.exit_code == ExitCode.OK


def plan_targets(paths: Sequence[str], *, output: str | None, out_dir: str | None,
                 in_place: bool) -> list[tuple[str, str]]:
    """``(source, target)`` for every input; exactly one of ``-o``, ``--out-dir``, ``--in-place``."""
    if sum((output is not None, out_dir is not None, in_place)) != 1:
        raise UsageError(_("give exactly one of --output FILE, --out-dir DIR or --in-place"),
                         hint=_("--in-place replaces each file by its signed copy (atomically)"))
    if "-" in paths:
        raise UsageError(_("sohs sign reads files, not standard input"), hint=_("save the document to a file first"))
    if output is not None:
        if len(paths) != 1:
            raise UsageError(_("--output takes one input, {n} were given", n=len(paths)), hint=_("use --out-dir DIR"))
        return [(paths[0], output)]
    if in_place:
        return [(p, p) for p in paths]
    assert out_dir is not None
    pairs = [(p, os.path.join(out_dir, os.path.basename(p))) for p in paths]
    seen: dict[str, str] = {}
    for src, dst in pairs:
        if dst in seen:
            raise UsageError(_("{first} and {second} would both be written to {target}", first=seen[dst], second=src,
                               target=dst), hint=_("sign the folders separately, or rename one file"))
        if os.path.abspath(src) == os.path.abspath(dst):
            raise UsageError(_("--out-dir {folder} holds {file} itself", folder=out_dir, file=src),
                             hint=_("use --in-place to replace files"))
        seen[dst] = src
    return pairs


def sign_one(source: str, target: str, signer: Signer, options: SignOptions) -> SignOutcome:
    """Read, validate, sign and write one file; every expected failure becomes the outcome."""
    try:
        data = read_file(source, options.limits.max_bytes)
        if options.validate:
            from sohs_cli.validation.engine import ValidateOptions, validate_bytes

            report = validate_bytes(data, source, ValidateOptions(limits=options.limits))
            if not report.valid:
                return SignOutcome(
                    source, target, ExitCode.FINDINGS,
                    _("not signed: {count} validation error(s), first: {first}",
                      count=len(report.errors) + report.omitted_errors, first=report.first_problem(language())),
                    _("fix the data (sohs validate shows every error), or --no-validate to sign anyway"))
        signed = sign(data, signer, role=options.role, source=source, limits=options.limits,
                      checkup_form=options.checkup_form)
        if os.path.dirname(target):
            output_dirs(os.path.dirname(target))
        atomic_write(target, signed.data, setup=True)  # the output the user named: exit 3 when unwritable
    except SohsError as exc:
        return SignOutcome(source, target, exc.exit_code, exc.message, exc.hint)
    note = _("added the missing <CHUKYDONVI> (Chữ ký đơn vị) at the end of the file before signing") \
        if signed.slot_added else ""
    return SignOutcome(source, target, ExitCode.OK, note=note)


_BATCH: dict[str, object] = {}


def _worker(pair: tuple[str, str]) -> SignOutcome:
    signer = _BATCH["signer"]
    options = _BATCH["options"]
    assert isinstance(options, SignOptions)
    return sign_one(pair[0], pair[1], signer, options)  # type: ignore[arg-type]


def _start_worker() -> None:
    """Ctrl-C is the parent's (exit 130); it then ends the workers with SIGTERM: unwind, so that a
    file being written leaves no temporary file behind."""
    signal.signal(signal.SIGTERM, _unwind)


def _unwind(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


#: files in flight in one process: reading, fsync and rename wait on the disk while another file is
#: signed (the disk flush of an atomic write costs as much as the RSA signature itself)
IO_THREADS = 4


def _overlapped(pairs: Sequence[tuple[str, str]], signer: Signer, options: SignOptions) -> Iterator[SignOutcome]:
    with ThreadPoolExecutor(max_workers=IO_THREADS) as pool:
        window: deque[Future[SignOutcome]] = deque()
        for src, dst in pairs:
            window.append(pool.submit(sign_one, src, dst, signer, options))
            if len(window) >= IO_THREADS * 4:  # bounded: memory stays flat on any batch
                yield window.popleft().result()
        while window:
            yield window.popleft().result()


def sign_files(pairs: Sequence[tuple[str, str]], signer: Signer, options: SignOptions,
               jobs: int = 1) -> Iterator[SignOutcome]:
    """Outcomes in input order. Within a process, files overlap on a few I/O threads; ``jobs > 1``
    forks worker processes that inherit the loaded signer."""
    if jobs <= 1 or len(pairs) < 2 or os.name == "nt":
        yield from _overlapped(pairs, signer, options)
        return
    import multiprocessing

    from sohs_cli.foundation.procpool import ordered_map

    _BATCH.update(signer=signer, options=options)
    try:
        yield from ordered_map(_worker, pairs, jobs=jobs, context=multiprocessing.get_context("fork"),
                               setup=_start_worker, chunk=16)
    finally:
        _BATCH.clear()
