"""`sohs validate` read without typer (cli/validate_args.parse_quick, issue 14 start-up): on every command
line it reads, it gives what typer's parse of the same line gives to the command's body; the lines it
does not read for certain are left to typer; and its table names every option of the typer command."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from sohs_cli.cli import output, validate, validating
from sohs_cli.cli.app import build_app
from sohs_cli.cli.validate_args import OPTIONS, Format, ValidateArgs, parse_quick
from sohs_cli.foundation import i18n

runner = CliRunner()

#: pieces of a command line: each option spelled every way, values typer takes and values it refuses,
#: and the words the quick reading must leave to typer
ATOMS: list[list[str]] = [
    ["a.xml"], ["dir/b.xml"], ["-"], [""], ["with space.xml"], ["--strict"], ["--no-rules"], ["--json"],
    ["--quiet"], ["-q"], ["--errors-only"], ["--skip-unknown"], ["--list-rules"],
    ["-f", "json"], ["--format", "sarif"], ["--format=junit"], ["-f", "human"], ["--format", "xml"], ["-fjson"],
    ["-o", "out.json"], ["--output", "r.xml"], ["--output="], ["-o", "-"], ["-o", "--strict"], ["-o=x"],
    ["-j", "2"], ["--jobs", "auto"], ["--jobs=8"], ["--jobs", "0"], ["-j2"], ["--jobs", "abc"],
    ["--max-size", "5"], ["--max-size", "0"], ["--max-size=050"], ["--max-size", "5x"], ["--max-size", "-1"],
    ["--max-size", "\u0663"], ["--max-size", " 7"], ["--max-findings", "0"], ["--max-findings", "12"],
    ["--max-findings=3"], ["--max-findings", "+4"],
    ["--standard", "4750"], ["--standard=3176"], ["--standard", "auto"], ["--standard", "1234"],
    ["--standard", "AUTO"], ["--lang", "vi"], ["--lang=en"], ["--lang", "fr"], ["--split-valid", "d"],
    ["--catalogue", "cat"], ["--from-list", "l.txt"], ["--strict=1"], ["--"], ["-qs"], ["--help"], ["-h"],
    ["--unknown"], ["-x"], ["--str"], ["--max-size"], ["--format"],
]
ROOTS: list[list[str]] = [[], ["--debug"], ["--lang", "en"], ["--lang=vi"], ["--debug", "--lang", "vi"]]


def lines() -> list[list[str]]:
    rnd = random.Random(14)
    out = [[*root, "validate"] for root in ROOTS]
    out += [["validate", *atom] for atom in ATOMS]
    for _ in range(700):
        words = [w for atom in rnd.sample(ATOMS, rnd.randint(1, 5)) for w in atom]
        out.append([*rnd.choice(ROOTS), "validate", *words])
    return out


class Seen:
    """What typer's parse handed on: the root options (debug, the root --lang) and the command's."""

    def __init__(self) -> None:
        self.args: ValidateArgs | None = None
        self.root_lang: list[str | None] = []


@pytest.fixture
def typer_parse(monkeypatch: pytest.MonkeyPatch) -> Any:
    seen = Seen()
    monkeypatch.setattr(validate, "run", lambda args: setattr(seen, "args", args))
    real = i18n.resolve_lang

    def resolve(flag: str | None = None, configured: str = "") -> str:
        seen.root_lang.append(flag)
        return real("en")

    monkeypatch.setattr(i18n, "resolve_lang", resolve)

    def parse(argv: list[str]) -> tuple[ValidateArgs | None, bool, str | None]:
        seen.args, seen.root_lang = None, []
        output.DEBUG["on"] = False
        runner.invoke(build_app(argv), argv)
        # the last language resolved before the body is the root callback's (build_app's look-ahead,
        # which reads a --lang anywhere, comes first)
        root = seen.root_lang[-1] if seen.root_lang else None
        return seen.args, output.DEBUG["on"], root

    return parse


def test_every_line_the_quick_reading_takes_typer_reads_the_same(typer_parse: Any) -> None:
    taken = 0
    for argv in lines():
        quick = parse_quick(argv)
        if quick is None:
            continue  # left to typer: nothing to compare
        taken += 1
        args, debug, root_lang = typer_parse(argv)
        assert args is not None, f"typer refused what the quick reading took: {argv}"
        assert quick.args.as_dict() == args.as_dict(), argv
        assert (quick.debug, quick.lang) == (debug, root_lang), argv
    assert taken > 250  # most lines of the set are read quickly, so the comparison is not empty


def test_lines_with_what_typer_refuses_or_converts_are_left_to_it() -> None:
    for words in (["--max-size", "0"], ["--max-size", "5x"], ["--max-size", "\u0663"], ["--standard", "AUTO"],
                  ["--format", "xml"], ["--strict=1"], ["-fjson"], ["-j2"], ["-qs"], ["--help"], ["-h"], ["--"],
                  ["-o", "--strict"], ["--max-size"], ["--str"], ["-o=x"]):
        assert parse_quick(["validate", "a.xml", *words]) is None, words
    assert parse_quick(["--lang", "validate", "a.xml"]) is None  # "validate" is --lang's value there
    assert parse_quick(["validate"]) is not None and parse_quick(["validate", "-"]) is not None


def test_the_table_names_every_option_of_the_typer_command() -> None:
    command = get_command(build_app(["validate"])).commands["validate"]  # type: ignore[attr-defined]
    spelled: dict[str, str] = {}
    for param in command.params:
        if param.param_type_name != "option":
            assert param.name == "paths"
            continue
        for opt in [*param.opts, *param.secondary_opts]:
            spelled[opt] = str(param.name)
            field, kind = OPTIONS[opt]
            assert field == param.name, opt
            assert (kind == "flag") == bool(param.is_flag), opt
            choices = getattr(param.type, "choices", None)
            if choices is not None:
                assert kind == tuple(str(getattr(c, "value", c)) for c in choices), opt
    assert {o for o in spelled if o not in ("-h", "--help")} == set(OPTIONS)
    assert set(spelled.values()) | {"paths"} == set(ValidateArgs.__slots__)


def test_the_defaults_are_the_commands(typer_parse: Any) -> None:
    args, _, _ = typer_parse(["validate"])
    assert args is not None and args.as_dict() == ValidateArgs().as_dict()


def test_the_quick_path_runs_the_same_body(examples: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """app.main takes the quick reading and runs validating.run with it (it leaves through _exit_now)."""
    from sohs_cli.cli import app

    ran: list[ValidateArgs] = []
    monkeypatch.setattr(validating, "run", ran.append)
    monkeypatch.setattr(app, "_exit_now", lambda code: (_ for _ in ()).throw(SystemExit(code)))
    monkeypatch.setattr("sys.argv", ["sohs", "validate", "-f", "json", str(examples / "referral_episode_3176.xml")])
    with pytest.raises(SystemExit) as exc:
        app.main()
    assert exc.value.code == 0
    assert [a.as_dict() for a in ran] == [ValidateArgs(paths=[str(examples / "referral_episode_3176.xml")],
                                                       fmt=Format.json).as_dict()]
