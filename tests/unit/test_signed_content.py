"""Issue 15, "what is read is not what was signed": every value sohs acts on is read from the
comment-free content the signature covers (C14N drops comments), and a processing instruction,
which C14N keeps but no health-record file uses, is refused where it could split a value."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from sohs_cli.documents import samples
from sohs_cli.documents.kinds import iter_hoso, pack
from sohs_cli.foundation.errors import InputError
from sohs_cli.foundation.xmlsafe import parse_bytes
from sohs_cli.mockportal.app import Portal, PortalConfig
from sohs_cli.signing.sign import FileSigner, sign_document
from sohs_cli.signing.testpki import TestPki
from sohs_cli.signing.trust import Trust
from sohs_cli.signing.verification import verify_bytes
from sohs_cli.submission.submit import DocumentInfo, SubmitOptions, prepare
from sohs_cli.validation.engine import validate_bytes
from tests.portal_helpers import FACILITY, accounts, envelope, submit_once

INTEGRITY = Trust.none(integrity_only=True)


def test_a_comment_inside_a_value_is_read_as_the_signature_sees_it() -> None:
    root = parse_bytes(b"<A><B>79<!---->001</B><C>x<!-- a -->y<![CDATA[z]]></C><D><!--c--></D></A>")
    assert [(e.tag, e.text) for e in root] == [("B", "79001"), ("C", "xyz"), ("D", None)]
    assert len(root[2]) == 0  # no comment node is left to count as a child


def test_a_processing_instruction_inside_the_document_is_refused() -> None:
    with pytest.raises(InputError) as err:
        parse_bytes(b"<A><B>79<?x y?>001</B></A>", source="f.xml")
    assert err.value.code == "pi-forbidden" and "f.xml" in err.value.message and "line 1" in err.value.message
    # before or after the document element it splits no value
    assert parse_bytes(b'<?xml version="1.0"?><?xml-stylesheet href="a"?><A>1</A><?after?>').text == "1"
    assert parse_bytes(b"<A><!-- <?not a pi?> --><B>1</B></A>")[0].text == "1"


def _commented_envelope(ma_lk: str) -> bytes:
    data = envelope(ma_lk)
    assert b"<MACSKCB>79001</MACSKCB>" in data
    return data.replace(b"<MACSKCB>79001</MACSKCB>", b"<MACSKCB>79<!---->001</MACSKCB>")


def test_the_facility_submit_acts_on_is_the_signed_one(tmp_path: Path, pki: TestPki, clinic: FileSigner) -> None:
    signed = sign_document(_commented_envelope("LK202511009001"), clinic)
    assert verify_bytes(signed, "f.xml", trust=INTEGRITY).valid  # the comment is not covered: the signature holds
    path = tmp_path / "f.xml"
    path.write_bytes(signed)
    info = prepare(str(path), SubmitOptions(facility=FACILITY, trust=Trust.of_files([pki.clinic_cert])))
    assert isinstance(info, DocumentInfo), info
    assert info.facility == FACILITY


def test_a_comment_cannot_split_ma_lk_when_packing() -> None:
    tables = [(name, data.replace(b"<MA_LK>LK2025", b"<MA_LK>LK<!-- -->2025"))
              for name, data in _tables("LK202511009002")]
    assert b"<MA_LK>LK<!-- -->2025" in tables[0][1]
    assert pack(tables, facility=FACILITY).ma_lk == "LK202511009002"


def test_a_comment_cannot_truncate_noidungfile() -> None:
    data = envelope("LK202511009003")
    start = data.index(b"<NOIDUNGFILE>") + len(b"<NOIDUNGFILE>")
    split = data[:start + 40] + b"<!-- -->" + data[start + 40:]
    files = [f for h in iter_hoso(parse_bytes(split)) for f in h.files]
    assert files[0].error is None and files[0].data is not None
    assert files[0].data == base64.b64decode(data[start:data.index(b"</NOIDUNGFILE>")])
    assert validate_bytes(split, "f.xml").valid


def test_the_portal_reads_the_signed_facility(tmp_path: Path, pki: TestPki, clinic: FileSigner) -> None:
    signed = sign_document(_commented_envelope("LK202511009004"), clinic)
    portal = Portal(PortalConfig(data_dir=str(tmp_path / "data"), accounts=accounts(tmp_path, pki)))

    answer = submit_once(portal, signed)
    assert answer["maKetQua"] == "200", answer


def _tables(ma_lk: str) -> list[tuple[str, bytes]]:
    from sohs_cli.documents import samples

    base = samples.xml1_values("3176", ma_lk, ma_loai_rv="2")
    return [("x1", samples.xml1("3176", ma_lk, ma_loai_rv="2")), ("x13", samples.xml13("3176", ma_lk, base))]


@pytest.mark.parametrize("where", [b"</SignedInfo>", b"</SignatureValue>", b"</KeyInfo>", b"</DigestMethod>"])
def test_text_between_signature_parts_is_a_bad_signature_not_a_crash(
        tmp_path: Path, pki: TestPki, clinic: FileSigner, where: bytes) -> None:
    signed = sign_document(envelope("LK202511009005"), clinic)
    hostile = signed.replace(where, where + b"junk", 1)
    report = verify_bytes(hostile, "f.xml", trust=INTEGRITY)  # raised InputError out of the verifier before issue 15
    assert not report.valid and [s.code for s in report.signatures] == ["bad-signature"]
    assert "125" in report.signatures[0].message_en
    (tmp_path / "a.xml").write_bytes(hostile)
    item = prepare(str(tmp_path / "a.xml"), SubmitOptions())
    assert not isinstance(item, DocumentInfo) and item.status == "refused"
    portal = Portal(PortalConfig(data_dir=str(tmp_path / "data"), accounts=accounts(tmp_path, pki)))

    assert submit_once(portal, hostile)["maKetQua"] == "125"


def test_an_inner_table_over_7_5_mb_is_accepted_below_the_50_mb_limit() -> None:
    # a NOIDUNGFILE over 10 MB of base64 was "Text node too long" (libxml2's huge-text limit)
    xml1 = samples.xml1("3176", "LK202511009006", ma_loai_rv="2")
    big = xml1.replace(b"</TONG_HOP>", b"<!--" + b"x" * 8_000_000 + b"--></TONG_HOP>")
    data = pack([("x1", big)], facility=FACILITY).data
    assert len(data) > 10_500_000
    report = validate_bytes(data, "big.xml")
    assert report.valid, [f.message_en for f in report.findings][:3]
    with pytest.raises(InputError):  # a table keeps libxml2's 10 MB text limit: no value is that long
        parse_bytes(b"<TONG_HOP>" + b"y" * 11_000_000 + b"</TONG_HOP>")
