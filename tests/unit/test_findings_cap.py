"""Issue 15: memory and time are bounded by --max-findings, not by what a hostile file gets wrong.
A file lists at most the cap, counts the rest, and stops walking the document once the cap is full."""

from __future__ import annotations

import base64
import json
import re

from sohs_cli.documents import samples
from sohs_cli.documents.kinds import pack
from sohs_cli.validation.engine import ValidateOptions, validate_bytes
from sohs_cli.validation.report import Finding, Findings
from sohs_cli.validation.reporting.json_report import file_json


def _with_unknown(n: int) -> bytes:
    xml1 = samples.xml1("3176", "LK202511009301", ma_loai_rv="2")
    end = xml1.index(b"</TONG_HOP>")
    return xml1[:end] + b"<X/>" * n + xml1[end:]


def test_ten_thousand_unknown_elements_list_the_cap_and_count_the_rest() -> None:
    report = validate_bytes(_with_unknown(10_000), "u.xml")
    assert len(report.findings) == 1000  # 10,000 findings (and 10⁶ → 1.9 GB) before issue 15
    assert report.omitted == 9_000 and report.omitted_errors == 9_000 and not report.valid
    assert "at least 9,000 more not listed" in report.cap_note()
    assert "ít nhất 9,000 phát hiện khác" in report.cap_note("vi")
    small = validate_bytes(_with_unknown(10_000), "u.xml", ValidateOptions(max_findings=5))
    assert len(small.findings) == 5 and small.omitted == 9_995
    whole = validate_bytes(_with_unknown(1_200), "u.xml", ValidateOptions(max_findings=0))
    assert len(whole.findings) == 1_200 and whole.omitted == 0 and not whole.stopped


def test_checking_stops_once_the_cap_is_full() -> None:
    # 300 HOSO, each with an XML1 whose card is short: a finding per HOSO, a walk per HOSO
    bad = samples.xml1("3176", "LK202511009302", ma_loai_rv="2").replace(b"GD4797920000001", b"GD479792000001")
    assert bad != samples.xml1("3176", "LK202511009302", ma_loai_rv="2")
    one = base64.b64encode(bad).decode()
    hoso = f"<HOSO><FILEHOSO><LOAIHOSO>XML1</LOAIHOSO><NOIDUNGFILE>{one}</NOIDUNGFILE></FILEHOSO></HOSO>"
    envelope = pack([("x1", bad)], facility="79001").data.decode()
    envelope = re.sub(r"<HOSO>.*</HOSO>", hoso * 300, envelope).replace("<SOLUONGHOSO>1<", "<SOLUONGHOSO>300<")
    report = validate_bytes(envelope.encode(), "e.xml", ValidateOptions(max_findings=10))
    assert len(report.findings) == 10 and report.stopped and not report.valid
    assert report.documents < 300  # the HOSO after the cap were never opened
    assert report.cap_note().startswith("… checking stopped after 10 findings")
    as_json = json.loads(file_json(report))
    assert as_json["stopped"] is True and len(as_json["errors"]) == 10


def test_a_file_checked_in_part_is_not_valid_even_with_warnings_only() -> None:
    capped = Findings(2)
    warning = Finding("w", "warning", "en", "vi")
    capped.extend(iter([warning] * 5))
    assert len(capped) == 2 and capped.stopped and capped.omitted == 1
    capped.extend([warning, warning])
    assert capped.omitted == 3


def test_five_thousand_digits_of_soluonghoso_are_a_finding_not_a_crash() -> None:
    data = pack([("x1", samples.xml1("3176", "LK202511009303", ma_loai_rv="2"))], facility="79001").data
    data = data.replace(b"<SOLUONGHOSO>1<", b"<SOLUONGHOSO>" + b"9" * 5000 + b"<")
    report = validate_bytes(data, "n.xml")  # ValueError (integer-string limit), exit 70, before issue 15
    count = [f for f in report.findings if f.code == "envelope-count"]
    assert len(count) == 1 and "5,000 digits" in count[0].message_en and len(count[0].message_en) < 300
    superscript = data.replace(b"9" * 5000, "²".encode())
    assert validate_bytes(superscript, "n.xml").findings  # isdigit() but not int(): no crash either


def test_millions_of_elements_are_refused_before_the_tree_is_built() -> None:
    import resource

    from sohs_cli.foundation.errors import InputError
    from sohs_cli.foundation.xmlsafe import parse_bytes

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    data = b"<TONG_HOP>" + b"<X/>" * 2_000_000 + b"</TONG_HOP>"  # 8 MB; 12.5 million at 50 MB: 1.5 GB
    try:
        parse_bytes(data, source="many.xml")
    except InputError as exc:
        assert exc.code == "too-many-elements" and "2,000,002 tags" in exc.message
    else:
        raise AssertionError("two million elements were parsed")
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 100, grown_mb  # the tree alone is ~240 MB
    report = validate_bytes(data, "many.xml")
    assert [f.code for f in report.findings] == ["too-many-elements"]


def test_an_envelope_checked_in_part_is_never_split() -> None:
    from sohs_cli.validation.splitting import split_envelope

    good = base64.b64encode(samples.xml1("3176", "LK202511009304", ma_loai_rv="2")).decode()
    bad_xml = samples.xml1("3176", "LK202511009305", ma_loai_rv="2").replace(b"GD4797920000001", b"GD479792000001")
    bad = base64.b64encode(bad_xml).decode()

    def hoso(b64: str) -> str:
        return f"<HOSO><FILEHOSO><LOAIHOSO>XML1</LOAIHOSO><NOIDUNGFILE>{b64}</NOIDUNGFILE></FILEHOSO></HOSO>"

    envelope = pack([("x1", bad_xml)], facility="79001").data.decode()
    body = hoso(bad) * 5 + hoso(good) + hoso(bad) * 5  # the cap is reached before the last five
    data = re.sub(r"<HOSO>.*</HOSO>", body, envelope).replace("<SOLUONGHOSO>1<", "<SOLUONGHOSO>11<").encode()
    report = validate_bytes(data, "e.xml", ValidateOptions(max_findings=5))
    assert report.stopped
    assert split_envelope(data, report) is None  # the unchecked HOSO 7-11 were "valid" to a split before
    whole = validate_bytes(data, "e.xml")
    split = split_envelope(data, whole)
    assert split is not None and [e.index for e in split.valid_episodes] == [6]
