"""A partly invalid envelope splits into its valid and its invalid episodes (issue 14)."""

from __future__ import annotations

import base64
import re

from sohs_cli.documents import samples
from sohs_cli.validation.engine import validate_bytes
from sohs_cli.validation.splitting import split_envelope


def export_with_one_bad(bad: int = 2, count: int = 3) -> bytes:
    episodes = [samples.hospital_episode(f"LK20251100000{i}", drugs=1, services=1, results=1, notes=1,
                                         **({"MA_THE_BHYT": "GD479792000001"} if i == bad else {}))
                for i in range(1, count + 1)]
    return samples.export(episodes)


def payloads(data: bytes) -> list[bytes]:
    return re.findall(rb"<NOIDUNGFILE>([^<]*)</NOIDUNGFILE>", data)


def test_the_valid_episodes_go_one_way_and_the_invalid_ones_the_other() -> None:
    data = export_with_one_bad()
    report = validate_bytes(data, "export.xml")
    assert not report.valid and {f.code for f in report.errors} == {"card-length"}
    split = split_envelope(data, report)
    assert split is not None
    assert [e.ma_lk for e in split.valid_episodes] == ["LK202511000001", "LK202511000003"]
    assert [(e.index, e.ma_lk) for e in split.invalid_episodes] == [(2, "LK202511000002")]
    assert [f.code for f in split.invalid_episodes[0].errors] == ["card-length"]
    valid = validate_bytes(split.valid, "valid.xml")
    assert valid.valid and valid.findings == [] and valid.documents == 12
    invalid = validate_bytes(split.invalid, "invalid.xml")
    assert [f.code for f in invalid.errors] == ["card-length"] and invalid.documents == 6
    assert b"<SOLUONGHOSO>2</SOLUONGHOSO>" in split.valid and b"<SOLUONGHOSO>1</SOLUONGHOSO>" in split.invalid
    every = payloads(data)  # each table travels as it was, byte for byte
    assert payloads(split.valid) == every[:6] + every[12:] and payloads(split.invalid) == every[6:12]
    assert base64.b64decode(payloads(split.valid)[0]).startswith(b"<?xml")
    summary = split.summary()
    assert [e["ma_lk"] for e in summary["invalid_episodes"]] == ["LK202511000002"]  # type: ignore[index]


def test_what_cannot_be_split_is_not() -> None:
    data = export_with_one_bad()
    assert split_envelope(data, validate_bytes(export_with_one_bad(bad=0), "ok.xml")) is None  # valid
    one = export_with_one_bad(count=1, bad=1)
    assert split_envelope(one, validate_bytes(one, "one.xml")) is None  # its only episode is invalid
    wrong_facility = data.replace(b"<MACSKCB>79001</MACSKCB>", b"<MACSKCB>7900</MACSKCB>")
    assert split_envelope(wrong_facility, validate_bytes(wrong_facility, "f.xml")) is None  # concerns all
    miscounted = data.replace(b"<SOLUONGHOSO>3</SOLUONGHOSO>", b"<SOLUONGHOSO>5</SOLUONGHOSO>")
    split = split_envelope(miscounted, validate_bytes(miscounted, "c.xml"))
    assert split is not None and b"<SOLUONGHOSO>2</SOLUONGHOSO>" in split.valid  # recounted
