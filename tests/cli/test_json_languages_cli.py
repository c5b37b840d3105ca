"""JSON reports carry both languages whatever the run's (issue 17): an input error (a file that cannot
be read or parsed) has its English in ``message_en`` and its Vietnamese in ``message_vi`` under
``--lang vi`` and ``--lang en`` alike; before, the error held one text, the run's, in both fields."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sohs_cli.cli.app import build_app
from tests.cli.schemas import assert_schema

runner = CliRunner()
VIETNAMESE = re.compile("[ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]", re.I)


def run_json(*args: str) -> tuple[int, Any]:
    result = runner.invoke(build_app(list(args)), list(args))
    return result.exit_code, json.loads(result.stdout)


def english(text: str) -> bool:
    """English: no Vietnamese letter outside element labels, and some English words."""
    bare = re.sub(r"\([^()]*\)|QĐ", "", text)
    return not VIETNAMESE.search(bare) and re.search(r"\b(not|is|the|JSON|XML|file)\b", bare) is not None


@pytest.fixture
def broken(tmp_path: Path) -> dict[str, Path]:
    files = {"malformed": tmp_path / "malformed.xml", "json": tmp_path / "record.json",
             "deep": tmp_path / "deep.json"}
    files["malformed"].write_bytes(b"<GIAMDINHHS><THONGTINDONVI>\n")
    files["json"].write_bytes(b'{"khamsuckhoe": {"thongtindonvi": ')  # cut short
    files["deep"].write_bytes(b'{"wrong": {}}')
    return files


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("which", ["malformed", "json", "deep"])
def test_an_input_error_has_both_languages_in_validate_json(broken: dict[str, Path], lang: str, which: str) -> None:
    code, data = run_json("--lang", lang, "validate", "--json", str(broken[which]))
    assert code == 1
    assert_schema("validate", data)
    error = data["files"][0]["errors"][0]
    assert english(error["message_en"]), error
    assert VIETNAMESE.search(error["message_vi"]) and not english(error["message_vi"]), error
    assert error["message"] == error[f"message_{lang}"]
    if error["hint"]:
        assert english(error["hint_en"]), error
        assert error["hint_vi"] != error["hint_en"], error


def test_the_two_runs_give_the_same_two_texts(broken: dict[str, Path]) -> None:
    _, vi = run_json("--lang", "vi", "validate", "--json", str(broken["json"]))
    _, en = run_json("--lang", "en", "validate", "--json", str(broken["json"]))
    for key in ("message_en", "message_vi", "hint_en", "hint_vi"):
        assert vi["files"][0]["errors"][0][key] == en["files"][0]["errors"][0][key], key


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_verify_error_has_both_languages(tmp_path: Path, lang: str) -> None:
    """A bare table is no signed document, a malformed file cannot be read: the error of each file, in
    both languages, schema-checked."""
    table = tmp_path / "table.xml"
    table.write_bytes(b"<TONG_HOP><MA_LK>LK1</MA_LK></TONG_HOP>")
    malformed = tmp_path / "malformed.xml"
    malformed.write_bytes(b"<GIAMDINHHS>")
    code, data = run_json("--lang", lang, "verify", "--json", "--integrity-only", str(table), str(malformed))
    assert code == 1
    assert_schema("verify", data)
    for f in data["files"]:
        error = f["error"]
        assert english(error["message_en"]) and not english(error["message_vi"]), error
        assert error["message"] == error[f"message_{lang}"]
