"""Turn command-line PATH arguments into an ordered stream of files.

Files as given; directories walked recursively for ``*.xml`` (sorted, so runs are reproducible);
glob patterns expanded here too (cron and CI often pass them quoted); ``-`` is standard input;
``--from-list FILE`` adds one path per line (``#`` comments and blank lines ignored).

What a folder walk or a pattern finds is read only when it is a plain regular file (issue 15): a
symbolic link is not followed (an outside envelope was signed and submitted, ``/etc/passwd`` parsed
into ``errors.json``), a FIFO is not opened (it hung every command for ever), nor a device or a
socket. Each is reported to ``on_skip`` and left alone. A path named on the command line is taken
as given: the user chose it (``sohs validate <(zcat export.xml.gz)`` reads the pipe).
"""

from __future__ import annotations

import glob
import os
import stat
from collections.abc import Callable, Iterable, Iterator

from sohs_cli.foundation.errors import UsageError
from sohs_cli.foundation.i18n import N_, _

GLOB_CHARS = set("*?[")

Skip = Callable[[str, str], None]  # (path, reason): an entry found but not read


def _ignore(path: str, reason: str) -> None:
    return None


def not_regular(path: str) -> str | None:
    """Why a found entry is not read (a catalog message), or None for a plain regular file."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return N_("cannot be read")
    if stat.S_ISLNK(mode):
        return N_("a symbolic link, not followed")
    if stat.S_ISFIFO(mode):
        return N_("a named pipe (FIFO), not a file")
    if not stat.S_ISREG(mode):
        return N_("not a regular file (a device or a socket)")
    return None


def _walk(directory: str, on_skip: Skip = _ignore) -> Iterator[str]:
    # os.walk does not descend into a linked folder (followlinks=False)
    for dirpath, dirnames, filenames in os.walk(directory):
        dirnames.sort()
        for name in sorted(filenames):
            if name.lower().endswith(".xml") and not name.startswith("."):
                path = os.path.join(dirpath, name)
                why = not_regular(path)
                if why is None:
                    yield path
                else:
                    on_skip(path, why)


def read_list(list_file: str) -> list[str]:
    try:
        with open(list_file, encoding="utf-8") as fh:
            return [ln.strip() for ln in fh if ln.strip() and not ln.lstrip().startswith("#")]
    except OSError as exc:
        from sohs_cli.foundation.fileio import reason

        raise UsageError(_("--from-list {file}: cannot read: {reason}", file=list_file, reason=reason(exc))) from None
    except UnicodeDecodeError as exc:  # exit 70 before issue 15
        raise UsageError(_("--from-list {file}: not UTF-8 text (byte {byte:,})", file=list_file, byte=exc.start),
                         hint=_("write one path per line, in UTF-8")) from None


def expand(paths: Iterable[str], on_skip: Skip = _ignore) -> Iterator[str]:
    """Yield every file to process, in a deterministic order; a path that names nothing is a usage
    error. Entries of folders and patterns that are not plain files go to ``on_skip``."""
    for raw in paths:
        if raw == "-":
            yield raw
        elif os.path.isdir(raw):
            yield from _walk(raw, on_skip)
        elif os.path.exists(raw):
            yield raw
        elif GLOB_CHARS & set(raw):
            matches = sorted(glob.glob(raw, recursive=True))
            if not matches:
                raise UsageError(_("{pattern}: the pattern matches no file", pattern=raw),
                                 hint=_("check the folder and the pattern"))
            for m in matches:
                if os.path.isdir(m) and not os.path.islink(m):
                    yield from _walk(m, on_skip)
                elif (why := not_regular(m)) is None:
                    yield m
                else:
                    on_skip(m, why)
        else:
            raise UsageError(_("{path}: no such file or folder", path=raw),
                             hint=_("check the path; quote glob patterns if your shell expands them"))


def nonempty(files: Iterable[str]) -> Iterator[str]:
    """``files``, lazily; when there is none at all, a usage error (exit 2): paths that hold nothing
    to work on are a mistake in every command (validate, sign, verify, submit: issue 17), not a
    success. ``sohs run`` with an empty outbox is the nightly job's normal case and does not use this."""
    it = iter(files)
    first = next(it, None)
    if first is None:
        from sohs_cli.foundation.i18n import _

        raise UsageError(_("the paths hold no .xml file"),
                         hint=_("check the folders and patterns (folders are searched for *.xml)"))
    yield first
    yield from it
