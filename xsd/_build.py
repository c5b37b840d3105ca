"""Write the XSDs in this folder from the field tables in ``tables/``.

Run ``python xsd/_build.py`` after changing a table; the output is committed. The tables are the
source (see ``tables/SOURCES.md``): names and order, "Chuỗi"/"Số", maximum lengths, the portal's
required flags, formats and closed code lists. ``tests/unit/test_xsd_tables.py`` reads the written
XSDs back with ``xmlschema`` and proves they still say what the tables say.

Conventions (QĐ 4750 conventions as the HIS exports them):

* every element is an ``xs:string`` restriction, so lengths count characters (``Nguyễn`` is 6);
  "Số" fields get a numeric pattern instead of ``xs:decimal`` because an optional number may be empty;
* required (portal flag "x") = ``minOccurs=1`` and a non-blank value; optional = absent or empty;
* closed code lists become enumerations (plus ``""`` when optional); national catalogues (ICD-10,
  administrative units) are checked by shape in the business rules, not here.
"""

from __future__ import annotations

import csv
import dataclasses
import re
import sys
from pathlib import Path
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent
TABLES = HERE / "tables"
sys.path.insert(0, str(HERE.parent))  # the checkup forms' reader is sohs's own (one reading of the tables)
from sohs_cli.documents import kskforms  # noqa: E402
from sohs_cli.documents.kinds import KSK_LOAIHOSO_ROOT  # noqa: E402

DATE_TIME = r"[0-9]{4}(0[0-9]|1[0-2])([0-2][0-9]|3[01])([01][0-9]|2[0-3])[0-5][0-9]"
DATE = r"[0-9]{4}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])"
DECIMAL = r"-?[0-9]+(\.[0-9]+)?"
INTEGER = r"[0-9]+"
FACILITY = r"[0-9A-Z]{5}"
NON_BLANK = r"[\s\S]*\S[\s\S]*"


def read_csv(name: str) -> list[dict[str, str]]:
    with open(TABLES / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


LABELS = {r["element"]: r["label_vi"] for r in read_csv("labels_vi.csv")}
CODE_LISTS: dict[str, list[str]] = {}
for _row in read_csv("code_lists.csv") + read_csv("code_lists_more.csv"):
    CODE_LISTS.setdefault(_row["list"], []).append(_row["code"])


def semi(pattern: str) -> str:
    return f"{pattern}(;{pattern})*"


def codes_for(fmt: str) -> list[str] | None:
    """Closed code list of a ``code-list:`` format token, or None for national catalogues and for
    lists of prefixes (``MA_CSKCB_THUOC_TIENTO(C,K,M,HC) + 5-char facility code``)."""
    if re.search(r"code-list:\S+ \+ (5-char|3-digit)", fmt):
        return None
    m = re.search(r"code-list:([A-Z_0-9]*)\s*\(([^)]*)\)", fmt)
    if m:
        name, inner = m.group(1), m.group(2)
        parts = [p.strip().split("=")[0] for p in inner.split(",")]
        if all(re.fullmatch(r"[0-9A-Z]{1,3}", p) for p in parts):
            return parts
        if name in CODE_LISTS:  # e.g. "MA_LOAI_KCB (2 digits)": the list lives in code_lists.csv
            return CODE_LISTS[name]
        return None
    m = re.search(r"code-list:([A-Z_]+)\b", fmt)
    if m and m.group(1) in CODE_LISTS:
        return CODE_LISTS[m.group(1)]
    return None


def pattern_for(fmt: str, typ: str) -> str | None:
    multi = ";-separated" in fmt
    prefixed = re.search(r"code-list:[A-Z_0-9]+\(([A-Z,]+)\) \+ (5-char facility code|3-digit number)", fmt)
    if prefixed:  # XML2 MA_CSKCB_THUOC "C.01001", XML3 MA_GIUONG "H001" (PL4750 Bảng 2 #5, Bảng 3 #32)
        heads = "|".join(prefixed.group(1).split(","))
        one = f"({heads})\\.{FACILITY}" if prefixed.group(2).startswith("5") else f"({heads})[0-9]{{3}}"
        return semi(one) if multi else one
    if "yyyymmdd or yyyymmddHHMM" in fmt:
        return f"({DATE})|({DATE_TIME})"
    if "yyyymmddHHMM" in fmt:
        return semi(DATE_TIME) if multi else DATE_TIME
    if "yyyymmdd" in fmt:
        return semi(DATE) if multi else DATE
    if fmt.startswith("yyyy"):
        return "[0-9]{4}"
    if "integer 1-12" in fmt:
        return "(0?[1-9]|1[0-2])"
    if "integer grams" in fmt:
        return semi(INTEGER)
    if "2 decimals" in fmt:
        return r"[0-9]+(\.[0-9]{1,2})?"
    if "5-char facility code" in fmt:
        return semi(FACILITY) if multi else FACILITY
    if fmt == "13 digits":
        return "[0-9]{13}"
    if "systolic/diastolic" in fmt:
        return "[0-9]{2,3}/[0-9]{2,3}"
    if fmt.startswith("decimal"):
        return DECIMAL
    if "integer" in fmt or (typ == "number" and "code-list" in fmt):
        return INTEGER
    if typ == "number":
        return DECIMAL
    return None


def doc(name: str, description_vi: str = "", description_en: str = "", source: str = "") -> str:
    label = LABELS[name]
    out = [f'<xs:documentation xml:lang="vi">{escape(label)}</xs:documentation>']
    if description_vi:
        out.append(
            f'<xs:documentation xml:lang="vi" source="{escape(source)}">{escape(description_vi)}'
            "</xs:documentation>"
        )
    if description_en:
        out.append(f'<xs:documentation xml:lang="en">{escape(description_en)}</xs:documentation>')
    return "<xs:annotation>" + "".join(out) + "</xs:annotation>"


PORTAL_LENGTH = re.compile(r"portal sheet lists max length (\d+)")


def portal_length(row: dict[str, str]) -> int | None:
    """The looser length of the portal rules sheet (CTN4750), when the table notes one."""
    m = PORTAL_LENGTH.search(row.get("rules", ""))
    return int(m.group(1)) if m else None


def field(row: dict[str, str], source: str, indent: str, portal: int | None = None) -> str:
    """One element. ``portal``: the portal sheet's length for it. Where the sheet is looser than the
    decision, the schema's maxLength is the sheet's (past it the portal refuses the file: an error)
    and the decision's length is kept in ``xs:appinfo`` for the warning rule ``length-over-decision``
    (the portal takes such a value; the decision does not)."""
    name, typ, fmt = row["element"], row.get("type") or "string", row.get("format", "")
    max_len = (row.get("max_length") or "n").strip() or "n"
    decision: int | None = None
    if max_len != "n" and portal is not None and portal > int(max_len):
        decision, max_len = int(max_len), str(portal)
    required = row.get("required") == "yes"
    facets: list[str] = []
    codes = codes_for(fmt)
    if codes is not None and ";-separated" not in fmt and not fmt.startswith("code-list:DOI_TUONG"):
        values = list(codes) + ([] if required else [""])
        facets += [f'<xs:enumeration value="{escape(v)}"/>' for v in values]
    else:
        pattern = pattern_for(fmt, typ)
        if codes is not None:  # several codes of a closed list, ;-separated (DOI_TUONG)
            pattern = semi("(" + "|".join(codes) + ")")
        if pattern is not None:
            facets.append(f'<xs:pattern value="{escape(pattern if required else f"({pattern})?")}"/>')
        elif required:
            facets.append(f'<xs:pattern value="{escape(NON_BLANK)}"/>')
    if required:
        facets.insert(0, '<xs:minLength value="1"/>')
    if max_len != "n":
        facets.append(f'<xs:maxLength value="{int(max_len)}"/>')
    occurs = "" if required else ' minOccurs="0"'
    annotation = doc(name, row.get("description_vi", ""), row.get("description_en", ""), source)
    if decision is not None:
        annotation = annotation.replace(
            "</xs:annotation>", f'<xs:appinfo source="decision-max-length">{decision}</xs:appinfo></xs:annotation>')
    body = "".join(facets)
    return (
        f'{indent}<xs:element name="{name}"{occurs}>{annotation}'
        f'<xs:simpleType><xs:restriction base="xs:string">{body}</xs:restriction></xs:simpleType>'
        "</xs:element>"
    )


HEADER = """<?xml version="1.0" encoding="utf-8"?>
<!-- Generated by xsd/_build.py from xsd/tables/{table}. Do not edit by hand. -->
<!-- {title} -->
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" elementFormDefault="qualified"{extra_ns}>
"""
DSIG_IMPORT = (
    '  <xs:import namespace="http://www.w3.org/2000/09/xmldsig#" schemaLocation="{path}"/>\n'
)


def schema(table: str, title: str, body: str, dsig_path: str | None = None) -> str:
    extra = ' xmlns:ds="http://www.w3.org/2000/09/xmldsig#"' if dsig_path else ""
    head = HEADER.format(table=table, title=escape(title), extra_ns=extra)
    if dsig_path:
        head += DSIG_IMPORT.format(path=dsig_path)
    return head + body + "</xs:schema>\n"


def flat_table(table: str, root: str, title: str, source: str) -> str:
    rows = sorted(read_csv(table), key=lambda r: int(r["order"]))
    fields = "\n".join(field(r, source, "        ") for r in rows)
    body = (
        f'  <xs:element name="{root}">{doc(root)}\n    <xs:complexType>\n      <xs:sequence>\n'
        f"{fields}\n      </xs:sequence>\n    </xs:complexType>\n  </xs:element>\n"
    )
    return schema(table, title, body)


# BHYT tables: LOAIHOSO -> (root/list/row path, title, signed alone). CV 1245 §2.4 and §3.5.1-§3.5.15;
# XML12 from CV 3190 §4.4 (it is sent by its own service, signed like the check-in table).
BHYT_TABLES: dict[str, tuple[str, str, bool]] = {
    "XML0": ("CHI_TIEU_TRANG_THAI_KCB/DSACH_TRANG_THAI_KCB/TRANG_THAI_KCB", "check-in", True),
    "XML1": ("TONG_HOP", "Bảng 1 tổng hợp", False),
    "XML2": ("CHITIEU_CHITIET_THUOC/DSACH_CHI_TIET_THUOC/CHI_TIET_THUOC", "Bảng 2 chi tiết thuốc", False),
    "XML3": ("CHITIEU_CHITIET_DVKT_VTYT/DSACH_CHI_TIET_DVKT/CHI_TIET_DVKT", "Bảng 3 chi tiết DVKT và VTYT", False),
    "XML4": ("CHITIEU_CHITIET_DICHVUCANLAMSANG/DSACH_CHI_TIET_CLS/CHI_TIET_CLS", "Bảng 4 dịch vụ cận lâm sàng",
             False),
    "XML5": ("CHITIEU_CHITIET_DIENBIENLAMSANG/DSACH_CHI_TIET_DIEN_BIEN_BENH/CHI_TIET_DIEN_BIEN_BENH",
             "Bảng 5 diễn biến lâm sàng", False),
    "XML6": ("CHI_TIEU_HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS/DSACH_HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS/"
             "HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS", "Bảng 6 HIV/AIDS", False),
    "XML7": ("CHI_TIEU_DU_LIEU_GIAY_RA_VIEN", "Bảng 7 giấy ra viện", False),
    "XML8": ("CHI_TIEU_DU_LIEU_TOM_TAT_HO_SO_BENH_AN", "Bảng 8 tóm tắt hồ sơ bệnh án", False),
    "XML9": ("CHI_TIEU_DU_LIEU_GIAY_CHUNG_SINH/DSACH_GIAYCHUNGSINH/DU_LIEU_GIAY_CHUNG_SINH", "Bảng 9 giấy chứng sinh",
             False),
    "XML10": ("CHI_TIEU_DU_LIEU_GIAY_NGHI_DUONG_THAI", "Bảng 10 giấy nghỉ dưỡng thai", False),
    "XML11": ("CHI_TIEU_DU_LIEU_GIAY_CHUNG_NHAN_NGHI_VIEC_HUONG_BAO_HIEM_XA_HOI",
              "Bảng 11 giấy chứng nhận nghỉ việc hưởng BHXH", False),
    "XML12": ("CHI_TIEU_GIAM_DINH_YKHOA/DSACH_GIAM_DINH_YKHOA/GIAM_DINH_YKHOA", "Bảng 12 giám định y khoa", True),
    "XML13": ("CHI_TIEU_GIAYCHUYENTUYEN", "Bảng 13 giấy chuyển tuyến", False),
    "XML14": ("CHI_TIEU_GIAYHEN_KHAMLAI", "Bảng 14 giấy hẹn khám lại", False),
    "XML15": ("CHI_TIEU_DIEUTRI_BENHLAO/DSACH_CHITIET_DIEUTRI_BENHLAO/CHITIET_DIEUTRI_BENHLAO",
              "Bảng 15 điều trị bệnh lao", False),
}


def portal_lengths(loai: str) -> dict[str, tuple[int, int]]:
    """element -> (decision length in 4750, portal sheet length), from the 4750 table's notes: the
    portal sheet (CTN4750) was written against QĐ 4750, so it applies to a 3176 element only where
    QĐ 3176 kept the 4750 length."""
    out = {}
    for row in read_csv(f"{loai.lower()}_4750.csv"):
        portal = portal_length(row)
        if portal is not None and row["max_length"] != "n":
            out[row["element"]] = (int(row["max_length"]), portal)
    return out


def bhyt_table(loai: str, std: str, src: str) -> str:
    path, title, signed = BHYT_TABLES[loai]
    # QĐ 3176 did not amend the check-in table (PL3176 has no check-in sheet): same table.
    table = "xml0_4750.csv" if loai == "XML0" else f"{loai.lower()}_{std}.csv"
    rows = sorted(read_csv(table), key=lambda r: int(r["order"]))
    sheet = portal_lengths(loai)

    def portal_for(row: dict[str, str]) -> int | None:
        known = sheet.get(row["element"])
        return known[1] if known and str(known[0]) == row["max_length"] else None

    parts = path.split("/")
    depth = len(parts)
    fields = "\n".join(field(r, "QĐ 4750/QĐ-BYT" if loai == "XML0" else src, "  " * (depth * 3 + 1),
                             portal_for(r)) for r in rows)
    inner = f"{'  ' * (depth * 3)}<xs:sequence>\n{fields}\n{'  ' * (depth * 3)}</xs:sequence>"
    for level in range(depth - 1, -1, -1):
        name = parts[level]
        pad = "  " * (level * 3 + 1)
        occurs = ' maxOccurs="unbounded"' if level == 2 else ""
        after = f"\n{pad}    {signature_slot('CHUKYDONVI', optional=True)}" if signed and level == 0 else ""
        if level < depth - 1:
            inner = f"{pad}  <xs:sequence>\n{inner}{after}\n{pad}  </xs:sequence>"
        inner = (f'{pad}<xs:element name="{name}"{occurs}>{doc(name)}\n{pad} <xs:complexType>\n{inner}\n'
                 f"{pad} </xs:complexType>\n{pad}</xs:element>")
    return schema(table, f"{src} {title} ({loai})", inner + "\n",
                  dsig_path="../../w3c/xmldsig-signature.xsd" if signed else None)


def signature_slot(name: str, optional: bool = False) -> str:
    """A container that is empty before signing and holds exactly one XML-DSig Signature after.
    ``optional``: a BHYT export may lack it before signing (``sohs sign`` adds it where the guide
    puts it; an unsigned file is refused by the portal either way)."""
    occurs = ' minOccurs="0"' if optional else ""
    return (
        f'<xs:element name="{name}"{occurs}>{doc(name)}<xs:complexType><xs:sequence>'
        '<xs:element ref="ds:Signature" minOccurs="0"/></xs:sequence></xs:complexType></xs:element>'
    )


def checkup_slot(name: str) -> str:
    """A checkup signature slot (QĐ 2062): empty before signing, then base64 text (the decision's
    example; sohs's default) or one XML-DSig Signature (the option). Mixed content lets either through;
    which one, and that it is one, ``sohs verify`` checks (sohs_cli/signing/checkupsig.py)."""
    return (
        f'<xs:element name="{name}">{doc(name)}<xs:complexType mixed="true"><xs:sequence>'
        '<xs:element ref="ds:Signature" minOccurs="0"/></xs:sequence></xs:complexType></xs:element>'
    )


def simple(name: str, facets: str, occurs: str = "") -> str:
    return (
        f'<xs:element name="{name}"{occurs}>{doc(name)}<xs:simpleType>'
        f'<xs:restriction base="xs:string">{facets}</xs:restriction></xs:simpleType></xs:element>'
    )


def envelope(root: str, loaihoso: list[str], facility_pattern: str, chuky: str, title: str,
             noidungfile: str = "") -> str:
    enum = "".join(f'<xs:enumeration value="{v}"/>' for v in loaihoso)
    body = f"""  <xs:element name="{root}">{doc(root)}
    <xs:complexType>
      <xs:sequence>
        <xs:element name="THONGTINDONVI">{doc("THONGTINDONVI")}<xs:complexType><xs:sequence>
          {simple("MACSKCB", f'<xs:pattern value="{facility_pattern}"/>')}
        </xs:sequence></xs:complexType></xs:element>
        <xs:element name="THONGTINHOSO">{doc("THONGTINHOSO")}<xs:complexType><xs:sequence>
          {simple("NGAYLAP", f'<xs:pattern value="{DATE}"/>')}
          {simple("SOLUONGHOSO", '<xs:pattern value="[1-9][0-9]*"/>')}
          <xs:element name="DANHSACHHOSO">{doc("DANHSACHHOSO")}<xs:complexType><xs:sequence>
            <xs:element name="HOSO" maxOccurs="unbounded">{doc("HOSO")}<xs:complexType><xs:sequence>
              <xs:element name="FILEHOSO" maxOccurs="unbounded">{doc("FILEHOSO")}<xs:complexType><xs:sequence>
                {simple("LOAIHOSO", enum)}
                {noidungfile or simple("NOIDUNGFILE", '<xs:minLength value="1"/>')}
              </xs:sequence></xs:complexType></xs:element>
            </xs:sequence></xs:complexType></xs:element>
          </xs:sequence></xs:complexType></xs:element>
        </xs:sequence></xs:complexType></xs:element>
        {chuky}
      </xs:sequence>
    </xs:complexType>
  </xs:element>
"""
    return schema("(envelope)", title, body, dsig_path="../../w3c/xmldsig-signature.xsd")


DSIG = """<?xml version="1.0" encoding="utf-8"?>
<!-- Generated by xsd/_build.py. The slot for one W3C XML-DSig Signature element (xmldsig-core).
     Its inner structure is checked by `sohs verify`, not here: this only pins the element name and
     namespace so a CHUKYDONVI can hold a Signature and nothing else. -->
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
           targetNamespace="http://www.w3.org/2000/09/xmldsig#"
           xmlns:ds="http://www.w3.org/2000/09/xmldsig#" elementFormDefault="qualified">
  <xs:element name="Signature">
    <xs:complexType>
      <xs:sequence>
        <xs:any namespace="##any" processContents="skip" minOccurs="1" maxOccurs="unbounded"/>
      </xs:sequence>
      <xs:attribute name="Id" type="xs:string"/>
    </xs:complexType>
  </xs:element>
</xs:schema>
"""

KSK_BLOCK_ORDER = [f"XML{i}" for i in range(1, 13)]


KSK_SOURCE = "QĐ 2062/QĐ-BYT Phụ lục 01"


def ksk_field(f: kskforms.Field, indent: str) -> str:
    """One PL01 field: its form's label, type, length, required mark and codes."""
    LABELS[f.element] = f.label_vi  # the form's own label (some differ between forms)
    fmt = {"MA_GTIN_CSKCB": "13 digits", "MA_CSKCB": "5-char facility code"}.get(f.element, "")
    if f.codes:
        fmt = f"code-list:{f.element}({','.join(f.codes)})" + (" ;-separated" if f.element == "DOI_TUONG" else "")
    row = {"element": f.element, "type": f.type, "max_length": f.max_length, "required": "yes" if f.required else "",
           "format": fmt, "description_en": f.explanation_en}
    return field(row, KSK_SOURCE, indent)


def ksk_block(fields: list[kskforms.Field], block: str, table: str, title: str) -> str:
    """A checkup block: its fields in any order (xs:all), since the decision fixes none (README)."""
    root = KSK_LOAIHOSO_ROOT[block]
    inner = "\n".join(ksk_field(f, "        ") for f in fields)
    body = (
        f'  <xs:element name="{root}">{doc(root)}\n    <xs:complexType>\n      <xs:all>\n'
        f"{inner}\n      </xs:all>\n    </xs:complexType>\n  </xs:element>\n"
    )
    return schema(table, title, body)


def ksk_union(block: str) -> list[kskforms.Field]:
    """The block's fields in every form that has it, for a bare block whose form is unknown: required
    only where every such form requires it, the longest length."""
    forms = kskforms.forms_with(block)
    merged: dict[str, kskforms.Field] = {}
    for form in forms:
        for f in kskforms.blocks(form, str(TABLES))[block]:
            if f.element in merged:
                old = merged[f.element]
                longer = "n" if "n" in (old.max_length, f.max_length) else str(max(int(old.max_length),
                                                                                   int(f.max_length)))
                merged[f.element] = dataclasses.replace(old, max_length=longer, required=old.required and f.required,
                                                        codes=old.codes if old.codes == f.codes else ())
            else:
                merged[f.element] = f
    everywhere = set.intersection(*({f.element for f in kskforms.blocks(n, str(TABLES))[block]} for n in forms))
    return [dataclasses.replace(f, required=f.required and f.element in everywhere) for f in merged.values()]


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def main() -> None:
    write(HERE / "w3c" / "xmldsig-signature.xsd", DSIG)
    bhxh_types = [f"XML{i}" for i in range(1, 12)] + ["XML13", "XML14", "XML15"]
    for std, src in (("4750", "QĐ 4750/QĐ-BYT"), ("3176", "QĐ 3176/QĐ-BYT")):
        out = HERE / "bhxh" / std
        for loai in BHYT_TABLES:
            write(out / f"{loai}.xsd", bhyt_table(loai, std, src))
        write(out / "GIAMDINHHS.xsd", envelope(
            "GIAMDINHHS", bhxh_types, FACILITY, signature_slot("CHUKYDONVI", optional=True),
            f"{src}: envelope GIAMDINHHS (CV 1245/BHXH-CNTT §I.3.4)"))
    out = HERE / "ksk" / "2062"
    for form in kskforms.FORMS:
        table = kskforms.FORM_FILES[form]
        for block, fields in kskforms.blocks(form, str(TABLES)).items():
            if block != "CHUKYDONVI":
                write(out / f"form{form}" / f"{block}.xsd", ksk_block(
                    list(fields), block, table, f"{KSK_SOURCE}, {kskforms.FORM_NAMES_EN[form]}: {block} "
                    f"{KSK_LOAIHOSO_ROOT[block]}"))
    for block in KSK_BLOCK_ORDER:  # a bare block, its form unknown: what any form allows
        write(out / f"{block}.xsd", ksk_block(ksk_union(block), block, "ksk_2062_form*.csv",
                                              f"{KSK_SOURCE}, any form: {block} {KSK_LOAIHOSO_ROOT[block]}"))
    chuky = (
        f'<xs:element name="CHUKYDONVI">{doc("CHUKYDONVI")}<xs:complexType><xs:sequence>'
        f"{checkup_slot('CKS_NGUOI_KET_LUAN')}{checkup_slot('CKS_BENH_VIEN')}"
        "</xs:sequence></xs:complexType></xs:element>"
    )
    # NOIDUNGFILE: base64 text (what vendors send) or the block as nested XML (what QĐ 2062 PL02 §6
    # prints); either way the block itself is checked against its form's schema, not here
    nested = (f'<xs:element name="NOIDUNGFILE">{doc("NOIDUNGFILE")}<xs:complexType mixed="true"><xs:sequence>'
              '<xs:any processContents="skip" minOccurs="0"/></xs:sequence></xs:complexType></xs:element>')
    write(out / "KHAMSUCKHOE.xsd", envelope(
        "KHAMSUCKHOE", KSK_BLOCK_ORDER, f"({FACILITY})|([0-9]{{13}})", chuky,
        "QĐ 2062/QĐ-BYT (amending QĐ 1551/QĐ-BYT): envelope KHAMSUCKHOE", nested))


if __name__ == "__main__":
    main()
