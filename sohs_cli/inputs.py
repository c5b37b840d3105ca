"""Turn command-line PATH arguments into an ordered stream of files.

Files as given; directories walked recursively for ``*.xml`` (sorted, so runs are reproducible);
glob patterns expanded here too (cron and CI often pass them quoted); ``-`` is standard input;
``--from-list FILE`` adds one path per line (``#`` comments and blank lines ignored).
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Iterator

from sohs_cli.errors import UsageError

GLOB_CHARS = set("*?[")


def _walk(directory: str) -> Iterator[str]:
    for dirpath, dirnames, filenames in os.walk(directory):
        dirnames.sort()
        for name in sorted(filenames):
            if name.lower().endswith(".xml") and not name.startswith("."):
                yield os.path.join(dirpath, name)


def read_list(list_file: str) -> list[str]:
    try:
        with open(list_file, encoding="utf-8") as fh:
            return [ln.strip() for ln in fh if ln.strip() and not ln.lstrip().startswith("#")]
    except OSError as exc:
        raise UsageError(f"--from-list {list_file}: cannot read: {exc.strerror}") from None


def expand(paths: Iterable[str]) -> Iterator[str]:
    """Yield every file to process, in a deterministic order; a path that names nothing is a usage error."""
    for raw in paths:
        if raw == "-":
            yield raw
        elif os.path.isdir(raw):
            yield from _walk(raw)
        elif os.path.exists(raw):
            yield raw
        elif GLOB_CHARS & set(raw):
            matches = sorted(glob.glob(raw, recursive=True))
            if not matches:
                raise UsageError(f"{raw}: the pattern matches no file", hint="check the folder and the pattern")
            for m in matches:
                yield from (_walk(m) if os.path.isdir(m) else [m])
        else:
            raise UsageError(f"{raw}: no such file or folder (không tìm thấy tệp)",
                             hint="check the path; quote glob patterns if your shell expands them")
