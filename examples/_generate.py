"""Rewrite the example documents: ``python examples/_generate.py``. Patients are fictional."""

from __future__ import annotations

import base64
import datetime as dt
import re
from pathlib import Path

from sohs_cli.documents import samples
from sohs_cli.documents.kinds import pack

HERE = Path(__file__).resolve().parent
DAY = dt.date(2026, 11, 20)


def envelope(tables: list[bytes], facility: str = "79001", kind: str = "GIAMDINHHS") -> bytes:
    return pack([(f"t{i}", t) for i, t in enumerate(tables)], facility=facility, envelope=kind, today=DAY).data


def write(name: str, data: bytes) -> None:
    (HERE / name).parent.mkdir(parents=True, exist_ok=True)
    (HERE / name).write_bytes(data)


def main() -> None:
    for std, year in (("3176", "2025"), ("4750", "2024")):
        lk = f"LK{year}11000001"
        base = samples.xml1_values(std, lk, ma_loai_rv="2")
        x1 = samples.xml1(std, lk, ma_loai_rv="2")
        x13 = samples.xml13(std, lk, base)
        write(f"referral_episode_{std}.xml", envelope([x1, x13]))
        lk = f"LK{year}11000002"
        base = samples.xml1_values(std, lk)
        write(f"appointment_episode_{std}.xml", envelope([samples.xml1(std, lk), samples.xml14(std, lk, base)]))
        if std == "3176":
            write("tables/XML1_referral_3176.xml", x1)
            write("tables/XML13_referral_3176.xml", x13)
    write("checkup_adult_2062.xml", envelope(samples.adult_checkup("KSK202611000001"), "01001", "KHAMSUCKHOE"))
    write("checkup_pupil_6to18_2062.xml", envelope(samples.pupil_checkup("KSK202611000003"), "01001", "KHAMSUCKHOE"))
    write("checkup_child_under6_2062.xml", envelope(samples.child_checkup("KSK202611000004"), "01001",
                                                    "KHAMSUCKHOE"))

    # ---- invalid ones: the mistakes clinics really make
    lk = "LK202511000101"
    card = "GD479792000001"  # 14 characters
    base = samples.xml1_values("3176", lk, ma_loai_rv="2", card=card)
    write("invalid_card_length_3176.xml", envelope([
        samples.xml1("3176", lk, ma_loai_rv="2", card=card), samples.xml13("3176", lk, base)]))

    lk = "LK202511000102"
    base = samples.xml1_values("3176", lk)
    write("invalid_appointment_before_discharge_3176.xml", envelope([
        samples.xml1("3176", lk), samples.xml14("3176", lk, base, NGAY_HEN_KL="20251101")]))

    lk = "LK202511000103"
    base = samples.xml1_values("3176", lk, ma_loai_rv="2")
    x13 = samples.xml13("3176", lk, base, MA_BAC_SI="")
    x13 = re.sub(rb"  <DAU_HIEU_LS>.*?</DAU_HIEU_LS>\r\n", b"", x13)
    write("invalid_missing_required_3176.xml", envelope([samples.xml1("3176", lk, ma_loai_rv="2"), x13]))

    lk = "LK202511000104"
    good = envelope([samples.xml1("3176", lk)])
    wrapped = re.sub(rb"<NOIDUNGFILE>([^<]+)</NOIDUNGFILE>",
                     lambda m: b"<NOIDUNGFILE>" + base64.encodebytes(base64.b64decode(m.group(1))).strip()
                     + b"</NOIDUNGFILE>", good)
    write("invalid_base64_line_breaks.xml", wrapped)

    lk = "LK202406000105"
    base = samples.xml1_values("4750", lk, ma_loai_rv="1")
    write("invalid_referral_without_transfer_4750.xml", envelope([
        samples.xml1("4750", lk, ma_loai_rv="1"), samples.xml13("4750", lk, base)]))

    # ---- a real export: several episodes, every table a hospital sends (issue 14)
    episodes = [samples.hospital_episode(f"LK202511000{i:03d}", drugs=3, services=3, results=2, notes=1)
                for i in range(201, 204)]
    write("hospital_export_3176.xml", samples.export(episodes))
    bad = samples.hospital_episode("LK202511000205", drugs=2, services=2, results=1, notes=1,
                                   T_TONGCHI_BV="325000,50")  # comma decimal: money uses '.'
    write("invalid_one_bad_episode_3176.xml", samples.export([episodes[0], bad, episodes[2]]))

    write("invalid_checkup_class_and_bmi_2062.xml", envelope(
        samples.adult_checkup("KSK202611000002", phan_loai_sk="1", bmi="30.1"), "01001", "KHAMSUCKHOE"))
    write("invalid_checkup_missing_name_2062.xml", envelope(
        samples.adult_checkup("KSK202611000005", HO_TEN=None), "01001", "KHAMSUCKHOE"))
    write("invalid_checkup_mixed_forms_2062.xml", envelope(
        [*samples.adult_checkup("KSK202611000006", TUAN_THAI="38"),
         samples.ksk_block("XML3", {"NHIET_DO": "36.8", "DGDHST_NHIET_DO": "1"}, form=1)], "01001", "KHAMSUCKHOE"))


if __name__ == "__main__":
    main()
