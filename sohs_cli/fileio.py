"""Atomic writes: a temporary file in the target folder, fsync, then rename. Never a partial file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from typing import BinaryIO

from sohs_cli.errors import InputError


def read_file(path: str, limit: int | None = None) -> bytes:
    """The bytes of a file (at most ``limit + 1``, so a caller can tell it is over), or one clear error."""
    try:
        with open(path, "rb") as fh:
            return fh.read() if limit is None else fh.read(limit + 1)
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror} (không đọc được tệp)", code="unreadable") from None


@contextlib.contextmanager
def atomic_writer(path: str, mode: int | None = None) -> Iterator[BinaryIO]:
    """A file to write bit by bit that appears at ``path`` whole (fsync, rename) or not at all.

    The temporary file is created in the target folder (so the rename is atomic) with mode 0600 by
    ``mkstemp``; ``mode`` sets the final mode before the rename.
    """
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".sohs-", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise InputError(f"{path}: cannot write into {directory}: {exc.strerror}", code="unwritable") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write(path: str, data: bytes, mode: int | None = None) -> None:
    with atomic_writer(path, mode) as fh:
        fh.write(data)
