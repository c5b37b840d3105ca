"""One exit-code rule for every command (issue 17, README "Exit codes"): a path named on the command
line that does not exist, or names no file to work on, is a usage error (2); an output that cannot be
written is a machine problem (3). cert show, pack and unpack exited 1 ("findings") for a missing file,
`validate -o /nonexistent/x.json` exited 1 for a valid file, and an empty folder gave 0 in submit and
verify but 2 in validate."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from sohs_cli.cli.app import build_app
from sohs_cli.signing.testpki import TestPki

runner = CliRunner()
VALID = "referral_episode_3176.xml"


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(build_app(list(args)), list(args))
    return result.exit_code, result.stdout + result.stderr


@pytest.fixture
def missing(tmp_path: Path) -> str:
    return str(tmp_path / "not-there.xml")


@pytest.fixture
def empty(tmp_path: Path) -> str:
    (tmp_path / "empty").mkdir()
    return str(tmp_path / "empty")


@pytest.fixture
def nowhere(tmp_path: Path) -> str:
    """An output path no one can write: its folder is a file."""
    (tmp_path / "not-a-folder").write_text("x")
    return str(tmp_path / "not-a-folder" / "out.xml")


def commands(examples: Path, pki: TestPki, target: str) -> dict[str, list[str]]:
    """Each command with ``target`` as the path it reads."""
    return {
        "validate": ["validate", target],
        "validate --format json": ["validate", "--format", "json", target],
        "verify": ["verify", "--integrity-only", target],
        "sign": ["sign", target, "--p12", pki.clinic_p12, "--password-file", pki.password_file, "--out-dir",
                 str(Path(pki.password_file).parent / "signed-out")],
        "submit": ["submit", target, "--portal", "http://127.0.0.1:9", "--username", "u", "--dry-run"],
        "cert show": ["cert", "show", target],
        "pack": ["pack", target, "--facility", "79001", "-o", str(Path(pki.password_file).parent / "packed.xml")],
        "unpack": ["unpack", target, "-d", str(Path(pki.password_file).parent / "unpacked")],
    }


@pytest.mark.parametrize("command", ["validate", "validate --format json", "verify", "sign", "submit", "cert show",
                                     "pack", "unpack"])
def test_a_missing_path_is_a_usage_error(command: str, examples: Path, pki: TestPki, missing: str) -> None:
    code, out = run(*commands(examples, pki, missing)[command])
    assert code == 2, out
    assert "not-there.xml" in out and "Traceback" not in out


@pytest.mark.parametrize("command", ["validate", "validate --format json", "verify", "sign", "submit"])
def test_a_folder_without_xml_is_a_usage_error(command: str, examples: Path, pki: TestPki, empty: str) -> None:
    code, out = run(*commands(examples, pki, empty)[command])
    assert code == 2, out
    assert "no .xml file" in out


@pytest.mark.parametrize("args", [
    ["validate", "-o", "{nowhere}", "{valid}"],
    ["validate", "--format", "json", "-o", "{nowhere}", "{valid}"],
    ["sign", "{valid}", "--p12", "{p12}", "--password-file", "{password}", "-o", "{nowhere}"],
    ["pack", "{table}", "--facility", "79001", "-o", "{nowhere}"],
])
def test_an_unwritable_output_is_exit_3(args: list[str], examples: Path, pki: TestPki, nowhere: str,
                                        tmp_path: Path) -> None:
    if "validate" in args:  # and a missing folder, for a file output (validate -o /nonexistent/x.json)
        code, out = run("validate", "-o", str(tmp_path / "no-such-folder" / "x.json"), str(examples / VALID))
        assert code == 3, out
    values = {"nowhere": nowhere, "valid": str(examples / VALID), "p12": pki.clinic_p12,
              "password": pki.password_file, "table": str(examples / "tables" / "XML1_referral_3176.xml")}
    code, out = run(*(a.format(**values) for a in args))
    assert code == 3, out
    assert "not-a-folder" in out and "Traceback" not in out


def test_unpack_into_a_folder_it_cannot_make_is_exit_3(examples: Path, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    code, out = run("unpack", str(examples / VALID), "-d", str(tmp_path / "a-file" / "inner"))
    assert code == 3, out
