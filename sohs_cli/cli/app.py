"""The ``sohs`` command. ``sohs --version`` answers before typer/rich/lxml are imported.

Start-up matters (a cron job or a CI step runs ``sohs`` once per batch): a command line that names
its command registers that command's module only; ``sohs --help`` and anything unclear register all.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from sohs_cli.cli.validate_args import QuickLine

# The module that registers each top-level command, in the order ``sohs --help`` lists them.
COMMANDS: dict[str, str] = {
    "demo": "demo", "validate": "validate", "pack": "pack", "unpack": "pack", "sign": "sign",
    "verify": "verify", "cert": "cert", "submit": "submit", "status": "status", "portal": "portal",
    "config": "config_cmd", "init": "config_cmd", "run": "run", "doctor": "doctor_cmd", "dashboard": "dashboard",
}


def main() -> None:
    utf8_streams()
    if sys.argv[1:] == ["--version"]:
        from sohs_cli import __version__

        print(f"sohs {__version__}")
        return
    if command_named(sys.argv[1:]) == "validate" and not _completing():
        from sohs_cli.cli.validate_args import parse_quick

        line = parse_quick(sys.argv[1:])
        if line is not None:  # a command line read for certain without typer (start-up, issue 14)
            _exit_now(_validate_quick(line))
    app = build_app(sys.argv[1:])
    if command_named(sys.argv[1:]) not in QUICK_EXIT:
        app()
        return
    try:
        app()
    except SystemExit as exc:
        _exit_now(exc.code)
    _exit_now(0)


# Commands whose process ends without tearing the interpreter down. Unloading ~200 modules, lxml's
# documents and the heap takes 15-25 ms, a twentieth of validating 5,000 slips, and buys nothing once
# the report is written and flushed: these commands hold no thread, log handler, temporary file or
# database connection at their end. Only the console script does this (``main``); the CLI tests
# invoke the app in-process and end normally.
QUICK_EXIT = frozenset({"validate"})


def _completing() -> bool:
    """Shell completion asks through ``_<PROG>_COMPLETE`` in the environment: typer answers it."""
    return any(name.startswith("_") and name.endswith("_COMPLETE") for name in os.environ)


def _validate_quick(line: QuickLine) -> object:
    """``sohs validate`` as typer would run it (the root callback, then the command's body), without
    typer; the exit status. A reader gone away (``| head``) is exit 1, as click makes it."""
    from sohs_cli.cli import output
    from sohs_cli.cli.validating import run

    output.DEBUG["on"] = line.debug
    try:
        output.guarded(lambda: _root_language(line.lang))
        output.guarded(lambda: run(line.args))
    except SystemExit as exc:
        return exc.code
    except BrokenPipeError:
        return 1
    return 0


def _exit_now(code: object) -> NoReturn:
    """``sys.exit(code)`` without the interpreter's teardown: flush what was written, then leave."""
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # what SystemExit does with a message: print it, exit 1
        print(code, file=sys.stderr)
        status = 1
    for stream in (sys.stdout, sys.stderr):
        # a closed pipe (| head) or stream: nothing more can be said
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(status)


def utf8_streams() -> None:
    """Write UTF-8 to stdout and stderr whatever their encoding. A Windows console redirected to a
    file or pipe, or ``PYTHONIOENCODING=cp1252``, gives streams that cannot encode Vietnamese (or ✓):
    every message was a UnicodeEncodeError, exit 70 (issue 17). UTF-8 is what every consumer of
    sohs's output reads (CI logs, JSON parsers, the README's examples); the interactive Windows console
    takes Unicode whatever this says."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "")
        if stream is not None and encoding not in ("utf8", "utf8sig") and hasattr(stream, "reconfigure"):
            with contextlib.suppress(ValueError, OSError):  # a stream that cannot change: leave it
                stream.reconfigure(encoding="utf-8")


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


def _language_of(argv: Sequence[str] | None) -> None:
    """Set the run's language from ``--lang`` anywhere on the command line, else ``SOHS_LANG``/the
    locale. A value that is no language is left for the option itself to refuse (exit 2)."""
    from sohs_cli.foundation.errors import UsageError

    words = list(argv or [])
    flag = None
    for i, word in enumerate(words):
        if word == "--":
            break
        if word == "--lang" and i + 1 < len(words):
            flag = words[i + 1]
        elif word.startswith("--lang="):
            flag = word.split("=", 1)[1]
    with contextlib.suppress(UsageError):
        _root_language(flag)


def _root_language(flag: str | None) -> None:
    """The run's language from ``flag`` (a ``--lang`` value, or None), else ``SOHS_LANG``, the settings
    file, the locale: for the look-ahead above, typer's root callback and the quick path."""
    from sohs_cli.foundation import i18n

    i18n.set_language(i18n.resolve_lang(flag, _configured_language(flag)))


def _configured_language(flag: str | None) -> str:
    if flag or os.environ.get("SOHS_LANG"):
        return ""  # decided without looking for a settings file
    from sohs_cli.foundation.settings_files import file_language

    return file_language()


def build_app(argv: Sequence[str] | None = None) -> Any:
    """The typer app; with ``argv``, only the modules its command needs."""
    import typer

    from sohs_cli import __version__
    from sohs_cli.cli import output
    from sohs_cli.foundation.i18n import _

    _language_of(argv)  # first: every help text below, and the commands', is in the run's language
    app = typer.Typer(
        name="sohs",
        help=_("Validate, sign and submit Vietnamese health records (QĐ 4750/3176, KSK QĐ 2062) to the national "
               "receiving systems."),
        no_args_is_help=True,
        add_completion=True,  # --install-completion, --show-completion (bash, zsh, fish, PowerShell)
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
                                     help=_("Print the version and exit.")),
        debug: bool = typer.Option(False, "--debug", help=_("Show tracebacks of internal errors.")),
        lang: str | None = output.lang_option(),
    ) -> None:
        output.DEBUG["on"] = debug

        # every run decides afresh (tests invoke one app many times); --lang fr: a usage error (exit 2)
        output.guarded(lambda: _root_language(lang))

    name = command_named(argv) if argv is not None else None
    modules = [COMMANDS[name]] if name else list(dict.fromkeys(COMMANDS.values()))
    for module in modules:
        importlib.import_module(f"sohs_cli.cli.{module}").register(app)
    from sohs_cli.cli import clitext

    clitext.adopt(app)  # typer's and click's own words (help, usage errors) in the run's language
    return app
