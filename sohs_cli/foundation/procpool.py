"""An ordered map over worker processes, with no helper thread in the parent.

Why not ``multiprocessing.Pool``: its worker-maintenance thread waits on the result pipe as well as
on the workers, so while a result sits unread it wakes, rebuilds its selector and polls again,
holding the GIL against the two other threads that move tasks and results. On ``sohs validate``
(5,000 slips, 2 CPUs) the parent spent about 18 µs per file on that traffic, a fifth of the work
itself. A ``Pool`` also waits forever for a worker that the kernel killed (out of memory).

Here the parent alone talks to each worker over its own pipe, in chunks:

- a worker holds at most one chunk: it is sent its next chunk only after its last result is read,
  so neither side ever blocks writing to the other, whatever the size of a task or a result;
- results come back in any order and are handed out in input order, with at most ``pending``
  chunks sent or held at a time: memory stays flat on any number of items;
- a worker that dies (killed, crashed) is reported at once as :class:`~sohs_cli.foundation.errors.WorkerLost`,
  one that raises as :class:`WorkerFailed`;
- Ctrl-C is the parent's: workers ignore SIGINT, and when the parent stops early (an exception,
  an interrupt, a consumer that stops reading) they are terminated with SIGTERM.
"""

from __future__ import annotations

import contextlib
import itertools
import signal
import traceback
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sohs_cli.foundation.errors import WorkerLost
from sohs_cli.foundation.i18n import _

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext
    from multiprocessing.process import BaseProcess

T = TypeVar("T")
R = TypeVar("R")

CHUNK = 128  # items per message: the round trip costs about 100 µs, a chunk of slips 10-20 ms
PENDING = 32  # chunks sent or finished but not yet handed out


class WorkerFailed(RuntimeError):
    """A worker process raised: a bug, reported as one (exit 70, traceback with --debug)."""


class _RemoteTraceback(Exception):
    """The worker's traceback, chained as the cause of :class:`WorkerFailed` (shown by --debug)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class _Failure:
    kind: str
    message: str
    trace: str


def _serve(conn: Connection, fn: Callable[[Any], Any], setup: Callable[..., None] | None,
           setup_args: tuple[Any, ...], inherited: list[Connection]) -> None:
    """A worker: answer each chunk with its results, in order, until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent answers Ctrl-C and ends the workers
    for other in inherited:  # a forked worker's copies of the parent's pipes to the workers before it
        other.close()  # (kept, they would hold those pipes open after the parent is gone)
    if setup is not None:
        setup(*setup_args)
    while True:
        try:
            chunk = conn.recv()
        except EOFError:  # the parent is gone
            return
        if chunk is None:
            return
        try:
            reply: Any = [fn(item) for item in chunk]
        except Exception as exc:  # a bug in fn: the parent reports it with this traceback
            reply = _Failure(type(exc).__name__, str(exc), traceback.format_exc())
        try:
            conn.send(reply)
        except OSError:  # the parent is gone
            return


@dataclass
class _Worker:
    process: BaseProcess
    conn: Connection
    chunk: int | None = None  # the index of the chunk it holds

    def give(self, index: int, chunk: list[Any]) -> None:
        try:
            self.conn.send(chunk)
        except OSError:
            raise self._died() from None
        self.chunk = index

    def take(self) -> tuple[int, list[Any]]:
        try:
            reply = self.conn.recv()
        except (EOFError, OSError):
            raise self._died() from None
        if isinstance(reply, _Failure):
            raise WorkerFailed(f"{reply.kind}: {reply.message} (in worker process {self.process.pid})") \
                from _RemoteTraceback(reply.trace)
        index, self.chunk = self.chunk, None
        assert index is not None
        return index, reply

    def _died(self) -> WorkerLost:
        self.process.join(timeout=1)
        code = self.process.exitcode
        how = _("killed by signal {n}", n=-code) if code is not None and code < 0 else _("exit code {n}", n=code)
        return WorkerLost(_("worker process {pid} ended without answering ({how})", pid=self.process.pid, how=how),
                          hint=_("if the machine is short of memory, use fewer --jobs (--jobs 1: one process)"))


def ordered_map(fn: Callable[[T], R], items: Iterable[T], *, jobs: int, context: BaseContext,
                setup: Callable[..., None] | None = None, setup_args: tuple[Any, ...] = (),
                chunk: int | None = None, pending: int | None = None) -> Generator[R, None, None]:
    """``map(fn, items)`` on ``jobs`` worker processes, results in input order.

    ``fn`` and ``setup`` must be module-level functions when ``context`` is not ``fork``;
    ``setup(*setup_args)`` runs once in each worker before its first item. ``chunk`` items travel
    per message (default :data:`CHUNK`); at most ``pending`` chunks (default :data:`PENDING`) are
    out or waiting to be handed out. Closing the generator early terminates the workers.
    """
    chunk = chunk or CHUNK
    pending = pending or PENDING
    workers: list[_Worker] = []
    finished = False
    start = cast(Any, context).Process  # every concrete context has one; typeshed's BaseContext does not
    forked = context.get_start_method() == "fork"
    try:
        for _slot in range(jobs):
            mine, theirs = context.Pipe()
            inherited = [w.conn for w in workers] if forked else []
            process = start(target=_serve, args=(theirs, fn, setup, setup_args, inherited), daemon=True)
            process.start()
            theirs.close()
            workers.append(_Worker(process, mine))
        owner = {w.conn: w for w in workers}
        remaining = iter(items)
        done: dict[int, list[R]] = {}
        sent = handed = 0
        more = True
        while True:
            for w in workers:  # every idle worker gets a chunk, while the window allows
                if w.chunk is None and more and sent - handed < pending:
                    batch = list(itertools.islice(remaining, chunk))
                    if not batch:
                        more = False
                        break
                    w.give(sent, batch)
                    sent += 1
            if handed == sent and not more:
                finished = True
                return
            for ready in wait([w.conn for w in workers if w.chunk is not None]):
                index, results = owner[cast(Connection, ready)].take()
                done[index] = results
            while handed in done:
                yield from done.pop(handed)
                handed += 1
    finally:
        _stop(workers, gently=finished)


def _stop(workers: list[_Worker], *, gently: bool) -> None:
    """Let idle workers exit on their own; terminate the rest (SIGTERM), and reap them all."""
    for w in workers:
        if gently:
            with contextlib.suppress(OSError):
                w.conn.send(None)
        elif w.process.is_alive():
            w.process.terminate()
    for w in workers:
        w.process.join(timeout=5)
        if w.process.is_alive():
            w.process.kill()
            w.process.join()
        w.conn.close()
