"""Document kinds, their detection from the root element, and the two submission envelopes.

Kinds and roots come from CV 1245/BHXH-CNTT §3.5 (BHXH tables) and the QĐ 2062 checkup blocks
(DOMAIN.md §1.5, §4.2). An envelope (``GIAMDINHHS``, ``KHAMSUCKHOE``) holds one or more ``HOSO``;
each ``FILEHOSO`` carries one inner document as single-line base64 in ``NOIDUNGFILE``.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Iterator, Mapping, Sequence

import pybase64
from lxml import etree

from sohs_cli.foundation.errors import InputError, UsageError
from sohs_cli.foundation.i18n import _
from sohs_cli.foundation.plain import Frozen, Plain
from sohs_cli.foundation.xmlsafe import ParseLimits, parse_bytes

GIAMDINHHS = "GIAMDINHHS"
KHAMSUCKHOE = "KHAMSUCKHOE"
ENVELOPES = (GIAMDINHHS, KHAMSUCKHOE)

#: root element -> document kind (the LOAIHOSO it travels under)
BHXH_ROOTS: dict[str, str] = {
    "CHI_TIEU_TRANG_THAI_KCB": "XML0",
    "TONG_HOP": "XML1",
    "CHITIEU_CHITIET_THUOC": "XML2",
    "CHITIEU_CHITIET_DVKT_VTYT": "XML3",
    "CHITIEU_CHITIET_DICHVUCANLAMSANG": "XML4",
    "CHITIEU_CHITIET_DIENBIENLAMSANG": "XML5",
    "CHI_TIEU_HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS": "XML6",
    "CHI_TIEU_DU_LIEU_GIAY_RA_VIEN": "XML7",
    "CHI_TIEU_DU_LIEU_TOM_TAT_HO_SO_BENH_AN": "XML8",
    "CHI_TIEU_DU_LIEU_GIAY_CHUNG_SINH": "XML9",
    "CHI_TIEU_DU_LIEU_GIAY_NGHI_DUONG_THAI": "XML10",
    "CHI_TIEU_DU_LIEU_GIAY_CHUNG_NHAN_NGHI_VIEC_HUONG_BAO_HIEM_XA_HOI": "XML11",
    "CHI_TIEU_GIAM_DINH_YKHOA": "XML12",  # sent by its own service, not inside GIAMDINHHS (CV 3190 §4.4)
    "CHI_TIEU_GIAYCHUYENTUYEN": "XML13",
    "CHI_TIEU_GIAYHEN_KHAMLAI": "XML14",
    "CHI_TIEU_DIEUTRI_BENHLAO": "XML15",
}
#: QĐ 2062 checkup blocks: root -> LOAIHOSO inside KHAMSUCKHOE
KSK_ROOTS: dict[str, str] = {
    "THONG_TIN_HANH_CHINH": "XML1",
    "THONG_TIN_CHUNG_VE_LAN_KHAM": "XML2",
    "DANH_GIA_DAU_HIEU_SINH_TON": "XML3",
    "DANH_GIA_DINH_DUONG": "XML4",
    "DANH_GIA_PHAT_TRIEN_TINH_THAN_VAN_DONG": "XML5",
    "DANH_GIA_TIEM_CHUNG": "XML6",
    "KHAM_LAM_SANG": "XML7",
    "KET_LUAN_VA_TU_VAN": "XML8",
    "TIEN_SU_BENH_TAT": "XML9",
    "KHAM_THE_LUC": "XML10",
    "KHAM_CAN_LAM_SANG": "XML11",
    "KET_LUAN": "XML12",
}
KSK_LOAIHOSO_ROOT = {v: k for k, v in KSK_ROOTS.items()}
BHXH_LOAIHOSO_ROOT = {v: k for k, v in BHXH_ROOTS.items()}

#: Standards with shipped schemas. 3176 is what the portal runs since 2025-01-01.
STANDARDS = ("4750", "3176")
STANDARD_3176_FROM = dt.date(2025, 1, 1)
KSK_STANDARD = "2062"
#: BHXH kinds for which xsd/ ships a schema: every table of QĐ 4750 and QĐ 3176
SCHEMA_KINDS = tuple(f"XML{i}" for i in range(16))
#: where the records of a table are, below its root (every other table is one record, its root)
BHXH_RECORD_PATHS: dict[str, str] = {
    "XML0": "DSACH_TRANG_THAI_KCB/TRANG_THAI_KCB",
    "XML2": "DSACH_CHI_TIET_THUOC/CHI_TIET_THUOC",
    "XML3": "DSACH_CHI_TIET_DVKT/CHI_TIET_DVKT",
    "XML4": "DSACH_CHI_TIET_CLS/CHI_TIET_CLS",
    "XML5": "DSACH_CHI_TIET_DIEN_BIEN_BENH/CHI_TIET_DIEN_BIEN_BENH",
    "XML6": "DSACH_HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS/HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS",
    "XML9": "DSACH_GIAYCHUNGSINH/DU_LIEU_GIAY_CHUNG_SINH",
    "XML12": "DSACH_GIAM_DINH_YKHOA/GIAM_DINH_YKHOA",
    "XML15": "DSACH_CHITIET_DIEUTRI_BENHLAO/CHITIET_DIEUTRI_BENHLAO",
}



class Kind(Frozen):
    """What a root element says a document is."""

    __slots__ = ("family", "loaihoso", "name")

    def __init__(self, family: str, name: str, loaihoso: str | None) -> None:
        self.family = family  # "bhxh" | "ksk"
        self.name = name  # "GIAMDINHHS", "XML13", "KSK:XML12", …
        self.loaihoso = loaihoso  # for inner documents: the LOAIHOSO they travel under

    @property
    def is_envelope(self) -> bool:
        return self.name in ENVELOPES


#: root tag -> its kind, made once (a Kind is frozen: one object serves every document)
_KIND_OF: dict[str, Kind] = {
    **{tag: Kind("ksk", f"KSK:{loai}", loai) for tag, loai in KSK_ROOTS.items()},
    **{tag: Kind("bhxh", loai, loai) for tag, loai in BHXH_ROOTS.items()},  # a BHYT table wins a shared tag
    **{tag: Kind("ksk" if tag == KHAMSUCKHOE else "bhxh", tag, None) for tag in ENVELOPES},
}


def detect_kind(root: etree._Element) -> Kind | None:
    tag = root.tag
    return _KIND_OF.get(tag) if isinstance(tag, str) else None


def text_of(parent: etree._Element, name: str) -> str:
    # a plain name: the first child of that name, found by libxml2 (find() runs ElementPath in Python)
    node = next(parent.iterchildren(name), None) if name.isidentifier() else parent.find(name)
    return (node.text or "").strip() if node is not None else ""


def standard_for_date(ngay_ra: str) -> str | None:
    """QĐ 3176 applies to episodes ending from 2025-01-01 (synchronised deployment); earlier: 4750."""
    if len(ngay_ra) < 8 or not ngay_ra[:8].isdigit():
        return None
    try:
        day = dt.date(int(ngay_ra[:4]), int(ngay_ra[4:6]), int(ngay_ra[6:8]))
    except ValueError:
        return None
    return "3176" if day >= STANDARD_3176_FROM else "4750"


class InnerFile(Plain):
    """One FILEHOSO of an envelope, decoded (or the reason it could not be)."""

    __slots__ = ("data", "error", "hoso_index", "line", "loaihoso", "nested")

    def __init__(self, hoso_index: int, loaihoso: str, line: int, data: bytes | None, error: str | None = None,
                 nested: bool = False) -> None:
        self.hoso_index = hoso_index  # 1-based
        self.loaihoso = loaihoso
        self.line = line  # line of NOIDUNGFILE in the envelope
        self.data = data
        self.error = error
        self.nested = nested  # the block was XML inside NOIDUNGFILE (as QĐ 2062 prints it), not base64


class Hoso(Plain):
    __slots__ = ("files", "index", "line")

    def __init__(self, index: int, line: int, files: list[InnerFile] | None = None) -> None:
        self.index = index
        self.line = line
        self.files: list[InnerFile] = [] if files is None else files


def strict_base64(text: str | bytes | memoryview) -> bytes | None:
    """``text`` decoded when it is canonical base64 (the alphabet, whole quanta, "=" only as the last
    one or two characters), else None: no whitespace, no other character, no non-ASCII text.

    Decoded by pybase64 (SIMD: an export's 4 MB in under a millisecond, where binascii took 10 to 16
    ms, a tenth of validating it). Its ``validate=True`` is the canonical grammar exactly (tests
    compare it with the grammar and with binascii's strict mode, which needed the padding checked
    before it)."""
    try:
        return pybase64.b64decode(text, validate=True)
    except ValueError:  # binascii.Error (alphabet, padding) and non-ASCII text
        return None


def decode_noidungfile(text: str) -> bytes:
    """Strict base64: one line, no whitespace, canonical padding (CV 1245 §1.2 field quirks).

    Line breaks inside are refused: the portal answers such files with code 125 after signing.
    """
    data = strict_base64(text)
    if data is not None:
        return data
    if "\n" in text or "\r" in text:
        raise ValueError(_("base64 contains line breaks; it must be one unbroken line"))
    if " " in text or "\t" in text:
        raise ValueError(_("base64 contains spaces; it must be one unbroken line"))
    raise ValueError(_("not valid base64 (characters outside A-Z a-z 0-9 + / =, or bad padding)"))


_INNER_DECLARATION = re.compile(rb"(<NOIDUNGFILE>\s*)<\?xml\s[^<>]*?\?>")


def strip_inner_declarations(data: bytes) -> tuple[bytes, int]:
    """``data`` without the XML declarations that open nested NOIDUNGFILE blocks, and how many there were.

    The decision prints each nested block with its own ``<?xml …?>`` (QĐ 2062 PL02 §6), which is not
    well-formed XML: the checkup envelope is read without them, and the reader is told (a warning)."""
    if b"KHAMSUCKHOE" not in data[:4096] or data.find(b"<?xml", 40) < 0:  # find: no copy of a large file
        return data, 0
    return _INNER_DECLARATION.subn(rb"\1", data)


def iter_hoso(root: etree._Element, payloads: Mapping[etree._Element, bytes] | None = None) -> Iterator[Hoso]:
    """Walk DANHSACHHOSO/HOSO/FILEHOSO of an envelope, decoding each NOIDUNGFILE (``payloads``: those
    :func:`sohs_cli.documents.lean.parse_envelope_lean` decoded already, by element)."""
    lst = root.find("THONGTINHOSO/DANHSACHHOSO")
    if lst is None:
        return
    for i, hoso in enumerate(lst.iterchildren("HOSO"), start=1):
        item = Hoso(index=i, line=hoso.sourceline or 0)
        for fh in hoso.iterchildren("FILEHOSO"):
            # the children by name, as find() gives them (its path machinery cost a third of the walk)
            loai_el = next(fh.iterchildren("LOAIHOSO"), None)
            loai = (loai_el.text or "").strip() if loai_el is not None else ""
            content = next(fh.iterchildren("NOIDUNGFILE"), None)
            line = (content.sourceline if content is not None else fh.sourceline) or 0
            text = (content.text or "") if content is not None else ""
            children = [c for c in content if isinstance(c.tag, str)] if content is not None and len(content) \
                else []
            if children and content is not None and root.tag == KHAMSUCKHOE:
                # QĐ 2062 PL02 §6 prints each block as nested XML; vendors send base64. One element and
                # nothing else but layout is a block; the block is read as its own document.
                if len(children) == 1 and not text.strip() and not any((c.tail or "").strip() for c in content):
                    data = etree.tostring(children[0], encoding="utf-8", xml_declaration=False)
                    item.files.append(InnerFile(i, loai, line, data, nested=True))
                else:
                    item.files.append(InnerFile(i, loai, line, None, _("NOIDUNGFILE (Nội dung tệp) holds more "
                                                                       "than one block, or text beside the block")))
                continue
            payload = payloads.get(content) if payloads is not None and content is not None else None
            if payload is not None:
                item.files.append(InnerFile(i, loai, line, payload))
                continue
            try:
                item.files.append(InnerFile(i, loai, line, decode_noidungfile(text)))
            except ValueError as exc:
                item.files.append(InnerFile(i, loai, line, None, str(exc)))
        yield item


def parse_inner(data: bytes, source: str, limits: ParseLimits | None = None) -> etree._Element:
    return parse_bytes(data, source=source, limits=limits)


def hoso_roots(root: etree._Element, limits: ParseLimits | None = None) -> dict[int, dict[str, etree._Element]]:
    """The parsed inner documents of each HOSO of an envelope, by LOAIHOSO (undecodable ones left out)."""
    out: dict[int, dict[str, etree._Element]] = {}
    for hoso in iter_hoso(root):
        roots: dict[str, etree._Element] = {}
        for f in hoso.files:
            if f.data is None:
                continue
            try:
                roots[f.loaihoso] = parse_bytes(f.data, source=f.loaihoso, limits=limits)
            except InputError:
                continue
        out[hoso.index] = roots
    return out


def episode_keys(root: etree._Element, inner: dict[int, dict[str, etree._Element]] | None = None) -> list[str]:
    """MA_LK of each HOSO of an envelope (KSK: from block XML2), or of each row of a check-in file."""
    if root.tag == "CHI_TIEU_TRANG_THAI_KCB":
        return [text_of(r, "MA_LK") for r in root.findall("DSACH_TRANG_THAI_KCB/TRANG_THAI_KCB")]
    inner = hoso_roots(root) if inner is None else inner
    return [next((text_of(r, "MA_LK") for r in roots.values() if text_of(r, "MA_LK")), "") for roots in inner.values()]


# ---------------------------------------------------------------- pack / unpack


INNER_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>'


class PackedEnvelope(Frozen):
    __slots__ = ("data", "hoso_count", "ma_lk")

    def __init__(self, ma_lk: str, data: bytes, hoso_count: int) -> None:
        self.ma_lk, self.data, self.hoso_count = ma_lk, data, hoso_count


def pack(
    tables: Sequence[tuple[str, bytes]],
    *,
    facility: str,
    envelope: str = GIAMDINHHS,
    today: dt.date | None = None,
) -> PackedEnvelope:
    """Build one envelope (one HOSO) from inner documents ``(source, bytes)`` of a single episode.

    One HOSO per file is what the portal expects in practice (one ``maGiaoDich`` per file;
    DOMAIN.md §1.4). Tables are ordered by LOAIHOSO number; ``NOIDUNGFILE`` is one-line base64 of
    the bytes exactly as given.
    """
    if not re.fullmatch(r"[0-9A-Z]{5}" if envelope == GIAMDINHHS else r"[0-9A-Z]{5}|[0-9]{13}", facility):
        raise UsageError(
            _("--facility {facility} is not a facility code", facility=repr(facility)),
            hint=_("use the 5-character BHXH code, e.g. 01001") if envelope == GIAMDINHHS else
            _("use the 5-character BHXH code, e.g. 01001, or the 13-digit facility ID"),
        )
    entries: list[tuple[int, str, bytes]] = []
    ma_lks: set[str] = set()
    for source, data in tables:
        root = parse_bytes(data, source=source)
        kind = detect_kind(root)
        if kind is None or kind.is_envelope or kind.loaihoso is None:
            raise InputError(_("{file}: root <{root}> is not a table that goes inside {envelope}", file=source,
                               root=root.tag, envelope=envelope))
        if (kind.family == "ksk") != (envelope == KHAMSUCKHOE):
            raise InputError(_("{file}: a {family} table cannot go inside {envelope}", file=source,
                               family=kind.family.upper(), envelope=envelope))
        ma_lk = text_of(root, "MA_LK")  # KSK: only XML2 carries it
        if kind.name == "XML0":
            raise InputError(_("{file}: the check-in table XML0 is sent on its own, not inside {envelope}",
                               file=source, envelope=envelope))
        if ma_lk:
            ma_lks.add(ma_lk)
        entries.append((int(kind.loaihoso[3:]), kind.loaihoso, data))
    if len(ma_lks) > 1:
        raise InputError(
            _("tables of different episodes (MA_LK {ma_lks}) cannot share one HOSO", ma_lks=", ".join(sorted(ma_lks))),
            hint=_("use --out-dir to write one envelope per MA_LK"),
        )
    seen: set[str] = set()
    for _order, loai, _data in entries:
        if loai in seen:
            raise InputError(_("two {table} tables for the same episode; a HOSO holds one of each", table=loai))
        seen.add(loai)
    entries.sort()
    day = (today or dt.date.today()).strftime("%Y%m%d")
    files = "".join(
        f"<FILEHOSO><LOAIHOSO>{loai}</LOAIHOSO><NOIDUNGFILE>"
        f"{base64.b64encode(data).decode('ascii')}</NOIDUNGFILE></FILEHOSO>"
        for _, loai, data in entries
    )
    chuky = (
        "<CHUKYDONVI></CHUKYDONVI>"
        if envelope == GIAMDINHHS
        else "<CHUKYDONVI><CKS_NGUOI_KET_LUAN></CKS_NGUOI_KET_LUAN><CKS_BENH_VIEN></CKS_BENH_VIEN></CHUKYDONVI>"
    )
    xml = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<{envelope} xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
        f"<THONGTINDONVI><MACSKCB>{facility}</MACSKCB></THONGTINDONVI>"
        f"<THONGTINHOSO><NGAYLAP>{day}</NGAYLAP><SOLUONGHOSO>1</SOLUONGHOSO>"
        f"<DANHSACHHOSO><HOSO>{files}</HOSO></DANHSACHHOSO></THONGTINHOSO>"
        f"{chuky}</{envelope}>"
    )
    return PackedEnvelope(ma_lk=next(iter(ma_lks), ""), data=xml.encode("utf-8"), hoso_count=1)


_NOIDUNGFILE = re.compile(rb"(<NOIDUNGFILE(?:\s[^<>]*)?>)([^<]*)(</NOIDUNGFILE\s*>)")
_B64_SPACE = re.compile(rb"[ \t\r\n]+")


def repack(data: bytes, source: str) -> tuple[bytes, int]:
    """``data`` with every ``NOIDUNGFILE`` base64 on one line (line-wrapped base64 is what the portal
    refuses with 125, DOMAIN.md §1.2), and how many were rewritten. Only the whitespace inside the
    payloads is removed: every other byte stays as it was. A signed envelope is refused (the
    rewrite would break its signature), and so is a payload that is not base64 once unwrapped."""
    root = parse_bytes(data, source=source)
    if root.tag not in ENVELOPES:
        raise InputError(_("{file}: root <{root}> is not an envelope (GIAMDINHHS or KHAMSUCKHOE)", file=source,
                           root=root.tag))
    if any(el.tag == "{http://www.w3.org/2000/09/xmldsig#}Signature" for el in root.iter()):
        raise InputError(_("{file}: the envelope is signed; repacking it would break the signature", file=source),
                         hint=_("repack the unsigned export, then sign it"))
    changed = 0

    def one_line(m: re.Match[bytes]) -> bytes:
        nonlocal changed
        payload = _B64_SPACE.sub(b"", m.group(2))
        if payload != m.group(2):
            changed += 1
        return m.group(1) + payload + m.group(3)

    out = _NOIDUNGFILE.sub(one_line, data)
    for hoso in iter_hoso(parse_bytes(out, source=source)):
        for inner in hoso.files:
            if inner.data is None:
                raise InputError(_("{file} › HOSO {index} › {table} line {line}: {error}", file=source,
                                   index=hoso.index, table=inner.loaihoso, line=inner.line, error=inner.error),
                                 hint=_("the payload is not base64 even on one line: export it again"))
    return out, changed


def unpack(data: bytes, source: str) -> list[tuple[str, bytes]]:
    """The inner documents of an envelope as ``(file name, bytes)``: ``HOSO1_XML13.xml`` …"""
    root = parse_bytes(data, source=source)
    if root.tag not in ENVELOPES:
        raise InputError(_("{file}: root <{root}> is not an envelope (GIAMDINHHS or KHAMSUCKHOE)", file=source,
                           root=root.tag))
    from sohs_cli.foundation.filenames import NameBook, safe_stem

    names = NameBook()  # LOAIHOSO is content: made safe, and two XML1 of one HOSO never share a name
    out: list[tuple[str, bytes]] = []
    for hoso in iter_hoso(root):
        for inner in hoso.files:
            if inner.data is None:
                raise InputError(_("{file} › HOSO {index} › {table} line {line}: {error}", file=source,
                                   index=hoso.index, table=inner.loaihoso, line=inner.line, error=inner.error))
            out.append((names.claim(f"HOSO{hoso.index}_{safe_stem(inner.loaihoso, 'UNKNOWN')}").name, inner.data))
    return out
