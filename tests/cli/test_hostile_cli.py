"""Hostile input through the commands (issue 15): exact exit codes and one clear line each."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from sohs_cli.cli.app import build_app
from sohs_cli.documents import samples

runner = CliRunner()


def _unknown(tmp_path: Path, n: int) -> Path:
    xml1 = samples.xml1("3176", "LK202511009501", ma_loai_rv="2")
    end = xml1.index(b"</TONG_HOP>")
    path = tmp_path / "unknown.xml"
    path.write_bytes(xml1[:end] + b"<X/>" * n + xml1[end:])
    return path


def test_max_findings_caps_every_format(tmp_path: Path) -> None:
    path = _unknown(tmp_path, 3000)
    r = runner.invoke(build_app(), ["validate", str(path), "--max-findings", "10"])
    assert r.exit_code == 1
    assert r.output.count("xsd:unexpected-element") == 10 and "at least 2,990 more not listed" in r.output
    r = runner.invoke(build_app(), ["validate", str(path), "-f", "json"])
    entry = json.loads(r.output)["files"][0]
    assert r.exit_code == 1 and len(entry["errors"]) == 1000 and entry["omitted"] == 2000 and entry["stopped"]
    r = runner.invoke(build_app(), ["validate", str(path), "-f", "junit", "--max-findings", "3"])
    assert r.exit_code == 1 and r.output.count("<failure") == 3 and "--max-findings" in r.output


def _signed_name_with_escape(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    path = folder / "evil\x1b[2J\x1b]0;pwned\x07\nPASS fake.xml"
    path.write_bytes(samples.xml1("3176", "LK202511009502", ma_loai_rv="2"))
    return folder


def test_terminal_escapes_in_file_names_are_written_out(tmp_path: Path) -> None:
    folder = _signed_name_with_escape(tmp_path)
    for args in (["validate", str(folder)], ["validate", str(folder), "-o", str(tmp_path / "r.txt")],
                 ["verify", str(folder), "--integrity-only"]):
        r = runner.invoke(build_app(), args)
        text = r.output + ((tmp_path / "r.txt").read_text() if "-o" in args else "")
        assert "\x1b" not in text and "\x07" not in text, args
        assert "\\x1b[2J" in text and "\nPASS fake.xml" not in text, args


def test_fifos_and_links_in_a_folder_are_skipped_with_one_line(tmp_path: Path) -> None:
    import os

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.xml").write_bytes(samples.xml1("3176", "LK202511009503", ma_loai_rv="2"))
    os.mkfifo(folder / "pipe.xml")  # hung validate, verify, sign and submit for ever before issue 15
    outside = tmp_path / "outside.xml"
    outside.write_bytes(b"<TONG_HOP/>")
    (folder / "link.xml").symlink_to(outside)
    r = runner.invoke(build_app(), ["validate", str(folder)])
    assert r.exit_code == 0, r.output
    assert "skipped" in r.output and "named pipe (FIFO)" in r.output and "symbolic link, not followed" in r.output
    assert "outside.xml" not in r.output and "1 file(s)" in r.output.replace("1 tệp", "1 file(s)")
    r = runner.invoke(build_app(), ["verify", str(folder), "--integrity-only"])
    assert "named pipe" in r.output and r.exit_code == 1  # good.xml is a bare table: not a signed document
    r = runner.invoke(build_app(), ["validate", "--from-list", str(_latin1_list(tmp_path))])
    assert r.exit_code == 2 and "not UTF-8" in r.output and "Traceback" not in r.output


def _latin1_list(tmp_path: Path) -> Path:
    path = tmp_path / "list.txt"
    path.write_bytes("h\xf4so.xml\n".encode("latin-1"))
    return path


def test_a_non_utf8_password_in_the_environment_is_exit_3_and_shows_no_byte(tmp_path: Path) -> None:
    import os

    from sohs_cli.foundation.credentials import SecretSource
    from sohs_cli.foundation.errors import CredentialError

    os.environb[b"SOHS_TEST_SECRET"] = b"m\xe2t-kh\xff\xfeu"
    try:
        try:
            SecretSource("portal password", "SOHS_TEST_SECRET").configured()
        except CredentialError as exc:
            assert exc.exit_code == 3 and "$SOHS_TEST_SECRET is not UTF-8" in exc.message
            assert "\udcff" not in exc.message + exc.hint and "position" not in exc.message
        else:
            raise AssertionError("a non-UTF-8 secret was accepted")  # exit 70 before issue 15
    finally:
        del os.environb[b"SOHS_TEST_SECRET"]


def test_config_show_hides_credentials_in_the_portal_url(tmp_path: Path) -> None:
    conf = tmp_path / "sohs.toml"
    conf.write_text('[portal]\nurl = "https://79001_BV:s3cr3t-pw@egw.example.vn/api"\n', encoding="utf-8")
    for extra in ([], ["--json"]):
        r = runner.invoke(build_app(), ["config", "show", "--config", str(conf), *extra])
        assert r.exit_code == 0, r.output
        assert "s3cr3t-pw" not in r.output and "79001_BV:" not in r.output
    assert json.loads(r.output)["settings"]["portal.url"]["value"] == "https://***@egw.example.vn/api"


def test_pack_and_unpack_read_no_more_than_the_size_limit(tmp_path: Path) -> None:
    import tracemalloc

    from sohs_cli.foundation.errors import SohsError
    from sohs_cli.validation.packing import pack_files

    huge = tmp_path / "huge.xml"
    with open(huge, "wb") as fh:
        fh.truncate(200 * 1024 * 1024)  # sparse: 200 MB on paper, nothing on disk
    tracemalloc.start()
    try:
        try:
            pack_files([str(huge)], facility="79001", output=str(tmp_path / "e.xml"), out_dir=None)
        except SohsError as exc:
            assert "byte limit" in exc.message
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 60 * 1024 * 1024, peak  # the whole 200 MB before issue 15
    r = runner.invoke(build_app(), ["unpack", str(huge), "-d", str(tmp_path / "out")])
    assert r.exit_code == 1 and "limit" in r.output and "Traceback" not in r.output
