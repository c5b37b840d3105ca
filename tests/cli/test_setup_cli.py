"""`sohs demo`, `sohs init`, `sohs config show`: the first five minutes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sohs_cli.cli.app import build_app

runner = CliRunner()


def test_demo_shows_the_whole_flow(tmp_path: Path) -> None:
    r = runner.invoke(build_app(), ["demo", "--dir", str(tmp_path / "demo")])
    assert r.exit_code == 0, r.output
    for step in ("1/6", "2/6", "3/6", "4/6", "5/6", "6/6"):
        assert step in r.output
    assert "FAIL invalid_card_length_3176.xml" in r.output
    assert "rejected invalid_card_length_3176.xml" in r.output and "MA_THE_BHYT (Mã thẻ BHYT)" in r.output
    assert r.output.count("accepted ") == 4
    # issue 13: a checkup record signed in both slots goes to the simulated hub and comes back accepted
    assert "checkup_adult_2062.xml (PS_DS_SAVE_SUCCESS)" in r.output
    assert "accepted checkup_adult_2062.xml maGiaoDich DS-8930000000017-" in " ".join(r.output.split())
    assert (tmp_path / "demo" / "home" / "ledger.sqlite3").exists()
    vi = runner.invoke(build_app(), ["demo", "--lang", "vi"])
    assert vi.exit_code == 0 and "Kiểm tra hồ sơ XML" in vi.output


def test_init_writes_defaults_without_a_terminal(tmp_path: Path) -> None:
    r = runner.invoke(build_app(), ["init", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert "fill in" in r.output and "url under [portal]" in r.output
    assert {p.name for p in tmp_path.iterdir()} == {"sohs.toml", "outbox", "sent", "rejected", "failed"}
    again = runner.invoke(build_app(), ["init", str(tmp_path)])
    assert again.exit_code == 2 and "--force" in again.output


def test_config_show_says_where_each_value_came_from(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "sohs.toml").write_text('facility = "79001"\n[portal]\nurl = "https://file.example"\n'
                                        'username = "79001_BV"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOHS_PORTAL_URL", "https://env.example")
    monkeypatch.setenv("SOHS_PORTAL_PASSWORD", "never-shown-secret")
    r = runner.invoke(build_app(), ["config", "show", "--json"])
    assert r.exit_code == 0, r.output
    settings = json.loads(r.output)["settings"]
    assert settings["portal.url"] == {"value": "https://env.example", "source": "$SOHS_PORTAL_URL"}
    assert settings["facility"] == {"value": "79001", "source": "sohs.toml"}
    assert settings["portal.concurrency"] == {"value": 2, "source": "default"}
    assert "never-shown-secret" not in r.output
    (tmp_path / "sohs.toml").write_text('[portal]\nurl = 3\nmystery = 1\n', encoding="utf-8")
    bad = runner.invoke(build_app(), ["config", "show"])
    assert bad.exit_code == 3 and "unknown setting(s) portal.mystery" in bad.output
    assert os.environ["SOHS_PORTAL_PASSWORD"]  # untouched


def test_every_command_speaks_vietnamese_when_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOHS_HOME", str(tmp_path / "home"))
    r = runner.invoke(build_app(), ["--lang", "vi", "status"])
    assert r.exit_code == 0 and "sổ ghi chưa có hồ sơ nào" in r.output
    monkeypatch.setenv("SOHS_LANG", "vi")
    r = runner.invoke(build_app(), ["status"])
    assert "sổ ghi chưa có hồ sơ nào" in r.output
    r = runner.invoke(build_app(), ["--lang", "en", "status"])
    assert "the ledger holds no document yet" in r.output
    r = runner.invoke(build_app(), ["doctor", "--home", str(tmp_path / "home")])
    assert r.exit_code == 3 and "cấu hình" in r.output and "gợi ý" in r.output


@pytest.mark.parametrize("args", [["cert", "show", "--pkcs11-module", "/usr/lib/softhsm/libsofthsm2.so"],
                                  ["run"]])
def test_a_missing_pkcs11_extra_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       args: list[str]) -> None:
    """Issue 16: without python-pkcs11 a token setting exited 70 ("this is a bug")."""
    import sys

    monkeypatch.setitem(sys.modules, "pkcs11", None)  # what an install without the extra has
    (tmp_path / "outbox").mkdir()
    (tmp_path / "sohs.toml").write_text('[portal]\nurl = "https://portal.invalid"\nusername = "79001_BV"\n'
                                        '[signing]\npkcs11_module = "/usr/lib/softhsm/libsofthsm2.so"\n',
                                        encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(build_app(), args)
    assert r.exit_code == 3, r.output
    assert "pip install 'sohs-cli[pkcs11]'" in r.output and "bug" not in r.output
