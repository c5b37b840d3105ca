"""One lock per data folder, taken by every command that sends (``sohs submit``, ``sohs run``).

Two senders on one ledger would each see a document as not yet delivered and both send it. The
lock is ``run.lock`` in the data folder, held through the ``filelock`` library: ``flock`` on Linux
and macOS, ``msvcrt.locking`` on Windows (which has no ``fcntl``). The operating system releases it
when its holder dies, however it dies, so the lock of a dead run is simply taken over.

Who holds it is written beside it, in ``run.lock.owner`` (``filelock`` truncates the lock file itself
on every try, so it cannot carry the holder's pid). The owner file is emptied on release: when it
is found filled at acquire time, its previous holder died holding the lock, and the run says so.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from types import TracebackType

import filelock

from sohs_cli.foundation.errors import LockHeld, MachineError
from sohs_cli.foundation.i18n import _

LOCK_NAME = "run.lock"


class DataLock:
    """The data folder's lock for one command (``"run"``, ``"submit"``); exclusive, never waits."""

    def __init__(self, home: Path, command: str) -> None:
        self.home = home
        self.command = command
        self.path = home / LOCK_NAME
        self.owner = home / (LOCK_NAME + ".owner")
        self.previous = ""  # what a holder that died left in the owner file
        self._lock = filelock.FileLock(str(self.path), timeout=0, thread_local=False)

    def acquire(self) -> DataLock:
        if self.home.exists() and not self.home.is_dir():
            raise MachineError(_("the data folder {home} is a file, not a folder", home=self.home),
                               hint=_("point SOHS_HOME / --home at a folder"))
        try:
            self.home.mkdir(parents=True, exist_ok=True)
            self._lock.acquire()
        except filelock.Timeout:
            holder = _read(self.owner) or "?"
            raise LockHeld(_("another sohs command holds the lock on {home} ({holder})", home=self.home, holder=holder),
                           hint=_("wait for it to finish; the lock is released when that process ends")) from None
        except OSError as exc:
            raise MachineError(_("cannot take the lock {path}: {reason}", path=self.path, reason=exc.strerror or exc),
                              hint=_("SOHS_HOME / --home must be a folder sohs can write to")) from None
        try:
            self.previous = _read(self.owner)
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            with open(self.owner, "w", encoding="utf-8") as fh:
                fh.write(f"pid {os.getpid()}, sohs {self.command} since {stamp}")
        except OSError as exc:
            self._lock.release()
            raise MachineError(_("cannot write {path}: {reason}", path=self.owner, reason=exc.strerror or exc),
                              hint=_("SOHS_HOME / --home must be a folder sohs can write to")) from None
        return self

    def release(self) -> None:
        if not self._lock.is_locked:
            return
        try:
            with open(self.owner, "w", encoding="utf-8"):
                pass  # emptied: a clean release
        except OSError:
            pass  # a full or read-only disk must not keep the lock: the next holder only sees a stale owner
        finally:
            self._lock.release()

    def __enter__(self) -> DataLock:
        return self.acquire()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


def _read(path: Path) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read(200).strip()
    except OSError:
        return ""
