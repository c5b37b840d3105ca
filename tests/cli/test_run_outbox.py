"""`sohs run` accounts for every file of the outbox and its hints name what exists (issue 16)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sohs_cli.cli.app import build_app
from sohs_cli.signing.testpki import TestPki
from tests.portal_helpers import envelope

runner = CliRunner()


def clinic(tmp_path: Path, extra: str = "") -> Path:
    (tmp_path / "outbox").mkdir()
    (tmp_path / "sohs.toml").write_text(
        '[portal]\nurl = "https://portal.invalid"\nusername = "79001_BV"\nattempts = 1\n'
        f'[run]\nsettle_seconds = 3600\n{extra}', encoding="utf-8")
    return tmp_path


def test_files_left_in_the_outbox_are_counted_and_named(tmp_path: Path, pki: TestPki,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    folder = clinic(tmp_path, f'[verify]\nca_bundle = "{pki.ca_cert}"\n')
    outbox = folder / "outbox"
    (outbox / "fresh.xml").write_bytes(envelope("LKFRESH001"))  # the HIS is still writing it
    (outbox / "y.xml.part").write_text("<GIAMDINHHS>")
    (outbox / "sub").mkdir()
    (outbox / "sub" / "x.xml").write_bytes(envelope("LKSUB0001"))
    (outbox / "notes.txt").write_text("not a document")
    monkeypatch.chdir(folder)
    monkeypatch.setenv("SOHS_PORTAL_PASSWORD", "x")
    r = runner.invoke(build_app(), ["run", "--json"])
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    assert (report["picked"], report["settling"], report["ignored"]) == (0, 2, 2)
    why = {f["file"]: f["message"] for f in report["files"]}
    assert set(why) == {"fresh.xml", "y.xml.part", os.path.join("sub", "x.xml"), "notes.txt"}
    assert "run.settle_seconds" in why["fresh.xml"] and "sub-folder" in why[os.path.join("sub", "x.xml")]


def test_hints_name_only_what_the_command_has(tmp_path: Path, pki: TestPki, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--password-file` was hinted on `run` and `doctor`, which have no such option."""
    folder = clinic(tmp_path, f'settle_seconds = 0\n[signing]\np12 = "{pki.clinic_p12}"\n')
    (folder / "sohs.toml").write_text((folder / "sohs.toml").read_text().replace("settle_seconds = 3600\n", ""))
    (folder / "outbox" / "e.xml").write_bytes(envelope("LKHINT0001"))
    monkeypatch.chdir(folder)
    for command in (["run"], ["doctor"]):
        r = runner.invoke(build_app(), command)
        assert r.exit_code == 3, r.output
        assert "--password-file" not in r.output, r.output
        assert "signing.password_file" in r.output or "SOHS_P12_PASSWORD" in r.output, r.output
