"""The ``sohs`` command. ``sohs --version`` answers before typer/rich/lxml are imported.

Start-up matters (a cron job or a CI step runs ``sohs`` once per batch): a command line that names
its command registers that command's module only; ``sohs --help`` and anything unclear register all.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import Any

# The module that registers each top-level command, in the order ``sohs --help`` lists them.
COMMANDS: dict[str, str] = {
    "demo": "demo", "validate": "validate", "pack": "pack", "unpack": "pack", "sign": "sign",
    "verify": "verify", "cert": "cert", "submit": "submit", "status": "status", "portal": "portal",
    "config": "config_cmd", "init": "config_cmd", "run": "run", "doctor": "doctor_cmd",
}


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from sohs_cli import __version__

        print(f"sohs {__version__}")
        return
    app = build_app(sys.argv[1:])
    app()


def command_named(argv: Sequence[str]) -> str | None:
    """The command ``argv`` runs, when the root options before it can be skipped without parsing."""
    i = 0
    while i < len(argv):
        word = argv[i]
        if word == "--debug" or word.startswith("--lang="):
            i += 1
        elif word == "--lang":
            i += 2
        else:
            return word if word in COMMANDS else None
    return None


def build_app(argv: Sequence[str] | None = None) -> Any:
    """The typer app; with ``argv``, only the modules its command needs."""
    import typer

    from sohs_cli import __version__
    from sohs_cli.cli import output

    app = typer.Typer(
        name="sohs",
        help="Validate, sign and submit Vietnamese health records (QĐ 4750/3176, KSK QĐ 2062) "
        "to the national receiving systems. / Kiểm tra, ký số và gửi hồ sơ XML.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    def version_cb(value: bool) -> None:
        if value:
            print(f"sohs {__version__}")
            raise typer.Exit()

    @app.callback()
    def root(
        version: bool = typer.Option(False, "--version", callback=version_cb, is_eager=True,
                                     help="Print the version and exit."),
        debug: bool = typer.Option(False, "--debug", help="Show tracebacks of internal errors."),
        lang: str | None = typer.Option(None, "--lang", help="vi or en for every message (default: SOHS_LANG, "
                                                             "then the locale). / Ngôn ngữ: vi hoặc en."),
    ) -> None:
        output.DEBUG["on"] = debug
        from sohs_cli.i18n import resolve_lang

        output.LANG["lang"] = resolve_lang(lang)

    name = command_named(argv) if argv is not None else None
    modules = [COMMANDS[name]] if name else list(dict.fromkeys(COMMANDS.values()))
    for module in modules:
        importlib.import_module(f"sohs_cli.cli.{module}").register(app)
    return app
