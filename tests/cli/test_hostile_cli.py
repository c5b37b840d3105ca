"""Hostile input through the commands (issue 15): exact exit codes and one clear line each."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from sohs_cli import samples
from sohs_cli.cli.app import build_app

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
