"""The ``sohs`` command. ``sohs --version`` answers before typer/rich/lxml are imported."""

from __future__ import annotations

import sys
from typing import Any


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from sohs_cli import __version__

        print(f"sohs {__version__}")
        return
    app = build_app()
    app()


def build_app() -> Any:
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

    from sohs_cli.cli import cert as cert_cmd
    from sohs_cli.cli import config_cmd, doctor_cmd
    from sohs_cli.cli import demo as demo_cmd
    from sohs_cli.cli import pack as pack_cmd
    from sohs_cli.cli import portal as portal_cmd
    from sohs_cli.cli import run as run_cmd
    from sohs_cli.cli import sign as sign_cmd
    from sohs_cli.cli import status as status_cmd
    from sohs_cli.cli import submit as submit_cmd
    from sohs_cli.cli import validate as validate_cmd
    from sohs_cli.cli import verify as verify_cmd

    demo_cmd.register(app)
    validate_cmd.register(app)
    pack_cmd.register(app)
    sign_cmd.register(app)
    verify_cmd.register(app)
    cert_cmd.register(app)
    submit_cmd.register(app)
    status_cmd.register(app)
    portal_cmd.register(app)
    config_cmd.register(app)
    run_cmd.register(app)
    doctor_cmd.register(app)
    return app
