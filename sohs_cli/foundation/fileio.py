"""Reading input files fast and safely; atomic writes (a temporary file in the target folder, fsync,
then rename: never a partial file); moves that work across filesystems; what a sick machine's
``OSError`` means for the user (:func:`machine_error`)."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from typing import BinaryIO

from sohs_cli.foundation.errors import InputError, MachineError
from sohs_cli.foundation.i18n import N_, _, language

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
        raise InputError(_("{path}: cannot read: {reason}", path=path, reason=reason(exc)), code="unreadable") \
            from None


_EDQUOT = getattr(errno, "EDQUOT", -1)  # not on every platform
#: errors of the machine, not of the data, wherever they happen: exit 3 with what to do (``_ADVICE``)
_MACHINE = {errno.ENOSPC, _EDQUOT, errno.EROFS, errno.EFBIG, errno.EXDEV, errno.EIO}
#: also the machine's when the path is one of sohs's own folders (data folder, outbox …): ``setup``
_SETUP = {errno.EACCES, errno.EPERM, errno.ENOTDIR, errno.EISDIR, errno.ENOENT, errno.EEXIST}
_ADVICE = {
    errno.ENOSPC: N_("free space on that disk, then run again (nothing was lost)"),
    _EDQUOT: N_("free space or raise the quota, then run again"),
    errno.EROFS: N_("mount it read-write or choose another folder"),
    errno.EFBIG: N_("raise the limit for the user running sohs (ulimit -f unlimited)"),
    errno.EACCES: N_("give the user running sohs write access to it"),
    errno.EPERM: N_("give the user running sohs write access to it"),
    errno.EIO: N_("check the disk"),
}
#: what an ``OSError`` means, in the run's language: the system's own text (``strerror``) is English
_REASONS = {
    errno.ENOENT: N_("no such file or folder"), errno.EACCES: N_("permission denied"),
    errno.EPERM: N_("operation not permitted"), errno.EISDIR: N_("it is a folder"),
    errno.ENOTDIR: N_("a part of the path is not a folder"), errno.EEXIST: N_("it already exists"),
    errno.ENOSPC: N_("the disk is full"), _EDQUOT: N_("the disk quota is used up"),
    errno.EROFS: N_("the filesystem is read-only"), errno.EFBIG: N_("the file size limit is reached (ulimit -f)"),
    errno.EIO: N_("an input/output error of the disk"), errno.ELOOP: N_("too many levels of symbolic links"),
    errno.ENAMETOOLONG: N_("the name is too long"), errno.EMFILE: N_("too many open files"),
    errno.EBUSY: N_("it is in use"), errno.EXDEV: N_("it is on another filesystem"),
}
#: ``machine_error``'s ``doing`` -> its message
_DOING = {
    "write": N_("cannot write {path}: {reason}"), "write into": N_("cannot write into {path}: {reason}"),
    "move a file to": N_("cannot move a file to {path}: {reason}"),
    "copy a file to": N_("cannot copy a file to {path}: {reason}"),
    "remove the moved file": N_("cannot remove the moved file {path}: {reason}"),
    "create the folder": N_("cannot create the folder {path}: {reason}"),
    "read": N_("cannot read {path}: {reason}"),
}


def reason(exc: OSError) -> str:
    """Why ``exc`` happened, in the run's language (for "cannot read X: <reason>")."""
    known = _REASONS.get(exc.errno or 0)
    if known is not None:
        return _(known)
    if language() == "en":
        return exc.strerror or str(exc)
    return _("system error {code}", code=errno.errorcode.get(exc.errno or 0, str(exc.errno)))


def machine_error(exc: OSError, path: str, doing: str = "write", setup: bool = False) -> MachineError | InputError:
    """The one-line error for an ``OSError`` met while doing something to ``path``: a machine
    problem (exit 3, what to do) when its errno is one (with ``setup``, the path is one of sohs's own
    folders or an output the user named: a missing or forbidden one is a setup problem too), else a
    plain input error."""
    code = exc.errno or 0
    todo = _(_ADVICE.get(code, N_("check that path")))
    message = _(_DOING.get(doing, N_("cannot write {path}: {reason}")), path=path, reason=reason(exc))
    if code in _MACHINE or (setup and code in _SETUP):
        return MachineError(message, hint=todo)
    return InputError(message, hint=todo, code="unwritable")


@contextlib.contextmanager
def atomic_writer(path: str, mode: int | None = None, setup: bool = False) -> Iterator[BinaryIO]:
    """A file to write bit by bit that appears at ``path`` whole (fsync, rename) or not at all.

    The temporary file ``.sohs-<random>.tmp`` is created in the target folder (so the rename is
    atomic) with mode 0600; ``mode`` sets the final mode before the rename. Its name is chosen
    *before* the ``try`` that removes it: an interrupt (Ctrl-C, a worker's SIGTERM) arriving between
    the file's creation and the ``try`` left an empty temporary file behind (issue 16). ``setup``:
    ``path`` is in one of sohs's own folders (see :func:`machine_error`).
    """
    directory = os.path.dirname(os.path.abspath(path))
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    while True:
        tmp = os.path.join(directory, f".sohs-{os.urandom(8).hex()}.tmp")
        try:
            try:
                fd = os.open(tmp, flags, 0o600)
            except FileExistsError:
                continue  # another writer's name (1 in 2**64): not ours to remove
            except OSError as exc:
                raise machine_error(exc, directory, "write into", setup) from None
            try:
                with os.fdopen(fd, "wb") as fh:
                    yield fh
                    fh.flush()
                    os.fsync(fh.fileno())
                if mode is not None:
                    os.chmod(tmp, mode)
                os.replace(tmp, path)
            except OSError as exc:
                raise machine_error(exc, path, "write", setup) from None
            return
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


def move(src: str, dst: str) -> None:
    """Within sohs's own folders: rename ``src`` (a file or a folder) to ``dst``, also across
    filesystems. Where a rename cannot cross (``EXDEV``: ``SOHS_HOME`` on another disk than the
    folders), the bytes are copied beside ``dst``, flushed, renamed into place, and only then is
    ``src`` removed. A crash leaves at worst both copies, never neither."""
    try:
        os.replace(src, dst)
        return
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise machine_error(exc, dst, "move a file to", setup=True) from None
    import shutil  # here: validate imports this module, only a move across disks needs shutil

    tmp = os.path.join(os.path.dirname(os.path.abspath(dst)), f".sohs-{os.urandom(8).hex()}.tmp")
    try:
        if os.path.isdir(src):
            shutil.copytree(src, tmp)
        else:
            shutil.copyfile(src, tmp)
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, dst)
    except OSError as exc:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp) if os.path.isdir(tmp) else os.unlink(tmp)
        raise machine_error(exc, dst, "copy a file to", setup=True) from None
    try:
        shutil.rmtree(src) if os.path.isdir(src) else os.unlink(src)
    except OSError as exc:
        raise machine_error(exc, src, "remove the moved file", setup=True) from None


def read_named(path: str, limit: int | None = None) -> bytes:
    """:func:`read_file` of a file the user named on the command line: when it does not exist, that
    is a usage error (exit 2), as for every command (issue 17), not a finding about a document."""
    if not os.path.lexists(path):
        from sohs_cli.foundation.errors import UsageError

        raise UsageError(_("{path}: no such file or folder", path=path),
                         hint=_("check the path; quote glob patterns if your shell expands them"))
    return read_file(path, limit)


def output_dirs(path: str) -> None:
    """Make the folder an output the user named goes into (``--out-dir``, ``-d``): a folder that
    cannot be made is a machine problem (exit 3), as an output that cannot be written."""
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise machine_error(exc, path, "create the folder", setup=True) from None


def atomic_write(path: str, data: bytes, mode: int | None = None, setup: bool = False) -> None:
    with atomic_writer(path, mode, setup) as fh:
        fh.write(data)
