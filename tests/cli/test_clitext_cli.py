"""typer's and click's own words in the run's language (issue 17): every command's ``--help`` and every
kind of usage error is Vietnamese under ``--lang vi`` (exit 2 for the errors), and what typer writes
under ``--lang en``."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from sohs_cli.cli import clitext
from sohs_cli.cli.app import build_app

runner = CliRunner()
WIDE = {"COLUMNS": "240"}  # one line per option: a phrase is never cut by the panel's wrapping

#: the words of typer's and click's help screens and errors, and the placeholders sohs writes in English
ENGLISH_HELP_WORDS = ["Usage", "Options", "Arguments", "Commands", "Show this message", "[default:", "[env var:",
                      "[required]", "Install completion", "Show completion", "OPTIONS", "COMMAND", "ARGS", "<str>",
                      "<text>", "<int", "TEXT", "INTEGER", "FILE", "DIR", "PATH", "NAME", "SECONDS", "Error",
                      "Try '", "for help", "Missing", "No such", "Invalid value", "is not", "requires an argument",
                      "unexpected extra", "Did you mean", "Possible options", "does not exist"]


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(build_app(list(args)), list(args), env=WIDE)
    return result.exit_code, result.stdout, result.stderr


def command_paths() -> list[list[str]]:
    """Every command and group of sohs, as the words that name it (``[]``: sohs itself)."""
    paths: list[list[str]] = []

    def walk(command: Any, path: list[str]) -> None:
        paths.append(path)
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            walk(sub, [*path, name])

    walk(typer.main.get_command(build_app()), [])
    return paths


COMMANDS = command_paths()


def english_in(text: str) -> list[str]:
    """The English help words in ``text``; environment variable names (``SOHS_DASHBOARD_TOKEN_FILE``) are
    names, not words, and are left out."""
    text = re.sub(r"\$?SOHS_[A-Z0-9_]+", "", text)
    # a word as a word: FILE is a placeholder, NOIDUNGFILE an element's code
    return [w for w in ENGLISH_HELP_WORDS if re.search(rf"(?<![A-Za-z_]){re.escape(w)}(?![a-z_])", text)]


def test_every_command_is_walked() -> None:
    names = {" ".join(p) for p in COMMANDS}
    assert {"", "validate", "cert show", "portal serve", "config show", "dashboard", "init", "run"} <= names
    assert len(COMMANDS) >= 20


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "sohs")
def test_help_of_every_command_is_vietnamese(path: list[str]) -> None:
    code, out, _ = run("--lang", "vi", *path, "--help")
    assert code == 0
    assert "Cách dùng: sohs" in out and "Tùy chọn" in out and "Hiện hướng dẫn này rồi thoát." in out
    assert not english_in(out), (english_in(out), out)


@pytest.mark.parametrize("path", [["validate"], ["cert", "show"], []], ids=lambda p: " ".join(p) or "sohs")
def test_help_stays_typers_in_english(path: list[str]) -> None:
    code, out, _ = run("--lang", "en", *path, "--help")
    assert code == 0
    assert "Usage: sohs" in out and "Options" in out and "Show this message and exit." in out
    assert "Cách dùng" not in out and "Tùy chọn" not in out


#: one of each kind of usage error click raises, with what the Vietnamese run says
USAGE_ERRORS = [
    (["validate", "--nope"], "không có tùy chọn --nope. Có phải ý bạn là --no-rules?", "No such option: --nope"),
    (["validate", "--nothing-like-it"], "không có tùy chọn --nothing-like-it.", "No such option"),
    (["unpack"], "thiếu đối số 'HỒ_SƠ'.", "Missing argument 'envelope'."),
    (["unpack", "x.xml"], "thiếu tùy chọn '--dir' / '-d'.", "Missing option '--dir' / '-d'."),
    (["status", "--limit", "abc"], "giá trị không hợp lệ cho '--limit': 'abc' không phải là số nguyên",
     "Invalid value for '--limit'"),
    (["validate", "--max-size", "0", "x.xml"], "giá trị không hợp lệ cho '--max-size': 0 nằm ngoài khoảng x>=1.",
     "Invalid value for '--max-size'"),
    (["validate", "--format", "pdf", "x.xml"], "giá trị không hợp lệ cho '--format' / '-f': 'pdf' không thuộc",
     "Invalid value for '--format'"),
    (["status", "--limit"], "tùy chọn '--limit' cần một giá trị.", "Option '--limit' requires an argument."),
    (["status", "extra"], "thừa đối số (extra)", "Got unexpected extra argument"),
    (["nope"], "không có lệnh 'nope'.", "No such command 'nope'."),
    (["cert", "nope"], "không có lệnh 'nope'.", "No such command 'nope'."),
    (["portal", "serve", "--port", "x"], "giá trị không hợp lệ cho '--port': 'x' không phải là số nguyên",
     "Invalid value for '--port'"),
]


def flat(text: str) -> str:
    """The panel's text on one line, without its frame."""
    return re.sub(r"\s+", " ", re.sub(r"[│╭╮╰╯─]", " ", text))


@pytest.mark.parametrize(("args", "vietnamese", "english"), USAGE_ERRORS, ids=lambda a: str(a))
def test_usage_errors_are_vietnamese_with_exit_2(args: list[str], vietnamese: str, english: str) -> None:
    code, _, err = run("--lang", "vi", *args)
    assert code == 2, err
    assert vietnamese in flat(err), err
    assert "Lỗi" in err
    assert not english_in(err), (english_in(err), err)


@pytest.mark.parametrize(("args", "vietnamese", "english"), USAGE_ERRORS, ids=lambda a: str(a))
def test_usage_errors_stay_typers_in_english(args: list[str], vietnamese: str, english: str) -> None:
    code, _, err = run("--lang", "en", *args)
    assert code == 2, err
    assert english.lower() in flat(err).lower(), err  # typer versions differ: 'envelope' or 'ENVELOPE'
    assert "Lỗi" not in err and "không" not in err


def test_a_bare_group_shows_its_help_not_an_error() -> None:
    code, out, err = run("--lang", "vi", "cert")
    assert code == 2 and "Cách dùng: sohs cert" in out + err and "Lỗi" not in out + err


@pytest.mark.parametrize("message", clitext.CLICK_MESSAGES)
def test_every_click_template_is_recognised_and_said_again(message: str) -> None:
    """Each template matches the English text it describes, and comes back without its English."""
    sample = message.format(value="'abc'", type="uuid", range="x>=1", choice="'a'", choices="'a', 'b'",
                            name="'--x'", filename="'f.xml'", nargs=2, args="a b")
    from sohs_cli.foundation import i18n

    i18n.set_language("vi")
    try:
        said = clitext.said_again(sample)
    finally:
        i18n.set_language("en")
    assert said is not None and said != sample
    assert not english_in(said), said


def test_a_message_click_never_wrote_is_none_of_its_templates() -> None:
    assert clitext.said_again("something else entirely") is None
