"""File names built from document content (an episode's ``MA_LK``, an inner file's ``LOAIHOSO``).

Content is input: ``../x``, ``/etc/cron.d/x``, ``..``, ``sub/dir/X``, a name of 300 bytes (100
Vietnamese characters are within ``MA_LK``'s 100-character limit and over the 255 bytes a file name
may have), ``CON`` on Windows, or two values that clean up to the same name. One mechanism for every
command that names a file after content (``sohs run``, ``pack --out-dir``, ``unpack``):

* :func:`safe_stem` keeps letters, digits, ``-``, ``_`` and inner dots, replaces every other
  character by ``_``, never starts with a dot, stays within :data:`MAX_STEM_BYTES` of UTF-8 and is
  never a Windows device name. When that changed the text, a short hash of the text is appended, so
  two different values never clean up to the same name (``a/b`` and ``a_b`` differ).
* :class:`NameBook` hands out names in one folder that neither exist there nor were handed out
  before (``X.xml``, ``X-1.xml`` …), compared case-insensitively as Windows and macOS do.

A name made here is always a single component inside its folder: nothing is written anywhere else.
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
from pathlib import Path

#: bytes of UTF-8 for a stem: with the longest suffix sohs adds (``-NN.signed.xml.errors.json``)
#: a name stays well within the 255 bytes of ext4, APFS and NTFS
MAX_STEM_BYTES = 120
_KEEP = "-_."
_WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def safe_stem(text: str, fallback: str = "unnamed") -> str:
    """A file name stem for ``text``: the text itself when it is already safe, else a cleaned,
    bounded form with a hash of the text appended (see the module docstring)."""
    original = text
    text = unicodedata.normalize("NFC", text.strip())
    cleaned = "".join(c if (c.isalnum() or c in _KEEP) and c.isprintable() else "_" for c in text)
    cleaned = cleaned.lstrip(".").rstrip(". ")
    if cleaned.split(".")[0].upper() in _WINDOWS_DEVICES:
        cleaned = "_" + cleaned
    if cleaned == original and cleaned and len(cleaned.encode("utf-8")) <= MAX_STEM_BYTES:
        return cleaned
    tag = hashlib.sha256(original.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    room = MAX_STEM_BYTES - len(tag) - 1
    head = cleaned.encode("utf-8")[:room].decode("utf-8", "ignore").rstrip(". ") or fallback
    return f"{head}~{tag}"


class NameBook:
    """Unique names in one folder: never an existing file, never one handed out before. With no
    folder, names are only unique among themselves (a list of names to write later)."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder
        self._taken: set[str] = set()

    def claim(self, stem: str, suffix: str = ".xml", also: tuple[str, ...] = ()) -> Path:
        """``folder/stem+suffix``, or ``stem-N+suffix`` when that is taken. ``also``: suffixes of
        companions that must be free too (``.tables`` beside an envelope)."""
        n = 0
        while True:
            name = stem if n == 0 else f"{stem}-{n}"
            wanted = [name + suffix, *(name + s for s in also)]
            if not any(w.casefold() in self._taken or self._exists(w) for w in wanted):
                self._taken.update(w.casefold() for w in wanted)
                return (self.folder or Path()) / wanted[0]
            n += 1

    def _exists(self, name: str) -> bool:
        return self.folder is not None and os.path.lexists(self.folder / name)
