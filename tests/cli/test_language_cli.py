"""One language per run, from the catalogs (issue 17): Vietnamese runs meet no English sentence,
English runs no Vietnamese gloss, and a language that is neither is a usage error."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from sohs_cli.cli.app import build_app

runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(build_app(list(args)), list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("args", [["--lang", "fr", "validate", "x.xml"], ["validate", "--lang", "fr", "x.xml"],
                                  ["--lang=fr", "status"]])
def test_a_language_other_than_vi_or_en_is_a_usage_error(args: list[str]) -> None:
    code, _, err = run(*args)
    assert code == 2
    assert "fr: the languages are vi (Vietnamese) and en (English)" in err


def test_sohs_lang_other_than_vi_or_en_is_a_usage_error(examples: Path) -> None:
    code, _, err = run("validate", str(examples / "referral_episode_3176.xml"), env={"SOHS_LANG": "fr"})
    assert code == 2 and "SOHS_LANG fr" in err


def test_vietnamese_hint_pass_fail_and_summary(examples: Path) -> None:
    """The bug: `gợi ý: NGAY_HEN_KL must be on or after NGAY_RA`, and PASS/FAIL never translated."""
    code, out, _ = run("--lang", "vi", "validate", str(examples / "invalid_appointment_before_discharge_3176.xml"),
                       str(examples / "referral_episode_3176.xml"))
    assert code == 1
    assert "gợi ý: NGAY_HEN_KL phải cùng ngày hoặc sau NGAY_RA" in out
    assert "must be on or after" not in out
    assert "LỖI " in out and "ĐẠT " in out and "PASS" not in out and "FAIL" not in out
    assert "2 tệp: 1 hợp lệ, 1 không hợp lệ" in out


def test_english_hint(examples: Path) -> None:
    code, out, _ = run("validate", str(examples / "invalid_appointment_before_discharge_3176.xml"))
    assert code == 1 and "hint: NGAY_HEN_KL must be on or after NGAY_RA" in out


def test_vietnamese_error_and_hint_words() -> None:
    code, _, err = run("--lang", "vi", "validate", "--jobs", "nine", "x.xml")
    assert code == 2
    assert "lỗi: --jobs nine: hãy cho auto hoặc một số từ 1 đến 64" in err
    assert "error:" not in err


def test_json_findings_carry_both_hints(examples: Path) -> None:
    import json

    code, out, _ = run("--lang", "vi", "validate", "--format", "json",
                       str(examples / "invalid_appointment_before_discharge_3176.xml"))
    assert code == 1
    finding = json.loads(out)["files"][0]["errors"][0]
    assert finding["hint"] == finding["hint_vi"] == "NGAY_HEN_KL phải cùng ngày hoặc sau NGAY_RA"
    assert finding["hint_en"] == "NGAY_HEN_KL must be on or after NGAY_RA"
