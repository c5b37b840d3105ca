"""Reading input files fast and safely; atomic writes (a temporary file in the target folder, fsync,
then rename: never a partial file)."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from typing import BinaryIO

from sohs_cli.errors import InputError

_CHUNK = 1 << 20
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def read_file(path: str, limit: int | None = None) -> bytes:
    """The bytes of a file (at most ``limit + 1``, so a caller can tell it is over), or one clear error.

    Plain ``os`` calls sized by ``fstat``: ``open().read(n)`` allocates ``n`` bytes up front and
    builds two file objects, which cost more than parsing a 3 KB slip. A pipe, a /proc file (size
    0) or a file that grows while being read is read on until end of file or the limit.
    """
    try:
        fd = os.open(path, _READ_FLAGS)
        try:
            st = os.fstat(fd)
            cap = limit + 1 if limit is not None else None
            want = st.st_size + 1 if cap is None else min(st.st_size + 1, cap)
            data = os.read(fd, want)
            if len(data) == st.st_size and stat.S_ISREG(st.st_mode):
                return data  # the whole regular file, as fstat sized it
            parts, total = [data], len(data)
            while data and (cap is None or total < cap):
                data = os.read(fd, _CHUNK if cap is None else min(_CHUNK, cap - total))
                parts.append(data)
                total += len(data)
            return b"".join(parts)
        finally:
            os.close(fd)
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
