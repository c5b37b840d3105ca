"""`sohs pack` / `sohs unpack`: envelopes that validate, round-trip, and refuse bad tables."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from sohs_cli.cli.app import build_app
from sohs_cli.documents import samples
from sohs_cli.validation.engine import validate_path

runner = CliRunner()


def test_pack_validate_unpack_round_trip(examples: Path, tmp_path: Path) -> None:
    x1, x13 = examples / "tables" / "XML1_referral_3176.xml", examples / "tables" / "XML13_referral_3176.xml"
    env = tmp_path / "hoso.xml"
    r = runner.invoke(build_app(), ["pack", str(x1), str(x13), "--facility", "79001", "-o", str(env)])
    assert r.exit_code == 0, r.output
    rep = validate_path(str(env))
    assert rep.valid and rep.kind == "GIAMDINHHS" and rep.documents == 2
    raw = env.read_bytes()
    assert b"<CHUKYDONVI></CHUKYDONVI>" in raw and b"<SOLUONGHOSO>1</SOLUONGHOSO>" in raw
    r = runner.invoke(build_app(), ["unpack", str(env), "-d", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "out" / "HOSO1_XML1.xml").read_bytes() == x1.read_bytes()
    assert (tmp_path / "out" / "HOSO1_XML13.xml").read_bytes() == x13.read_bytes()


def test_pack_out_dir_one_envelope_per_ma_lk(tmp_path: Path) -> None:
    files = []
    for lk in ("LK202511000201", "LK202511000202"):
        f = tmp_path / f"{lk}_XML1.xml"
        f.write_bytes(samples.xml1("3176", lk))
        files.append(str(f))
    r = runner.invoke(build_app(), ["pack", *files, "--facility", "79001", "--out-dir", str(tmp_path / "env")])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "env").iterdir()) == ["LK202511000201.xml", "LK202511000202.xml"]


def test_pack_refuses_invalid_tables_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "XML1.xml"
    bad.write_bytes(samples.xml1("3176", "LK202511000203", card="GD479792000001"))
    out = tmp_path / "hoso.xml"
    r = runner.invoke(build_app(), ["pack", str(bad), "--facility", "79001", "-o", str(out)])
    assert r.exit_code == 1 and "nothing packed" in r.stderr and "card" in r.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == [bad]


def test_pack_bad_facility_is_usage_error(examples: Path, tmp_path: Path) -> None:
    r = runner.invoke(build_app(), ["pack", str(examples / "tables" / "XML1_referral_3176.xml"),
                                    "--facility", "1", "-o", str(tmp_path / "x.xml")])
    assert r.exit_code == 2 and "facility" in r.stderr


def test_checkup_envelope(tmp_path: Path) -> None:
    files = []
    for i, block in enumerate(samples.adult_checkup("KSK202611000009")):
        f = tmp_path / f"block{i}.xml"
        f.write_bytes(block)
        files.append(str(f))
    out = tmp_path / "ksk.xml"
    r = runner.invoke(build_app(), ["pack", *files, "--checkup", "--facility", "01001", "-o", str(out)])
    assert r.exit_code == 0, r.output
    rep = validate_path(str(out))
    assert rep.valid and rep.kind == "KHAMSUCKHOE" and rep.documents == 7  # Form 3: XML1, 2, 7, 9-12
    assert b"<CKS_NGUOI_KET_LUAN></CKS_NGUOI_KET_LUAN><CKS_BENH_VIEN></CKS_BENH_VIEN>" in out.read_bytes()


def test_pack_out_dir_names_from_ma_lk_stay_inside_bounded_and_unique(tmp_path: Path) -> None:
    """Issue 16: MA_LK `../x` wrote outside --out-dir, `a/b` failed, 100 Vietnamese letters (300 bytes)
    crashed with exit 70, and `a/b` and `a_b` would overwrite each other."""
    outside = tmp_path / "escaped"
    lks = [f"../{outside.name}", "a/b", "a_b", "ạ" * 100, "..", "/abs"]
    files = []
    for i, lk in enumerate(lks):
        f = tmp_path / f"t{i}.xml"
        f.write_bytes(samples.xml1("3176", lk))
        files.append(str(f))
    out = tmp_path / "env"
    r = runner.invoke(build_app(), ["pack", *files, "--facility", "79001", "--out-dir", str(out), "--no-validate"])
    assert r.exit_code == 0, r.output
    written = list(out.iterdir())
    assert len(written) == len(lks) and not list(tmp_path.glob("escaped*"))
    assert all(p.parent == out and len(p.name.encode()) < 255 for p in written)


def test_unpack_names_from_loaihoso_stay_inside_and_never_overwrite(tmp_path: Path) -> None:
    x1 = samples.xml1("3176", "LK1")
    import base64

    b64 = base64.b64encode(x1).decode()
    files = "".join(f"<FILEHOSO><LOAIHOSO>{loai}</LOAIHOSO><NOIDUNGFILE>{b64}</NOIDUNGFILE></FILEHOSO>"
                    for loai in ("../../escaped", "XML1", "XML1", "/abs", "x" * 300))
    env = tmp_path / "env.xml"
    env.write_text(f"<GIAMDINHHS><THONGTINDONVI><MACSKCB>79001</MACSKCB></THONGTINDONVI><THONGTINHOSO>"
                   f"<NGAYLAP>20251101</NGAYLAP><SOLUONGHOSO>1</SOLUONGHOSO><DANHSACHHOSO><HOSO>{files}</HOSO>"
                   f"</DANHSACHHOSO></THONGTINHOSO><CHUKYDONVI/></GIAMDINHHS>", encoding="utf-8")
    out = tmp_path / "out" / "deeper"
    r = runner.invoke(build_app(), ["unpack", str(env), "-d", str(out)])
    assert r.exit_code == 0, r.output
    written = sorted(p.name for p in out.iterdir())
    assert len(written) == 5 and "HOSO1_XML1.xml" in written and "HOSO1_XML1-1.xml" in written
    assert not list(tmp_path.rglob("escaped*")) or all(p.parent == out for p in tmp_path.rglob("escaped*"))


def test_repack_puts_every_payload_on_one_line_and_changes_nothing_else(examples: Path, tmp_path: Path) -> None:
    """Issue 14: line-wrapped base64 stays a validate error; `sohs pack --repack` rewrites it."""
    from sohs_cli.validation.engine import validate_bytes

    wrapped = (examples / "invalid_base64_line_breaks.xml").read_bytes()
    assert "envelope-base64" in {f.code for f in validate_bytes(wrapped, "w.xml").findings}
    src = tmp_path / "wrapped.xml"
    src.write_bytes(wrapped)
    out = tmp_path / "fixed.xml"
    r = runner.invoke(build_app(), ["pack", "--repack", str(src), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "repacked" in r.stdout and "1 NOIDUNGFILE" in r.stdout
    fixed = out.read_bytes()
    assert validate_bytes(fixed, "f.xml").valid
    head = wrapped[:wrapped.index(b"<NOIDUNGFILE>")]
    assert fixed.startswith(head) and fixed.endswith(wrapped[wrapped.rindex(b"</NOIDUNGFILE>"):])
    assert re.sub(rb"\s", b"", fixed) == re.sub(rb"\s", b"", wrapped)  # only whitespace went
    assert src.read_bytes() == wrapped  # the original is untouched
    garbage = tmp_path / "garbage.xml"
    garbage.write_bytes(re.sub(rb"<NOIDUNGFILE>[^<]*", b"<NOIDUNGFILE>@@ not base64 @@", wrapped, count=1))
    r = runner.invoke(build_app(), ["pack", "--repack", str(garbage), "-o", str(tmp_path / "g.xml")])
    assert r.exit_code == 1 and "not valid base64" in r.stderr and not (tmp_path / "g.xml").exists()


def test_repack_never_overwrites_the_original(examples: Path, tmp_path: Path) -> None:
    src = tmp_path / "wrapped.xml"
    src.write_bytes((examples / "invalid_base64_line_breaks.xml").read_bytes())
    for args in (["-o", str(src)], ["--out-dir", str(tmp_path)]):
        r = runner.invoke(build_app(), ["pack", "--repack", str(src), *args])
        assert r.exit_code == 2 and "never overwritten" in r.stderr
    assert src.read_bytes() == (examples / "invalid_base64_line_breaks.xml").read_bytes()


def test_unpack_writes_a_checkup_record_as_json_that_validate_reads_back(examples: Path, tmp_path: Path) -> None:
    """Issue 13: `sohs unpack --json` writes the decision's JSON form; `validate` reads it as the XML."""
    import json

    r = runner.invoke(build_app(), ["unpack", str(examples / "checkup_adult_2062.xml"), "-d", str(tmp_path / "j"),
                                    "--json"])
    assert r.exit_code == 0, r.output
    text = (tmp_path / "j" / "HOSO1.json").read_text(encoding="utf-8")
    message = json.loads(text)["khamsuckhoe"]
    first = message["thongtinhoso"]["danhsachhoso"]["hoso"]["filehoso"][0]
    assert first["loaihoso"] == "XML1" and first["noidungfile"]["thong_tin_hanh_chinh"]["ho_ten"] == "Trần Văn Minh"
    report = validate_path(str(tmp_path / "j" / "HOSO1.json"))
    assert report.valid and report.standard == "2062 form 3", [f.message_en for f in report.findings]
    bhyt = runner.invoke(build_app(), ["unpack", str(examples / "referral_episode_3176.xml"), "-d",
                                       str(tmp_path / "k"), "--json"])
    assert bhyt.exit_code == 1 and "QĐ 2062" in bhyt.output
