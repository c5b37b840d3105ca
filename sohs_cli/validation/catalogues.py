"""National catalogues (danh mục) given with ``sohs validate --catalogue DIR``.

The portal checks codes against national catalogues: the sheet's "Check Danh mục" (``MA_KHOA``,
``MA_DOITUONG_KCB``) and, in its "Như 4210" rows, the catalogues QĐ 4210 already checked: ICD-10
diagnoses, drugs, technical services, medical supplies and facilities. Offline, sohs checks only
the codes' form (``icd10-shape``, the schemas' patterns, the forms below); with a folder of
catalogue files it checks the codes themselves.

Format, every catalogue alike: one CSV file per catalogue, named as in ``FILES`` (``ICD10.csv``,
``MA_THUOC.csv``, ``MA_DICH_VU.csv``, ``MA_VAT_TU.csv``, ``MA_CSKCB.csv``, ``MA_KHOA.csv``,
``MA_DOITUONG_KCB.csv``); UTF-8 with or without a byte-order mark; comma-separated, quoted as
spreadsheets write it; a header row with a ``code`` column (any case; other columns, such as
``name``, are ignored); one code a row; blank rows skipped. A catalogue that is absent stays a form
check. The files are read once, when the run starts and before any file is reported, a line at a
time, at most ``MAX_BYTES`` and ``MAX_CODES`` each; only the codes are kept. A file that cannot be
read as such is a ``CatalogueError`` (exit 3: a configuration problem) naming the file and the line.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from sohs_cli.foundation.errors import ConfigError
from sohs_cli.foundation.i18n import N_, _
from sohs_cli.validation.report import Finding
from sohs_cli.validation.rulebase import Doc, Rule, rule

if TYPE_CHECKING:
    from pathlib import Path

#: catalogue -> the form of its codes (an inference from the published lists: checked as a warning)
FORMS: dict[str, re.Pattern[str]] = {
    "MA_DOITUONG_KCB": re.compile(r"[0-9]{1,2}(\.[0-9]{1,2})?"),  # "1", "3.1", "1.10" (Bộ mã DMDC)
    "MA_KHOA": re.compile(r"K[0-9]{2}(\.?[0-9A-Z]{1,4})?"),  # K01 … K48 (QĐ 5937/QĐ-BYT PL5)
}
MAX_BYTES = 64 * 1024 * 1024
MAX_CODES = 1_000_000

Catalogues = Mapping[str, frozenset[str]]


class CatalogueError(ConfigError):
    pass


# ------------------------------------------------------------------ the catalogues and their fields

ICD10_CODE = re.compile(r"[A-Z][0-9]{2}(\.?[0-9]{1,4}[A-Z]?)?")
_DAGGER = "*†+"  # ICD-10 lists mark dagger and asterisk codes; the data carry the code alone


class Catalogue:
    """One national catalogue: the rule that checks it, the fields it covers and how codes are read.
    (A plain class: a dataclass costs a millisecond of start-up to create, and sohs validate starts
    once per batch.)"""

    __slots__ = ("fields", "file", "form", "rule_id", "separator", "what_en", "what_vi")

    def __init__(self, file: str, rule_id: str, what_en: str, what_vi: str, fields: Mapping[str, tuple[str, ...]],
                 separator: str = ";", form: re.Pattern[str] | None = None) -> None:
        self.file = file  # "ICD10": DIR/ICD10.csv
        self.rule_id = rule_id  # "" for the sheet's own catalogue rules (portal_rules: XML3.MA_KHOA.catalogue …)
        self.what_en, self.what_vi = what_en, what_vi
        self.fields = fields  # table -> its fields holding codes of this catalogue
        self.separator = separator  # between the codes of one field
        self.form = form  # every code of the file has this form (a wrong file is refused)


FILES: dict[str, Catalogue] = {c.file: c for c in (
    Catalogue("ICD10", "catalogue-icd10", "ICD-10 diagnosis codes", "mã bệnh ICD-10",
              {"XML1": ("MA_BENH_CHINH", "MA_BENH_KT"), "XML3": ("MA_BENH",),
               "XML13": ("MA_BENH_CHINH", "MA_BENH_KT"), "XML14": ("MA_BENH_CHINH", "MA_BENH_KT")},
              form=re.compile(ICD10_CODE.pattern + "[*†+]?")),
    Catalogue("MA_THUOC", "catalogue-drug", "drug codes (active ingredients, DMDC)", "mã thuốc (hoạt chất, DMDC)",
              {"XML0": ("MA_THUOC",), "XML2": ("MA_THUOC",)}, separator="+"),
    Catalogue("MA_DICH_VU", "catalogue-service", "technical-service codes (DMDC)", "mã dịch vụ kỹ thuật (DMDC)",
              {"XML0": ("MA_DICH_VU",), "XML2": ("MA_DICH_VU",), "XML3": ("MA_DICH_VU",), "XML4": ("MA_DICH_VU",)}),
    Catalogue("MA_VAT_TU", "catalogue-supply", "medical-supply codes", "mã vật tư y tế",
              {"XML0": ("MA_VAT_TU",), "XML3": ("MA_VAT_TU",)}),
    Catalogue("MA_CSKCB", "catalogue-facility", "facility codes", "mã cơ sở KBCB",
              {"XML0": ("MA_CSKCB", "MA_DKBD"), "XML1": ("MA_CSKCB", "MA_DKBD", "MA_NOI_DI", "MA_NOI_DEN"),
               "XML6": ("MA_CSKCB",), "XML13": ("MA_CSKCB", "MA_NOI_DI", "MA_NOI_DEN", "MA_CSKCB_DI", "MA_CSKCB_DEN"),
               "XML14": ("MA_CSKCB",), "XML15": ("MA_CSKCB",)}, form=re.compile(r"[0-9A-Z]{5}")),
    Catalogue("MA_KHOA", "", "department codes", "mã khoa", {"XML3": ("MA_KHOA",)}),
    Catalogue("MA_DOITUONG_KCB", "", "patient-category codes", "mã đối tượng KCB", {"XML0": ("MA_DOITUONG_KCB",)}),
)}

# What the decisions allow beside a catalogue code (field tables' notes, QĐ 4750 / QĐ 3176):
_SERVICE_SUFFIX = re.compile(r"(_GT|_TB|_TT|\.K\.[0-9A-Z]{5})$")  # anaesthesia, stopped, unpriced; another facility
_UNPRICED = re.compile(r"([0-9A-Z]+\.[0-9A-Z]+)\.0000")  # XX.YYYY.0000: an approved service without a price
_BLOOD_TESTS = re.compile(r"\.(KTNAT|KT|NAT)$")  # blood products with antibody and/or NAT tests added
_OUTSIDE_LIST = re.compile(r"[0-9]{4}\..+")  # YYYY.SĐK: an ingredient outside the BHYT list (year.registration)
_SUPPLIER = re.compile(r"\.K[0-9A-Z]{5}$")  # a blood-separation kit with the supplying facility appended
_TEMPORARY_CARD = re.compile(r"[0-9]{2}000")  # MA_DKBD of a temporary card: province code + 000


def normalised(file: str, code: str) -> str:
    """How a code is compared: ICD-10 without its dot and dagger/asterisk mark (J18.9 = J189)."""
    if file == "ICD10":
        return code.rstrip(_DAGGER).replace(".", "")
    return code


def _known(file: str, table: str, element: str, code: str, codes: frozenset[str], prefixes: frozenset[str]) -> bool:
    """Whether ``code`` (one code of a field) is in the catalogue, or a form the decision allows beside it."""
    if normalised(file, code) in codes:
        return True
    if file == "MA_DICH_VU":
        base = _SERVICE_SUFFIX.sub("", code)
        unpriced = _UNPRICED.fullmatch(base)
        return base in codes or (unpriced is not None and unpriced.group(1) in prefixes)
    if file == "MA_THUOC":
        if table == "XML0" and code == "00.0000":  # a drug outside the BHYT list (QĐ 4750 check-in table)
            return True
        return _BLOOD_TESTS.sub("", code) in codes or _OUTSIDE_LIST.fullmatch(code) is not None
    if file == "MA_VAT_TU":
        return _SUPPLIER.sub("", code) in codes
    if file == "MA_CSKCB" and element == "MA_DKBD":
        return _TEMPORARY_CARD.fullmatch(code) is not None
    return False


@functools.lru_cache(maxsize=4)
def _prefixes(codes: frozenset[str]) -> frozenset[str]:
    """The ``XX.YYYY`` of every ``XX.YYYY.ZZZZ`` service code (a frozenset hashes once: a cheap key)."""
    return frozenset(c.rsplit(".", 1)[0] for c in codes if c.count(".") >= 2)


def _checked_elsewhere(cat: Catalogue, table: str, code: str) -> bool:
    """A code whose form is wrong is reported by the form's rule (icd10-shape, the schema's pattern)."""
    if cat.file == "ICD10":
        return table != "XML3" and not ICD10_CODE.fullmatch(code)  # icd10-shape: not XML3.MA_BENH
    if cat.file in ("MA_THUOC", "MA_DICH_VU", "MA_VAT_TU"):  # catalogue-code-form
        return _NOT_IN_A_CODE.search(code) is not None
    return cat.form is not None and not cat.form.fullmatch(code)


def _catalogue_rule(cat: Catalogue) -> None:
    tables = tuple(cat.fields)
    reads = sorted({f for names in cat.fields.values() for f in names})

    @rule(cat.rule_id, "error", f"Codes are in the national catalogue of {cat.what_en} (with --catalogue DIR: "
          f"{cat.file}.csv)", f"Mã thuộc danh mục {cat.what_vi} (khi có --catalogue DIR: {cat.file}.csv)",
          kinds=tables, reads=reads, needs=cat.file)
    def check(r: Rule, doc: Doc) -> Iterator[Finding]:
        codes = doc.catalogues.get(cat.file) if doc.catalogues else None
        if codes is None:
            return
        prefixes = _prefixes(codes) if cat.file == "MA_DICH_VU" else frozenset()
        names = cat.fields.get(doc.kind, ())
        for row, rec in enumerate(doc.rows):
            for name in names:
                text = rec.get(name)
                if not text or not (text := text.strip()):
                    continue
                for code in text.split(cat.separator):
                    code = code.strip()
                    if not code or _checked_elsewhere(cat, doc.kind, code):
                        continue
                    if not _known(cat.file, doc.kind, name, code, codes, prefixes):
                        yield r.finding(doc, name, f"'{code}' is not in the catalogue {cat.file}.csv",
                                        f"'{code}' không có trong danh mục {cat.file}.csv", row=row, found=code,
                                        expected=f"a code of {cat.file}.csv",
                                        hint=N_("use a code of {catalogue}.csv, or update the catalogue"),
                                        hint_fields={"catalogue": cat.file})


for _cat in FILES.values():
    if _cat.rule_id:
        _catalogue_rule(_cat)


# The form of the codes of the catalogues that have no published grammar (drugs, services, supplies),
# checked offline: table -> field -> the separator allowed between its codes ("" : one code only).
FORM_FIELDS: dict[str, dict[str, str]] = {
    "XML0": {"MA_THUOC": "+", "MA_DICH_VU": "", "MA_VAT_TU": ""},
    "XML2": {"MA_THUOC": "+", "MA_DICH_VU": ";"},  # ingredients of a preparation by +; services by ;
    "XML3": {"MA_DICH_VU": "", "MA_VAT_TU": ""},
    "XML4": {"MA_DICH_VU": ""},
}
_NOT_IN_A_CODE = re.compile(r"[\s,;+]")


def _form_problem(text: str, separator: str) -> tuple[str, str] | None:
    """What makes ``text`` no code (or no list of codes joined by ``separator``), in en and vi; None if nothing."""
    parts = text.split(separator) if separator else [text]
    for part in parts:
        if not part:
            return "an empty code between separators", "một mã trống giữa hai dấu phân cách"
        bad = _NOT_IN_A_CODE.search(part)
        if bad is not None:
            if bad.group().isspace():
                return "a space inside a code", "có khoảng trắng trong mã"
            return f"'{bad.group()}' inside a code", f"có '{bad.group()}' trong mã"
    return None


@rule("catalogue-code-form", "warning", "Drug, service and supply codes are codes (catalogue: not checked offline)",
      "Mã thuốc, dịch vụ, vật tư đúng dạng mã (chưa đối chiếu danh mục)", kinds=tuple(FORM_FIELDS),
      reads=sorted({f for names in FORM_FIELDS.values() for f in names}))
def _code_form(r: Rule, doc: Doc) -> Iterator[Finding]:
    """Offline, the catalogue codes that have no published grammar are checked for what no code holds:
    a space, a comma, a separator the field does not use, an empty code. A warning: the form is an
    inference; ``--catalogue DIR`` checks the code itself."""
    fields = FORM_FIELDS.get(doc.kind, {})
    for row, rec in enumerate(doc.rows):
        for name, separator in fields.items():
            text = rec.get(name)
            if not text or not (text := text.strip()):
                continue
            problem = _form_problem(text, separator)
            if problem is not None:
                joined = f"codes joined by '{separator}'" if separator else "one code"
                joined_vi = f"các mã nối bằng '{separator}'" if separator else "một mã"
                yield r.finding(doc, name, f"'{text}' is not {joined}: {problem[0]}",
                                f"'{text}' không phải {joined_vi}: {problem[1]}", row=row, found=text,
                                expected=joined, hint=N_("write the code as the catalogue has it, without spaces; "
                                                         "several services are separated by ';', the ingredients "
                                                         "of a preparation by '+'"))


def covering(table: str, element: str) -> Catalogue | None:
    """The catalogue that a field's codes belong to, if sohs checks one."""
    for cat in FILES.values():
        if element in cat.fields.get(table, ()):
            return cat
    return None


# ------------------------------------------------------------------ reading the files


def load(folder: str) -> dict[str, frozenset[str]]:
    """The catalogues found in ``folder`` (only the files named in ``FILES`` are read)."""
    from pathlib import Path  # here: only --catalogue reads files (start-up, issue 14)

    base = Path(folder)
    if not base.is_dir():
        raise CatalogueError(_("--catalogue {folder}: not a folder", folder=folder),
                             hint=_("give a folder holding ICD10.csv, MA_THUOC.csv, MA_DICH_VU.csv …"))
    out: dict[str, frozenset[str]] = {}
    for name in FILES:
        path = base / f"{name}.csv"
        if path.is_file():
            out[name] = _read(path, FILES[name])
    if not out:
        raise CatalogueError(_("--catalogue {folder}: no catalogue file in it", folder=folder),
                             hint=_("expected {names}", names=", ".join(f"{n}.csv" for n in FILES)))
    return out


def _lines(path: Path) -> Iterator[str]:
    """The file's lines as text, UTF-8 (a BOM dropped), at most ``MAX_BYTES``."""
    size = 0
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            size += len(raw)
            if size > MAX_BYTES:
                raise CatalogueError(_("{file}: larger than {mb} MB", file=str(path), mb=MAX_BYTES // (1024 * 1024)),
                                     hint=_("keep only the code and name columns"))
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                raise CatalogueError(_("{file}, line {line}: not UTF-8", file=str(path), line=number),
                                     hint=_("save the catalogue as UTF-8 CSV")) from None


def _read(path: Path, cat: Catalogue) -> frozenset[str]:
    try:
        rows = csv.reader(_lines(path), strict=True)
        header = [h.strip().lower() for h in next(rows, [])]
        if "code" not in header:
            raise CatalogueError(_("{file}, line 1: no 'code' column in its header row", file=str(path)),
                                 hint=_("the first row names the columns: code,name"))
        col = header.index("code")
        codes: set[str] = set()
        for row in rows:
            if not any(cell.strip() for cell in row):
                continue  # a blank row
            line = rows.line_num
            code = row[col].strip() if len(row) > col else ""
            bad = _bad_code(code, cat)
            if bad:
                raise CatalogueError(_("{file}, line {line}: {problem}", file=str(path), line=line, problem=bad),
                                     hint=_("one code a row, in the 'code' column"))
            codes.add(normalised(cat.file, code))
            if len(codes) > MAX_CODES:
                raise CatalogueError(_("{file}: more than {count} codes", file=str(path), count=f"{MAX_CODES:,}"))
    except csv.Error as exc:
        raise CatalogueError(_("{file}, line {line}: not a CSV file ({problem})", file=str(path),
                               line=rows.line_num, problem=str(exc))) from None
    if not codes:
        raise CatalogueError(_("{file}: holds no code", file=str(path)), hint=_("the first row names the columns: "
                                                                               "code,name"))
    return frozenset(codes)


def _bad_code(code: str, cat: Catalogue) -> str:
    """What is wrong with one code of a catalogue file, or ""."""
    if not code:
        return _("no code in the 'code' column")
    if not code.isprintable() or any(c.isspace() or c in ",;" for c in code):
        return _("'{code}' is not one code (spaces or separators inside)", code=code[:40])
    if len(code) > 255:
        return _("a code of {length} characters (at most 255)", length=len(code))
    if cat.form is not None and not cat.form.fullmatch(code):
        return _("'{code}' is not a code of {file}.csv", code=code[:40], file=cat.file)
    return ""
