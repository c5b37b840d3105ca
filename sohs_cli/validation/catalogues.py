"""National catalogues (danh mục) given with ``sohs validate --catalogue DIR``.

The portal checks some codes against national catalogues (the sheet's "Check Danh mục"). Offline,
sohs checks only their form; with a folder of catalogue files it checks the codes themselves.

Format: one CSV file per catalogue, named after it (``MA_KHOA.csv``, ``MA_DOITUONG_KCB.csv``), UTF-8
(a byte-order mark is allowed), comma-separated, a header row with a ``code`` column (other columns,
such as ``name``, are ignored), one code a row. A catalogue that is absent stays a form check; a
file that cannot be read as such is a ``CatalogueError`` (exit 3) naming the file and what is wrong.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from pathlib import Path

from sohs_cli.errors import ConfigError

#: catalogue -> the form of its codes (an inference from the published lists: checked as a warning)
FORMS: dict[str, re.Pattern[str]] = {
    "MA_DOITUONG_KCB": re.compile(r"[0-9]{1,2}(\.[0-9]{1,2})?"),  # "1", "3.1", "1.10" (Bộ mã DMDC)
    "MA_KHOA": re.compile(r"K[0-9]{2}(\.?[0-9A-Z]{1,4})?"),  # K01 … K48 (QĐ 5937/QĐ-BYT PL5)
}
MAX_BYTES = 64 * 1024 * 1024

Catalogues = Mapping[str, frozenset[str]]


class CatalogueError(ConfigError):
    pass


def load(folder: str) -> dict[str, frozenset[str]]:
    """The catalogues found in ``folder`` (only the names in ``FORMS`` are read)."""
    base = Path(folder)
    if not base.is_dir():
        raise CatalogueError(f"--catalogue {folder}: not a folder",
                             hint="give a folder holding MA_KHOA.csv, MA_DOITUONG_KCB.csv …")
    out: dict[str, frozenset[str]] = {}
    for name in FORMS:
        path = base / f"{name}.csv"
        if path.is_file():
            out[name] = _read(path)
    if not out:
        raise CatalogueError(f"--catalogue {folder}: no catalogue file in it",
                             hint="expected " + ", ".join(f"{n}.csv" for n in FORMS))
    return out


def _read(path: Path) -> frozenset[str]:
    data = path.read_bytes()[:MAX_BYTES + 1]
    if len(data) > MAX_BYTES:
        raise CatalogueError(f"{path}: larger than {MAX_BYTES // (1024 * 1024)} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CatalogueError(f"{path}: not UTF-8 (byte {exc.start + 1})",
                             hint="save the catalogue as UTF-8 CSV") from None
    try:
        rows = csv.reader(io.StringIO(text, newline=""))
        header = [h.strip().lower() for h in next(rows, [])]
        if "code" not in header:
            raise CatalogueError(f"{path}: no 'code' column in its header row",
                                 hint="the first row names the columns: code,name")
        col = header.index("code")
        codes = frozenset(r[col].strip() for r in rows if len(r) > col and r[col].strip())
    except csv.Error as exc:
        raise CatalogueError(f"{path}: not a CSV file ({exc})") from None
    if not codes:
        raise CatalogueError(f"{path}: holds no code")
    return codes
