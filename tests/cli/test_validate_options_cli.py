"""validate --quiet, --errors-only, --skip-unknown and --json (issue 17), and the pre-commit hook that
uses --skip-unknown so a vendor's pom.xml no longer fails it."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from typer.testing import CliRunner

from sohs_cli.cli.app import build_app
from tests.cli.schemas import assert_schema
from tests.cli.test_validate_cli import _warning_only

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
POM = """<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion></project>
"""


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(build_app(list(args)), list(args))
    return result.exit_code, result.stdout


def test_quiet_prints_failures_and_the_summary_only(examples: Path) -> None:
    valid, invalid = examples / "referral_episode_3176.xml", examples / "invalid_card_length_3176.xml"
    code, out = run("validate", "--quiet", str(valid), str(invalid))
    assert code == 1
    assert "PASS" not in out and str(valid) not in out
    assert f"FAIL {invalid}" in out and "card-length" in out and "2 file(s): 1 valid, 1 invalid" in out
    code, out = run("validate", "-q", str(valid))
    assert code == 0 and out == "1 file(s): 1 valid, 0 invalid\n"


def test_errors_only_leaves_warnings_out(tmp_path: Path) -> None:
    path = _warning_only(tmp_path)
    code, out = run("validate", "--errors-only", str(path))
    assert code == 0 and "length-over-decision" not in out and "warning" not in out
    code, out = run("validate", "--errors-only", "--json", str(path))
    assert json.loads(out)["files"][0]["warnings"] == []
    code, out = run("validate", "--errors-only", "--strict", str(path))  # strict: they are errors, and stay
    assert code == 1 and "length-over-decision" in out


def test_skip_unknown_skips_xml_that_is_no_health_record(tmp_path: Path, examples: Path) -> None:
    (tmp_path / "pom.xml").write_text(POM, encoding="utf-8")
    code, out = run("validate", str(tmp_path / "pom.xml"))
    assert code == 1 and "unknown-document" in out  # without the flag: a finding, as before
    code, out = run("validate", "--skip-unknown", str(tmp_path / "pom.xml"),
                    str(examples / "referral_episode_3176.xml"))
    assert code == 0 and "pom.xml" not in out
    assert "1 file(s): 1 valid, 0 invalid; 1 skipped (not health records)" in out
    code, out = run("validate", "--skip-unknown", "--json", str(tmp_path / "pom.xml"))
    data = json.loads(out)
    assert_schema("validate", data)
    assert code == 0 and data["files"] == [] and data["summary"]["skipped"] == 1
    (tmp_path / "broken.xml").write_text("<project>", encoding="utf-8")  # not well-formed: still a finding
    code, _ = run("validate", "--skip-unknown", str(tmp_path / "broken.xml"))
    assert code == 1


def test_json_is_format_json(examples: Path) -> None:
    target = str(examples / "invalid_card_length_3176.xml")
    assert run("validate", "--json", target) == run("validate", "--format", "json", target)


def test_the_pre_commit_hook_skips_unknown_xml(tmp_path: Path) -> None:
    """.pre-commit-hooks.yaml runs `sohs validate --skip-unknown` on files of type xml; a vendor's
    pom.xml failed the hook."""
    text = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    hook = dict(line.strip().lstrip("- ").split(": ", 1) for line in text.splitlines()
                if ": " in line and not line.lstrip().startswith("#"))
    assert hook["types"] == "[xml]" and "files" not in hook
    entry = shlex.split(hook["entry"])
    assert entry[:2] == ["sohs", "validate"] and "--skip-unknown" in entry
    (tmp_path / "pom.xml").write_text(POM, encoding="utf-8")
    code, _ = run(*entry[1:], str(tmp_path / "pom.xml"))
    assert code == 0
