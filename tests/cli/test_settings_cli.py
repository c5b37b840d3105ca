"""Settings where users look for them (issue 17): SOHS_CONFIG, ./sohs.toml, the user's config folder,
the system's file, each shown by `config show`; `doctor --json`; init and config show in Vietnamese."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sohs_cli.cli.app import build_app
from tests.cli.schemas import assert_schema

runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(build_app(list(args)), list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A settings file in each place of the search path, each naming its facility after its place."""
    work = tmp_path / "work"
    user = tmp_path / "user-config" / "sohs"  # XDG_CONFIG_HOME of the test (conftest)
    system = tmp_path / "system-config"  # system_config_file() of the test (conftest)
    named = tmp_path / "named"
    out = {"cwd": work / "sohs.toml", "user": user / "sohs.toml", "system": system / "sohs.toml",
           "env": named / "sohs.toml"}
    for where, path in out.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f'facility = "{where[:5]}"\n', encoding="utf-8")
    monkeypatch.chdir(work)
    return out


def facility() -> tuple[str, list[dict[str, object]]]:
    code, out, err = run("config", "show", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert_schema("config", data)
    return data["settings"]["facility"]["value"], data["search_path"]


def test_search_order(places: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    assert facility()[0] == "cwd"
    places["cwd"].unlink()
    value, searched = facility()
    assert value == "user"
    assert [p["path"] for p in searched] == ["sohs.toml", str(places["user"]), str(places["system"])]
    assert [p["used"] for p in searched] == [False, True, False]
    places["user"].unlink()
    assert facility()[0] == "syste"
    places["system"].unlink()
    assert facility()[0] == ""
    monkeypatch.setenv("SOHS_CONFIG", str(places["env"]))
    places["cwd"].write_text('facility = "cwd"\n', encoding="utf-8")
    value, searched = facility()
    assert value == "env" and searched == [{"how": "$SOHS_CONFIG", "path": str(places["env"]), "exists": True,
                                            "used": True}]


def test_sohs_config_naming_no_file_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path) -> None:
    monkeypatch.setenv("SOHS_CONFIG", str(tmp_path / "nowhere.toml"))
    code, _, err = run("config", "show")
    assert code == 3 and "$SOHS_CONFIG" in err and "nowhere.toml: no such file" in err


def test_config_show_lists_every_place(places: dict[str, Path]) -> None:
    code, out, _ = run("config", "show")
    assert code == 0
    assert "looked for, in order:" in out
    for path in ("sohs.toml", str(places["user"]), str(places["system"])):
        assert path in out.replace("\n", "")


def test_config_show_and_init_in_vietnamese(tmp_path: Path) -> None:
    code, out, _ = run("--lang", "vi", "init", str(tmp_path / "clinic"))
    assert code == 0 and "đã ghi" in out and "hãy điền vào" in out and "wrote" not in out
    toml = (tmp_path / "clinic" / "sohs.toml").read_text(encoding="utf-8")
    assert "Thứ tự ưu tiên" in toml and "Precedence" not in toml
    import tomllib

    assert tomllib.loads(toml)["portal"]["password_env"] == "SOHS_PORTAL_PASSWORD"  # keys stay as they are
    code, out, _ = run("--lang", "vi", "config", "show", "--config", str(tmp_path / "clinic" / "sohs.toml"))
    assert code == 0 and "tệp cấu hình" in out and "thiết lập" in out and "mặc định" in out
    assert "config file" not in out and "meaning" not in out


def test_doctor_json(tmp_path: Path) -> None:
    code, out, _ = run("doctor", "--json", "--home", str(tmp_path / "home"))
    assert code == 3
    data = json.loads(out)
    assert_schema("doctor", data)
    assert data["ok"] is False
    assert {"check": "settings", "name": "settings", "status": "fail",
            "detail": "missing facility, portal.url, portal.username",
            "hint": "sohs init writes a sohs.toml to fill in; sohs config show shows each value's source"} \
        in data["checks"]


def test_doctor_in_vietnamese_has_no_english_check(tmp_path: Path) -> None:
    code, out, _ = run("--lang", "vi", "doctor", "--home", str(tmp_path / "home"))
    assert code == 3
    for english in ("settings", "missing", "data folder", "is writable", "integrity ok", "hint:", "FAIL"):
        assert english not in out, english
    assert "cấu hình" in out and "thiếu facility" in out and "ghi được" in out


def test_lang_in_the_settings_file_sets_the_language(places: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """`lang` was listed by config show and read by nothing."""
    monkeypatch.delenv("SOHS_LANG")
    places["cwd"].write_text('lang = "vi"\n', encoding="utf-8")
    code, out, _ = run("config", "show")
    assert code == 0 and "tệp cấu hình" in out
    code, out, _ = run("--lang", "en", "config", "show")
    assert code == 0 and "config file" in out
    places["cwd"].write_text('lang = "fr"\n', encoding="utf-8")
    code, _, err = run("config", "show")
    assert code == 2 and "lang fr" in err
