"""Docs that cannot rot: every command has help text and is in the README (STYLE.md principle 12)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer.main

from sohs_cli.cli.app import build_app

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def commands(group: Any, prefix: str = "sohs") -> list[tuple[str, Any]]:
    """``(sohs name, command)`` for every leaf command (typer vendors its own click: duck-typed)."""
    out = []
    for name, cmd in sorted(group.commands.items()):
        full = f"{prefix} {name}"
        if hasattr(cmd, "commands"):
            out += commands(cmd, full)
        else:
            out.append((full, cmd))
    return out


ALL = commands(typer.main.get_group(build_app()))


def test_every_command_is_found() -> None:
    names = {name for name, _ in ALL}
    assert {"sohs validate", "sohs sign", "sohs verify", "sohs submit", "sohs status", "sohs run", "sohs demo",
            "sohs doctor", "sohs init", "sohs config show", "sohs cert show", "sohs cert make-test",
            "sohs portal serve", "sohs pack", "sohs unpack"} <= names


def test_every_command_has_help_and_is_in_the_readme() -> None:
    for name, cmd in ALL:
        assert (cmd.help or "").strip(), f"{name} has no help text"
        assert f"`{name}" in README, f"{name} is not in the README"
        for param in cmd.params:
            if param.param_type_name == "option":
                assert (param.help or "").strip(), f"{name} {param.opts[0]} has no help text"


def test_a_command_line_registers_only_its_command_and_the_same_command() -> None:
    """main() builds the app for the command it runs (start-up); each must be the full app's own."""
    from sohs_cli.cli.app import COMMANDS, command_named

    full = typer.main.get_group(build_app()).commands
    assert set(full) == set(COMMANDS), "COMMANDS must name every top-level command and only those"
    for name in COMMANDS:
        for argv in ([name, "--help"], ["--debug", "--lang", "vi", name], ["--lang=en", name, "x"]):
            assert command_named(argv) == name
            lazy = typer.main.get_group(build_app(argv)).commands
            module = COMMANDS[name]
            assert set(lazy) == {n for n, m in COMMANDS.items() if m == module}
            assert [p.opts for p in lazy[name].params] == [p.opts for p in full[name].params]
    for unclear in ([], ["--help"], ["valdate"], ["--lang"], ["-h", "validate"]):
        assert command_named(unclear) is None


def test_the_readme_settings_table_lists_every_key_and_variable() -> None:
    """Issue 17: [signing], [folders], [run] and [hub] were missing from the table."""
    import re

    from sohs_cli.foundation.config import KEYS, env_name

    section = README.split("### Settings", 1)[1].split("\n### ", 1)[0]
    for key in KEYS:
        sec, _, name = key.rpartition(".")
        assert (f"`[{sec}] {name}`" if sec else f"`{name}`") in section, f"{key} is not in the README's Settings"
        assert f"`{env_name(key)}`" in section, f"{env_name(key)} is not in the README's Settings"
    code = "\n".join(p.read_text(encoding="utf-8") for p in (Path(__file__).parents[2] / "sohs_cli").rglob("*.py"))
    internal = {"SOHS_DEMO_PASSWORD"}  # set and read by sohs demo inside its own process
    variables = set(re.findall(r"\bSOHS_[A-Z0-9_]*[A-Z0-9]\b", code)) - internal - {"SOHS_X"}
    for var in sorted(variables):
        assert f"`{var}`" in section, f"{var} (read by the code) is not in the README's Settings"


def test_every_reference_is_real() -> None:
    """Issue 17: the README named DOMAIN.md (not in the repo), SARIF an informationUri of a repository
    that does not exist, the pre-commit snippet a tag that does not exist."""
    import re

    root = Path(__file__).resolve().parents[2]
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", README):  # relative links
        assert (root / target).exists(), f"the README links to {target}, which is not in the repository"
    assert "DOMAIN.md" not in README.replace("docs/DOMAIN.md", "")
    code = "\n".join(p.read_text(encoding="utf-8") for p in (root / "sohs_cli").rglob("*.py"))
    assert "github.com/sohs-cli" not in code and "your-org" not in README
    assert "rev: v" not in README  # no tag to pin: sohs has no public repository yet


def test_options_that_read_an_environment_variable_name_it_in_their_help() -> None:
    """Issue 17: an option whose value also comes from a SOHS_* variable says which, in --help."""
    reads = {"--home": "$SOHS_HOME", "--config": "$SOHS_CONFIG", "--portal": "$SOHS_PORTAL_URL",
             "--username": "$SOHS_PORTAL_USERNAME", "--lang": "$SOHS_LANG"}
    seen = set()
    for name, cmd in ALL:
        for param in cmd.params:
            for opt in getattr(param, "opts", []):
                if (name, opt) == ("sohs dashboard", "--lang"):
                    continue  # the page's default language (each viewer switches), not the run's
                if opt in reads and reads[opt] not in (param.help or ""):
                    raise AssertionError(f"{name} {opt}: its help does not name {reads[opt]}")
                seen.add(opt)
    assert set(reads) <= seen
