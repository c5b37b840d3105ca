"""Splitting a partly invalid envelope: the valid episodes in an envelope of their own, the invalid
ones in another, each with the list of its episodes (issue 14: one bad HOSO must not hold back the
other hundred).

Used by ``sohs run`` (the valid part is sent, the invalid part filed in ``rejected/``) and by
``sohs validate --split-valid DIR``. Only a ``GIAMDINHHS`` whose every error belongs to one of its
HOSO can be split; an error of the envelope itself (``MACSKCB``, its structure) concerns them all.
``SOLUONGHOSO`` is recounted in each part, so a wrong count is no obstacle. Each part keeps the
envelope's other content as it was (``THONGTINDONVI``, ``NGAYLAP``, every ``FILEHOSO`` of the HOSO
it keeps, byte for byte in ``NOIDUNGFILE``); a signature is dropped from both parts (splitting
changes the signed content: sohs signs each part again).
"""

from __future__ import annotations

import copy
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from sohs_cli.documents.kinds import GIAMDINHHS, hoso_roots, text_of
from sohs_cli.foundation.xmlsafe import ParseLimits, parse_bytes
from sohs_cli.validation.report import FileReport, Finding

_HOSO = re.compile(r" › HOSO (\d+)(?= |$)")
#: envelope-level findings a split repairs (each part recounts SOLUONGHOSO)
REPAIRED = frozenset({"envelope-count"})


@dataclass(frozen=True)
class Episode:
    index: int  # 1-based position of the HOSO in the original envelope
    ma_lk: str
    errors: tuple[Finding, ...] = ()


@dataclass
class Split:
    valid: bytes  # an envelope of the valid episodes
    invalid: bytes  # an envelope of the invalid ones
    valid_episodes: list[Episode] = field(default_factory=list)
    invalid_episodes: list[Episode] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        """What went where, for an errors.json and the run's log: every episode by its MA_LK."""
        return {
            "valid_episodes": [{"hoso": e.index, "ma_lk": e.ma_lk} for e in self.valid_episodes],
            "invalid_episodes": [{"hoso": e.index, "ma_lk": e.ma_lk, "errors": [f.to_dict() for f in e.errors]}
                                 for e in self.invalid_episodes],
        }


def hoso_of(finding: Finding) -> int | None:
    m = _HOSO.search(finding.location or "") or _HOSO.search(finding.message_en)
    return int(m.group(1)) if m else None


def split_envelope(data: bytes, report: FileReport, limits: ParseLimits | None = None) -> Split | None:
    """The two parts of an envelope whose errors all belong to some of its HOSO, or None when it
    cannot be split (not a GIAMDINHHS, valid, every episode invalid, or an error of the envelope)."""
    if report.kind != GIAMDINHHS or report.valid:
        return None
    if report.stopped or report.omitted:  # checked in part (--max-findings): a HOSO not checked is not valid
        return None
    bad: dict[int, list[Finding]] = {}
    for f in report.errors:
        index = hoso_of(f)
        if index is None:
            if f.code in REPAIRED:
                continue
            return None  # the envelope itself is wrong: every episode shares it
        bad.setdefault(index, []).append(f)
    root = parse_bytes(data, source=report.path, limits=limits)
    lst = root.find("THONGTINHOSO/DANHSACHHOSO")
    hosos = [] if lst is None else lst.findall("HOSO")
    if not bad or len(bad) >= len(hosos):
        return None
    keys = _ma_lk(root, limits)
    valid = [Episode(i, keys.get(i, "")) for i in range(1, len(hosos) + 1) if i not in bad]
    invalid = [Episode(i, keys.get(i, ""), tuple(bad[i])) for i in sorted(bad)]
    return Split(_part(root, {e.index for e in valid}), _part(root, {e.index for e in invalid}), valid, invalid)


def _ma_lk(root: etree._Element, limits: ParseLimits | None) -> dict[int, str]:
    out = {}
    for index, tables in hoso_roots(root, limits).items():
        out[index] = next((text_of(r, "MA_LK") for r in tables.values() if text_of(r, "MA_LK")), "")
    return out


def _part(root: etree._Element, keep: set[int]) -> bytes:
    part = copy.deepcopy(root)
    lst = part.find("THONGTINHOSO/DANHSACHHOSO")
    assert lst is not None
    for index, hoso in enumerate(lst.findall("HOSO"), start=1):
        if index not in keep:
            _remove(hoso)
    count = part.find("THONGTINHOSO/SOLUONGHOSO")
    if count is not None:
        count.text = str(len(keep))
    slot = part.find("CHUKYDONVI")
    if slot is not None:  # the signature covered the whole envelope: the part is signed anew
        for child in list(slot):
            slot.remove(child)
        slot.text = None
    body: bytes = etree.tostring(part, encoding="utf-8")
    return b'<?xml version="1.0" encoding="utf-8"?>\r\n' + body


def _remove(el: etree._Element) -> None:
    """Remove an element with the layout whitespace after it (its tail), keeping the file tidy."""
    parent = el.getparent()
    assert parent is not None
    prev = el.getprevious()
    if el.tail and el.tail.strip() == "" and prev is not None:
        pass  # the previous sibling's tail already lays out the next element
    elif el.tail:
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


@dataclass(frozen=True)
class Written:
    source: str
    valid: str  # path of the valid part
    invalid: str  # path of the invalid part (its errors beside it, ``.errors.json``)
    split: Split


def split_to_folder(path: str, report: FileReport, folder: str, limits: ParseLimits | None = None) -> Written | None:
    """``sohs validate --split-valid DIR``: write the two parts of ``path`` into ``folder`` as
    ``NAME.valid.xml`` and ``NAME.invalid.xml`` (with ``NAME.invalid.xml.errors.json``); None when
    the file cannot be split. Names come from the file's own name, made safe; never overwrites."""
    from sohs_cli.foundation.fileio import atomic_write, read_file
    from sohs_cli.foundation.filenames import NameBook, safe_stem

    data = read_file(path, (limits or ParseLimits()).max_bytes)
    split = split_envelope(data, report, limits)
    if split is None:
        return None
    os.makedirs(folder, exist_ok=True)
    book = NameBook(Path(folder))
    stem = safe_stem(os.path.splitext(os.path.basename(path))[0])
    valid = book.claim(f"{stem}.valid", ".xml")
    invalid = book.claim(f"{stem}.invalid", ".xml", also=(".xml.errors.json",))
    atomic_write(str(valid), split.valid)
    atomic_write(str(invalid), split.invalid)
    atomic_write(str(invalid) + ".errors.json", json.dumps(
        {"file": os.path.basename(path), "outcome": "split", "valid_part": valid.name, **split.summary()},
        ensure_ascii=False, indent=1).encode("utf-8"))
    return Written(path, str(valid), str(invalid), split)
