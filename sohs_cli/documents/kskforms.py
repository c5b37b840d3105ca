"""The three checkup forms of QĐ 2062/QĐ-BYT Phụ lục 01, read from the field tables shipped in
``xsd/tables/ksk_2062_form*.csv`` (copied from the decision's transcription, shared/spec/ksk/).

* Form 1, children under 6; Form 2, from 6 to under 18; Form 3, 18 and over. The form is chosen by
  the age on the day of the checkup: ``NGAY_VAO`` (block XML2) against ``NGAY_SINH`` (block XML1).
* A form's table is in sections; the decision's example message (PL02 §6) carries each section as a
  block (``LOAIHOSO`` XML1…XML12, :data:`sohs_cli.documents.kinds.KSK_ROOTS`): Form 1 sections I–VIII are
  XML1–XML8; Forms 2 and 3 use XML1, XML2, then III Tiền sử → XML9, IV Khám thể lực → XML10,
  V Khám lâm sàng → XML7, VI Cận lâm sàng → XML11, VII Kết luận → XML12. The last section
  (Chữ ký số: ``CKS_*``) is the envelope's ``CHUKYDONVI``.
* Order inside a block: the decision prints no rule, so none is enforced (the schemas use
  ``xs:all``); README says so.

Dates are read as ``yyyymmdd[HHMM]`` (QĐ 3176) or, as the decision's example prints them,
``ddmmyyyy``.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import os
from dataclasses import dataclass

FORMS = (1, 2, 3)
FORM_FILES = {1: "ksk_2062_form1_under6.csv", 2: "ksk_2062_form2_6to18.csv", 3: "ksk_2062_form3_18plus.csv"}
FORM_NAMES_EN = {1: "Form 1 (children under 6)", 2: "Form 2 (6 to under 18)", 3: "Form 3 (18 and over)"}
FORM_NAMES_VI = {1: "Mẫu 1 (trẻ em dưới 6 tuổi)", 2: "Mẫu 2 (từ đủ 6 đến dưới 18 tuổi)",
                 3: "Mẫu 3 (từ đủ 18 tuổi trở lên)"}
SECTION_BLOCKS = {
    1: {"I": "XML1", "II": "XML2", "III": "XML3", "IV": "XML4", "V": "XML5", "VI": "XML6", "VII": "XML7",
        "VIII": "XML8", "IX": "CHUKYDONVI"},
    2: {"I": "XML1", "II": "XML2", "III": "XML9", "IV": "XML10", "V": "XML7", "VI": "XML11", "VII": "XML12",
        "VIII": "CHUKYDONVI"},
}
SECTION_BLOCKS[3] = SECTION_BLOCKS[2]


@dataclass(frozen=True)
class Field:
    element: str
    label_vi: str
    type: str  # string | number
    max_length: str  # an integer or "n"
    required: bool
    codes: tuple[str, ...]  # the codes of a coded field ("" none)
    explanation_en: str
    source: str  # pl01 | uncertain


def _tables_dir() -> str:
    from sohs_cli.documents.schemas import xsd_dir

    return os.path.join(xsd_dir(), "tables")


@functools.cache
def blocks(form: int, tables: str = "") -> dict[str, tuple[Field, ...]]:
    """LOAIHOSO (XML1…, CHUKYDONVI) -> the form's fields in that block, in the table's order."""
    path = f"{tables or _tables_dir()}/{FORM_FILES[form]}"
    out: dict[str, list[Field]] = {}
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            numeral = row["section"].split(" ", 1)[0]
            codes = tuple(c.split("=", 1)[0].strip() for c in row["codes"].split(";") if c.strip()) \
                if row["codes"] else ()
            out.setdefault(SECTION_BLOCKS[form][numeral], []).append(Field(
                row["element"], row["label_vi"], row["type"], row["max_length"], row["required"] == "yes", codes,
                row["explanation_en"], row["source"]))
    return {k: tuple(v) for k, v in out.items()}


@functools.cache
def block_fields(form: int, block: str) -> dict[str, Field]:
    return {f.element: f for f in blocks(form).get(block, ())}


def forms_with(block: str, element: str | None = None) -> list[int]:
    """The forms whose block ``block`` exists (and holds ``element``, when given)."""
    return [f for f in FORMS if block in blocks(f) and (element is None or element in block_fields(f, block))]


@functools.cache
def required_blocks(form: int) -> list[str]:
    """Blocks holding a required field of the form: a record of the form cannot lack them."""
    return [b for b, fields in blocks(form).items() if b != "CHUKYDONVI" and any(f.required for f in fields)]


def form_for_age(years: int) -> int:
    return 1 if years < 6 else 2 if years < 18 else 3


def parse_day(text: str) -> dt.date | None:
    """A date of ``yyyymmdd[HHMM]`` (QĐ 3176) or ``ddmmyyyy`` (the decision's example); None if neither."""
    text = text.strip()
    if not text.isascii() or not text.isdigit():
        return None
    if len(text) in (8, 12):  # yyyymmdd[HHMM]: all ASCII digits, sliced (a regex cost a third more)
        try:
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
        except ValueError:
            pass
    if len(text) == 8:
        try:
            return dt.date(int(text[4:]), int(text[2:4]), int(text[:2]))
        except ValueError:
            return None
    return None


def age_on(birth: dt.date, day: dt.date) -> int:
    """Full years of age on ``day`` ("đủ … tuổi")."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
