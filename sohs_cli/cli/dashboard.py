"""``sohs dashboard``: the read-only status page over the ledger, served by uvicorn."""

from __future__ import annotations

import typer

from sohs_cli.cli import output, portalopts
from sohs_cli.cli.output import escape

DEFAULT_PORT = 8765


def register(app: typer.Typer) -> None:
    from sohs_cli.foundation.i18n import _

    @app.command(help=_("Serve the read-only status page: nights, documents, what keeps failing, health (Ctrl-C "
                         "stops it); by default at http://127.0.0.1:8765."))
    def dashboard(
        home: str | None = portalopts.home(),
        config: str | None = portalopts.config(),
        host: str = typer.Option("127.0.0.1", "--host", help=_("Address to listen on; any other than loopback "
                                                                "needs --token-file.")),
        port: int = typer.Option(DEFAULT_PORT, "--port", min=1, max=65535, help=_("Port to listen on.")),
        token_file: str | None = typer.Option(None, "--token-file", metavar="FILE", envvar="SOHS_DASHBOARD_TOKEN_FILE",
                                              help=_("File whose first line is the access token every request "
                                                      "must carry (or SOHS_DASHBOARD_TOKEN_FILE).")),
        lang: str | None = typer.Option(None, "--lang", help=_("Page language by default: vi (default) or en; "
                                                                "each viewer can switch.")),
    ) -> None:
        def body() -> None:
            import os
            import signal

            import uvicorn

            from sohs_cli.dashboard import serve
            from sohs_cli.foundation.config import resolve
            from sohs_cli.foundation.i18n import _, resolve_lang

            s = resolve({"home": home}, config)
            # the page's default: Vietnamese unless --lang or SOHS_LANG say otherwise (not the server's locale)
            language = resolve_lang(lang) if lang or os.environ.get("SOHS_LANG") else "vi"
            app_ = serve.build(s, host=host, token_file=token_file, lang=language)
            shown = f"[{host}]" if ":" in host else host
            output.stderr.print(f"sohs dashboard on http://{escape(shown)}:{port}/ · "
                                f"{escape(_('read-only ledger'))} {escape(str(s.home))}"
                                + (f" · {escape(_('token required'))}" if token_file else ""))
            if token_file and os.name == "posix" and os.stat(token_file).st_mode & 0o077:
                output.stderr.print(f"[yellow]{escape(_('warning'))}:[/] "
                                    + escape(_("{file} can be read by other users: chmod 600 {file}",
                                               file=token_file)))
            for sig in (signal.SIGTERM, signal.SIGINT):  # uvicorn stops gracefully, then exit 0
                signal.signal(sig, lambda *_: None)
            try:
                uvicorn.Server(uvicorn.Config(app_, host=host, port=port, log_level="warning", access_log=False,
                                              lifespan="on", server_header=False,
                                              timeout_graceful_shutdown=3)).run()
            finally:
                app_.views.ledger.close()

        output.guarded(body)
