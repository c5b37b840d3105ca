"""Realistic sample documents (fictional patients) for examples/, benchmarks and the demo.

Values follow the field tables: every element is emitted in table order, optional ones left empty
the way hospital software does (``<NHOM_MAU></NHOM_MAU>``).
"""

from __future__ import annotations

import csv
import os
import re
from functools import cache
from pathlib import Path

from sohs_cli.documents.schemas import xsd_dir

DECL = '<?xml version="1.0" encoding="utf-8"?>\r\n'


@cache
def table_order(table: str) -> tuple[str, ...]:
    with open(os.path.join(xsd_dir(), "tables", f"{table}.csv"), encoding="utf-8", newline="") as fh:
        rows = sorted(csv.DictReader(fh), key=lambda r: int(r["order"]))
    return tuple(r["element"] for r in rows)


def _esc(v: str) -> str:
    return v.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render(root: str, table: str, values: dict[str, str]) -> bytes:
    """One flat table, every element in order, CRLF line ends as HIS exports them."""
    lines = [DECL, f"<{root}>\r\n"]
    for name in table_order(table):
        v = values.get(name, "")
        lines.append(f"  <{name}>{_esc(v)}</{name}>\r\n")
    lines.append(f"</{root}>\r\n")
    return "".join(lines).encode("utf-8")


def xml1_values(standard: str, ma_lk: str, *, ma_loai_rv: str = "1", ngay_vao: str = "",
                ngay_ra: str = "", card: str = "GD4797920000001") -> dict[str, str]:
    if not ngay_vao:
        ngay_vao = "202511030800" if standard == "3176" else "202406030800"
    if not ngay_ra:
        ngay_ra = ngay_vao[:8] + "1130"
    year, month = ngay_ra[:4], str(int(ngay_ra[4:6]))
    return {
        "MA_LK": ma_lk, "STT": "1", "MA_BN": "BN" + ma_lk[-6:], "HO_TEN": "Nguyễn Thị Hồng Nhung",
        "SO_CCCD": "079190001234", "NGAY_SINH": "199003150000", "GIOI_TINH": "2", "MA_QUOCTICH": "000",
        "MA_DANTOC": "01", "MA_NGHE_NGHIEP": "00" if standard == "3176" else "00000",
        "DIA_CHI": "12 Lê Lợi, Phường Bến Thành, TP Hồ Chí Minh", "MATINH_CU_TRU": "79",
        "MAHUYEN_CU_TRU": "760", "MAXA_CU_TRU": "26734", "DIEN_THOAI": "0903123456",
        "MA_THE_BHYT": card, "MA_DKBD": "79001", "GT_THE_TU": "20250101", "GT_THE_DEN": "20261231",
        "LY_DO_VV": "Đau ngực, khó thở", "CHAN_DOAN_VAO": "Theo dõi bệnh tim thiếu máu cục bộ",
        "CHAN_DOAN_RV": "Bệnh tim thiếu máu cục bộ mạn", "MA_BENH_CHINH": "I25.9", "MA_BENH_KT": "I10;E11.9",
        "MA_DOITUONG_KCB": "1", "NGAY_VAO": ngay_vao, "NGAY_RA": ngay_ra, "SO_NGAY_DTRI": "0",  # 0 for MA_LOAI_KCB 01
        "PP_DIEU_TRI": "Điều trị nội khoa", "KET_QUA_DTRI": "2", "MA_LOAI_RV": ma_loai_rv,
        "MA_NOI_DEN": "79010" if ma_loai_rv in ("2", "5") else "",
        "T_THUOC": "125000", "T_VTYT": "0", "T_TONGCHI_BV": "325000", "T_TONGCHI_BH": "325000",
        "T_BNTT": "0", "T_BNCCT": "65000", "T_BHTT": "260000", "T_NGUONKHAC": "0", "T_BHTT_GDV": "0",
        "NAM_QT": year, "THANG_QT": month, "MA_LOAI_KCB": "01", "MA_KHOA": "K01", "MA_CSKCB": "79001",
        "CAN_NANG": "55.50", "MA_HSBA": "HSBA" + ma_lk[-6:], "MA_TTDV": "7901234567",
    }


def xml1(standard: str, ma_lk: str, **kw: str) -> bytes:
    return render("TONG_HOP", f"xml1_{standard}", xml1_values(standard, ma_lk, **kw))


COPIED_FROM_XML1 = ("MA_CSKCB", "HO_TEN", "NGAY_SINH", "GIOI_TINH", "MA_QUOCTICH", "MA_DANTOC",
                    "MA_NGHE_NGHIEP", "DIA_CHI", "MA_THE_BHYT", "GT_THE_DEN", "NGAY_VAO", "NGAY_RA",
                    "CHAN_DOAN_RV", "MA_BENH_CHINH", "MA_BENH_KT", "MA_LOAI_RV")


def xml13(standard: str, ma_lk: str, base: dict[str, str] | None = None, **overrides: str) -> bytes:
    base = base or xml1_values(standard, ma_lk, ma_loai_rv="2")
    values = {k: base.get(k, "") for k in COPIED_FROM_XML1}
    values.update({
        "MA_LK": ma_lk, "SO_HOSO": "CT" + ma_lk[-6:], "SO_CHUYENTUYEN": "125/2025",
        "GIAY_CHUYEN_TUYEN": "GCT" + ma_lk[-6:],
        "DAU_HIEU_LS": "Đau thắt ngực khi gắng sức, huyết áp 150/90 mmHg",
        "QT_BENHLY": "Đau ngực 3 tháng, điều trị ngoại trú không cải thiện",
        "TOMTAT_KQ": "Điện tim: ST chênh xuống V4-V6", "MA_LYDO_CT": "2",
        "HUONG_DIEU_TRI": "Chụp mạch vành, can thiệp nếu có chỉ định",
        "PHUONGTIEN_VC": "Xe cứu thương", "MA_BAC_SI": "003456/HCM-GPHN",
        "MA_TTDV": "7901234567" if standard == "4750" else "001234/HCM-GPHN",
    })
    if standard == "3176":
        values["MA_CSKCB_DEN"] = base.get("MA_NOI_DEN", "")
        values["TINH_TRANG_CT"] = "Tỉnh, tiếp xúc tốt, đau ngực từng cơn"
    else:
        values["MA_NOI_DEN"] = base.get("MA_NOI_DEN", "")
        values["TEN_DICH_VU"] = "Điện tâm đồ [thường quy]"
    values.update(overrides)
    return render("CHI_TIEU_GIAYCHUYENTUYEN", f"xml13_{standard}", values)


def xml14(standard: str, ma_lk: str, base: dict[str, str] | None = None, **overrides: str) -> bytes:
    base = base or xml1_values(standard, ma_lk)
    values = {k: base.get(k, "") for k in ("HO_TEN", "NGAY_SINH", "GIOI_TINH", "DIA_CHI", "MA_THE_BHYT",
                                            "GT_THE_DEN", "NGAY_VAO", "NGAY_RA", "CHAN_DOAN_RV",
                                            "MA_BENH_CHINH", "MA_BENH_KT", "MA_DOITUONG_KCB")}
    ngay_ra = base["NGAY_RA"]
    hen = str(int(ngay_ra[:8]) + 14)  # two weeks on, within the same month in the samples
    values.update({
        "MA_LK": ma_lk, "SO_GIAYHEN_KL": "GH" + ma_lk[-6:], "MA_CSKCB": base["MA_CSKCB"],
        "NGAY_HEN_KL": hen if standard == "3176" else hen + "0800",
        "MA_BAC_SI": "003456/HCM-GPHN", "MA_TTDV": "7901234567" if standard == "4750" else "001234/HCM-GPHN",
        "NGAY_CT": ngay_ra[:8],
    })
    values.update(overrides)
    return render("CHI_TIEU_GIAYHEN_KHAMLAI", f"xml14_{standard}", values)


@cache
def table_rows(table: str) -> tuple[dict[str, str], ...]:
    with open(os.path.join(xsd_dir(), "tables", f"{table}.csv"), encoding="utf-8", newline="") as fh:
        return tuple(sorted(csv.DictReader(fh), key=lambda r: int(r["order"])))


#: root / list / row of every BHYT table (CV 1245 §3.5; XML12 from CV 3190 §4.4)
TABLE_PATHS = {
    "XML0": "CHI_TIEU_TRANG_THAI_KCB/DSACH_TRANG_THAI_KCB/TRANG_THAI_KCB",
    "XML1": "TONG_HOP",
    "XML2": "CHITIEU_CHITIET_THUOC/DSACH_CHI_TIET_THUOC/CHI_TIET_THUOC",
    "XML3": "CHITIEU_CHITIET_DVKT_VTYT/DSACH_CHI_TIET_DVKT/CHI_TIET_DVKT",
    "XML4": "CHITIEU_CHITIET_DICHVUCANLAMSANG/DSACH_CHI_TIET_CLS/CHI_TIET_CLS",
    "XML5": "CHITIEU_CHITIET_DIENBIENLAMSANG/DSACH_CHI_TIET_DIEN_BIEN_BENH/CHI_TIET_DIEN_BIEN_BENH",
    "XML6": "CHI_TIEU_HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS/DSACH_HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS/"
            "HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS",
    "XML7": "CHI_TIEU_DU_LIEU_GIAY_RA_VIEN",
    "XML8": "CHI_TIEU_DU_LIEU_TOM_TAT_HO_SO_BENH_AN",
    "XML9": "CHI_TIEU_DU_LIEU_GIAY_CHUNG_SINH/DSACH_GIAYCHUNGSINH/DU_LIEU_GIAY_CHUNG_SINH",
    "XML10": "CHI_TIEU_DU_LIEU_GIAY_NGHI_DUONG_THAI",
    "XML11": "CHI_TIEU_DU_LIEU_GIAY_CHUNG_NHAN_NGHI_VIEC_HUONG_BAO_HIEM_XA_HOI",
    "XML12": "CHI_TIEU_GIAM_DINH_YKHOA/DSACH_GIAM_DINH_YKHOA/GIAM_DINH_YKHOA",
    "XML13": "CHI_TIEU_GIAYCHUYENTUYEN",
    "XML14": "CHI_TIEU_GIAYHEN_KHAMLAI",
    "XML15": "CHI_TIEU_DIEUTRI_BENHLAO/DSACH_CHITIET_DIEUTRI_BENHLAO/CHITIET_DIEUTRI_BENHLAO",
}


# Values that keep the portal sheet's rules (CTN4750) where the first code of a list would not.
KEEPING = {
    "XML2": {"TT_THAU": "G1;N1;2025;01/QĐ-BV;20250101"},
    "XML3": {"MA_KHOA": "K01", "NGUOI_THUC_HIEN": "003456/HCM-GPHN", "NGAY_TH_YL": "{day}0930"},
    "XML6": {"MA_TINH_TRANG_DK": "2", "MA_XU_TRI": "2"},
    "XML11": {"MA_BHXH": "7912345678"},
    "XML12": {"MA_BHXH": "7912345678"},
}


def sample_value(row: dict[str, str], day: str) -> str:
    """A value the schema accepts for a required field (optional ones stay empty, as HIS write them)."""
    fmt, typ = row["format"], row["type"]
    codes = re.search(r"code-list:\w+\(([^)+]*)\)", fmt)
    if "yyyymmddHHMM" in fmt and "or" not in fmt:
        return day + "0900"
    if "yyyymmdd" in fmt:
        return day
    if "MA_CSKCB_THUOC_TIENTO" in fmt:
        return "C.79001"
    if "MA_GIUONG_LOAI" in fmt:
        return "H001"
    if codes and re.fullmatch(r"[0-9A-Z]+", codes.group(1).split(",")[0].split("-")[0]):
        return codes.group(1).split(",")[0].split("-")[0]
    if "5-char facility" in fmt:
        return "79001"
    if "15-char card" in fmt:
        return "GD4797920000001"
    if "ICD10" in fmt:
        return "I25.9"
    if fmt == "yyyy":
        return day[:4]
    if "integer 1-12" in fmt:
        return str(int(day[4:6]))
    if "regex:^G" in fmt:
        return "G1"
    if "SO_CCCD" in row["element"] or "regex:" in fmt:
        return "079190001234"
    if typ == "number" or fmt.startswith(("decimal", "integer")):
        return "1"
    return "A"


def table(loai: str, standard: str, ma_lk: str, *rows: dict[str, str], day: str = "20251103") -> bytes:
    """Any BHYT table with one record per ``rows`` item: every required field filled with a value its
    schema accepts (``sample_value``), the fields given in the row as given, MA_LK and STT set."""
    path = TABLE_PATHS[loai].split("/")
    spec = table_rows("xml0_4750" if loai == "XML0" else f"{loai.lower()}_{standard}")
    records = []
    for i, given in enumerate(rows or ({},), start=1):
        values = {r["element"]: sample_value(r, day) if r["required"] == "yes" else "" for r in spec}
        if loai in ("XML0", "XML1", "XML13", "XML14"):  # the patient of xml1_values (their copies)
            base = xml1_values(standard, ma_lk, ngay_vao=day + "0800", ma_loai_rv="2" if loai == "XML13" else "1")
            values.update({k: v for k, v in base.items() if k in values})
            if loai == "XML14":  # the appointment is after the discharge (portal)
                values["NGAY_HEN_KL"] = str(int(day) + 1) + ("" if standard == "3176" else "0800")
            if loai == "XML0":
                values.update({"MA_DICH_VU": "02.1896", "TEN_DICH_VU": "Khám Nội", "NGAY_YL": base["NGAY_VAO"]})
        values.update({"MA_LK": ma_lk, "STT": str(i)} if "STT" in values else {"MA_LK": ma_lk})
        values.update({k: v.format(day=day) for k, v in KEEPING.get(loai, {}).items() if k in values})
        values.update(given)
        body = "".join(f"      <{r['element']}>{_esc(values.get(r['element'], ''))}</{r['element']}>\r\n"
                       for r in spec if r["element"] in values)
        records.append(body)
    if len(path) == 1:
        return f"{DECL}<{path[0]}>\r\n{records[0]}</{path[0]}>\r\n".encode()
    root, lst, row = path
    items = "".join(f"    <{row}>\r\n{b}    </{row}>\r\n" for b in records)
    tail = "  <CHUKYDONVI></CHUKYDONVI>\r\n" if loai in ("XML0", "XML12") else ""
    return f"{DECL}<{root}>\r\n  <{lst}>\r\n{items}  </{lst}>\r\n{tail}</{root}>\r\n".encode()


def ksk_block(loaihoso: str, values: dict[str, str], form: int = 3) -> bytes:
    """One checkup block of a QĐ 2062 PL01 form: the given fields, in the form's table order (a field the
    form's block lacks goes last, for tests of foreign content)."""
    from sohs_cli.documents.kinds import KSK_LOAIHOSO_ROOT
    from sohs_cli.documents.kskforms import block_fields

    root = KSK_LOAIHOSO_ROOT[loaihoso]
    known = list(block_fields(form, loaihoso))
    order = [n for n in known if n in values] + [n for n in values if n not in known]
    body = "".join(f"  <{n}>{_esc(values[n])}</{n}>\r\n" for n in order)
    return (DECL + f"<{root}>\r\n{body}</{root}>\r\n").encode("utf-8")


def _identity(**extra: str) -> dict[str, str]:
    # PL01 requires the identity block in every form (HO_TEN … MAXA_CU_TRU)
    return {"GIOI_TINH": "1", "MA_DAN_TOC": "01", "DIA_CHI": "5 Tràng Tiền, Hà Nội", "MATINH_CU_TRU": "001",
            "MAXA_CU_TRU": "00070", **extra}


def _visit(ma_lk: str, ngay_vao: str) -> dict[str, str]:
    return {"MA_LK": ma_lk, "MA_CSKCB": "01001", "MA_GTIN_CSKCB": "8930000000017", "DOI_TUONG": "13",
            "NGUON_CHI_TRA": "4", "MA_LOAI_KCB": "15", "NGAY_VAO": ngay_vao}


def adult_checkup(ma_lk: str, *, phan_loai_sk: str = "2", bmi: str = "22.9", **xml1: str | None) -> list[bytes]:
    """A Form 3 (18 and over) periodic checkup, QĐ 2062 PL01: blocks XML1, 2, 9, 10, 7, 11, 12."""
    identity: dict[str, str | None] = {**_identity(HO_TEN="Trần Văn Minh", NGAY_SINH="198507200000",
                                                   SO_CCCD="001085012345", MA_NGHE_NGHIEP="25",
                                                   LY_DO_VV="Khám sức khỏe định kỳ"), **xml1}
    return [
        ksk_block("XML1", {k: v for k, v in identity.items() if v is not None}),  # None: left out
        ksk_block("XML2", _visit(ma_lk, "202611100800")),
        ksk_block("XML9", {"TSGD_MAC_BENH": "0", "TSBT_BENH_TRONG_5_NAM_QUA": "0", "TSBT_TANG_HUYET_AP": "0"}),
        ksk_block("XML10", {"CHIEU_CAO": "170", "CAN_NANG": "66.2", "CHI_SO_BMI": bmi, "MACH": "78",
                            "HUYET_AP": "120/80", "KHAM_THE_LUC_PL": "2"}),
        ksk_block("XML7", {"NOI_KHOA_TUAN_HOAN": "Bình thường", "NOI_KHOA_TUAN_HOAN_PL": "2",
                           "NOI_KHOA_HO_HAP": "Bình thường", "NOI_KHOA_HO_HAP_PL": "1",
                           "KET_QUA_KHAM_NGOAI_KHOA": "Bình thường", "KHAM_NGOAI_KHOA_PL": "1",
                           "KHONG_KINH_MAT_PHAI": "10/10", "KHONG_KINH_MAT_TRAI": "9/10", "KHAM_MAT_PL": "1"}),
        ksk_block("XML11", {"MA_DICH_VU": "22.0120.1370", "MA_CHI_SO": "GLU", "GIA_TRI": "5.2",
                            "DON_VI_DO": "mmol/L", "MO_TA": "Glucose máu", "KET_LUAN": "Bình thường"}),
        ksk_block("XML12", {"PHAN_LOAI_SK": phan_loai_sk, "KET_LUAN_BENH": "",
                            "CAC_BENH_TAT_NEU_CO": "Sức khỏe tốt"}),
    ]


def pupil_checkup(ma_lk: str) -> list[bytes]:
    """A Form 2 (6 to under 18) checkup, QĐ 2062 PL01: blocks XML1, 2, 9, 10, 7, 11, 12."""
    form = 2
    return [
        ksk_block("XML1", _identity(HO_TEN="Lê Minh Khoa", NGAY_SINH="201403050000", SO_CCCD="001214012345",
                                    LY_DO_VV="Khám sức khỏe học sinh", NGUOI_GIAM_HO="Lê Văn Hải"), form),
        ksk_block("XML2", _visit(ma_lk, "202611120900"), form),
        ksk_block("XML9", {"TSGD_MAC_BENH": "0", "SAN_KHOA": "0", "TIEM_CHUNG_BCG": "1", "TSBT_MAC_BENH": "0"},
                  form),
        ksk_block("XML10", {"CHIEU_CAO": "150", "CAN_NANG": "40.5", "CHI_SO_BMI": "18.0", "MACH": "84",
                            "HUYET_AP": "105/70", "KHAM_THE_LUC_PL": "1"}, form),
        ksk_block("XML7", {"NHI_KHOA_TUAN_HOAN": "Bình thường", "NHI_KHOA_HO_HAP": "Bình thường",
                           "KHONG_KINH_MAT_PHAI": "10/10", "KHONG_KINH_MAT_TRAI": "10/10",
                           "BENH_TAI_MUI_HONG": "Không", "BENH_RANG_HAM_MAT": "Không"}, form),
        ksk_block("XML12", {"PHAN_LOAI_SK": "1", "CAC_VAN_DE_SUC_KHOE": "Sức khỏe tốt"}, form),
    ]


def child_checkup(ma_lk: str) -> list[bytes]:
    """A Form 1 (children under 6) checkup, QĐ 2062 PL01: blocks XML1 to XML8."""
    form = 1
    return [
        ksk_block("XML1", _identity(HO_TEN="Phạm Gia Bảo", NGAY_SINH="202309010000", SO_CCCD="001223012345",
                                    HO_TEN_NGUOI_DI_CUNG="Phạm Thị Lan", SO_CCCD_NGUOI_DI_CUNG="001190012345",
                                    MOI_QUAN_HE_VOI_TRE="2", TSBT_MAC_BENH="0"), form),
        ksk_block("XML2", _visit(ma_lk, "202611130800"), form),
        ksk_block("XML3", {"NHIET_DO": "36.8", "DGDHST_NHIET_DO": "1", "MACH": "110", "NHIP_THO": "30"}, form),
        ksk_block("XML4", {"CHIEU_DAI": "95", "CAN_NANG": "14.2", "DGDD_BINH_THUONG": "1"}, form),
        ksk_block("XML5", {"PT_TTBT_THEO_DO_TUOI": "1", "PT_VDBT_THEO_DO_TUOI": "1", "NGUY_CO_TU_KY": "0"}, form),
        ksk_block("XML6", {"TIEM_CHUNG_BCG_SS": "1", "TIEM_CHUNG_DAY_DU_THEO_DO_TUOI": "1"}, form),
        ksk_block("XML7", {"MAU_SAC_DA": "1", "THOP": "1"}, form),
        ksk_block("XML8", {"BINH_THUONG": "1", "NGUY_CO_MAC_LAO": "0"}, form),
    ]


def checkin(standard: str, ma_lk: str, facility: str = "79001") -> bytes:
    """A check-in file (XML0, ``CHI_TIEU_TRANG_THAI_KCB``) with one row and an empty ``CHUKYDONVI``."""
    base = xml1_values(standard, ma_lk)
    values = {k: base.get(k, "") for k in table_order("xml0_4750")}
    values.update({"MA_CSKCB": facility, "MA_LOAI_KCB": "01", "NGAY_YL": base["NGAY_VAO"],
                   "MA_DICH_VU": "02.1896", "TEN_DICH_VU": "Khám Nội"})  # one of service/drug/supply (portal)
    row = "".join(f"<{name}>{_esc(values.get(name, ''))}</{name}>" for name in table_order("xml0_4750"))
    return (f"{DECL}<CHI_TIEU_TRANG_THAI_KCB><DSACH_TRANG_THAI_KCB><TRANG_THAI_KCB>{row}</TRANG_THAI_KCB>"
            "</DSACH_TRANG_THAI_KCB><CHUKYDONVI></CHUKYDONVI></CHI_TIEU_TRANG_THAI_KCB>\r\n").encode()



def examples_dir() -> Path:
    """The shipped examples: inside the installed package, or examples/ of a source checkout."""
    here = Path(__file__).resolve().parent.parent  # sohs_cli/, which holds examples/ in a wheel
    for candidate in (here / "examples", here.parent / "examples"):
        if (candidate / "referral_episode_3176.xml").is_file():
            return candidate
    from sohs_cli.foundation.errors import ConfigError
    from sohs_cli.foundation.i18n import _

    raise ConfigError(_("the examples are missing from this installation"), hint=_("reinstall sohs"))


def export(episodes: list[list[bytes]], facility: str = "79001", ngaylap: str = "20251104") -> bytes:
    """A HIS export: one ``GIAMDINHHS`` holding one ``HOSO`` per episode (its tables, one-line base64),
    laid out over lines as HIS write them, with an empty ``CHUKYDONVI``."""
    import base64

    from sohs_cli.documents.kinds import detect_kind
    from sohs_cli.foundation.xmlsafe import parse_bytes

    hosos = []
    for tables in episodes:
        files = []
        for data in tables:
            kind = detect_kind(parse_bytes(data, source="table"))
            assert kind is not None and kind.loaihoso
            files.append(f"        <FILEHOSO>\r\n          <LOAIHOSO>{kind.loaihoso}</LOAIHOSO>\r\n"
                         f"          <NOIDUNGFILE>{base64.b64encode(data).decode()}</NOIDUNGFILE>\r\n"
                         "        </FILEHOSO>\r\n")
        hosos.append("      <HOSO>\r\n" + "".join(files) + "      </HOSO>\r\n")
    return (f'{DECL}<GIAMDINHHS xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xmlns:xsd="http://www.w3.org/2001/XMLSchema">\r\n'
            f"  <THONGTINDONVI>\r\n    <MACSKCB>{facility}</MACSKCB>\r\n  </THONGTINDONVI>\r\n"
            f"  <THONGTINHOSO>\r\n    <NGAYLAP>{ngaylap}</NGAYLAP>\r\n"
            f"    <SOLUONGHOSO>{len(episodes)}</SOLUONGHOSO>\r\n"
            "    <DANHSACHHOSO>\r\n" + "".join(hosos) + "    </DANHSACHHOSO>\r\n  </THONGTINHOSO>\r\n"
            "  <CHUKYDONVI></CHUKYDONVI>\r\n</GIAMDINHHS>\r\n").encode("utf-8")


def hospital_episode(ma_lk: str, *, standard: str = "3176", day: str = "20251103", drugs: int = 3,
                     services: int = 4, results: int = 5, notes: int = 2, **xml1: str) -> list[bytes]:
    """The tables of a real outpatient visit: XML1, XML2 (drugs), XML3 (services), XML4 (results),
    XML5 (clinical notes) and XML11 (sick-leave certificate)."""
    base = xml1_values(standard, ma_lk, ngay_vao=day + "0800")
    base.update(xml1)

    def rows(n: int) -> list[dict[str, str]]:
        return [{} for _ in range(n)]
    return [render("TONG_HOP", f"xml1_{standard}", base),
            table("XML2", standard, ma_lk, *rows(drugs), day=day),
            table("XML3", standard, ma_lk, *rows(services), day=day),
            table("XML4", standard, ma_lk, *rows(results), day=day),
            table("XML5", standard, ma_lk, *rows(notes), day=day),
            table("XML11", standard, ma_lk, day=day)]
