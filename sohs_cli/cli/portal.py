"""``sohs portal serve``: the simulated receiving portal, served for real over HTTP by uvicorn."""

from __future__ import annotations

import typer

from sohs_cli.cli import output
from sohs_cli.cli.output import escape
from sohs_cli.foundation.i18n import _


def register(app: typer.Typer) -> None:
    portal_app = typer.Typer(help=_("The simulated BHXH receiving portal and checkup hub."), no_args_is_help=True)
    app.add_typer(portal_app, name="portal")

    @portal_app.command("serve", help=_("Serve the simulated portal: BHXH gateway, checkup hub, /_mock/ views (Ctrl-C "
                                        "or SIGTERM stops it)."))
    def serve(
        host: str = typer.Option("127.0.0.1", "--host", help=_("Address to listen on (loopback by default).")),
        port: int = typer.Option(8088, "--port", min=0, max=65535, help=_("Port (0: any free port).")),
        data_dir: str = typer.Option(..., "--data-dir", help=_("Where the portal keeps its SQLite state.")),
        accounts: str = typer.Option(..., "--accounts", help=_("Accounts file (TOML, see the README): each account's "
                                     "registered certificates; for the checkup hub its gln and message_key (the "
                                     "public half of the message key issued to the sender).")),
        token_ttl: float = typer.Option(3600.0, "--token-ttl", min=1, help=_("Token lifetime in seconds.")),
        processing_delay: float = typer.Option(2.0, "--processing-delay", min=0,
                                               help=_("Seconds between receipt and the processing result.")),
        max_body: int = typer.Option(64, "--max-body", min=1, help=_("Largest accepted request body, in MB.")),
        latency: float = typer.Option(0.0, "--latency", min=0, help=_("Seconds added to every API request.")),
        fail_rate: float = typer.Option(0.0, "--fail-rate", help=_("Share of API requests answered HTTP 503.")),
        timeout_rate: float = typer.Option(0.0, "--timeout-rate", help=_("Share of API requests that hang.")),
        hang_seconds: float = typer.Option(120.0, "--hang-seconds", min=0, help=_("How long a hang lasts.")),
        rate_limit: str = typer.Option("0", "--rate-limit", metavar="N/s",
                                       help=_("Requests per second before 429 with Retry-After (0: none).")),
        drop_after_accept: float = typer.Option(0.0, "--drop-after-accept", metavar="RATE",
                                                help=_("Share of accepted files whose reply is dropped.")),
        realistic: bool = typer.Option(False, "--realistic",
                                       help=_("Only what the real gateway does: no status lookup (404 page), no "
                                            "same-bytes rule (a resend is a new receipt).")),
        hub_key: str = typer.Option("", "--hub-key", metavar="PEM",
                                    help=_("Private key the checkup hub signs its replies with (clients verify them "
                                         "with its public half as hub.reply_key); default: a new key per run. "
                                         "Password, if any, in SOHS_MOCK_HUB_KEY_PASSWORD.")),
        seed: int | None = typer.Option(None, "--seed", help=_("Seed for the fault draws (reproducible runs).")),
        log_level: str = typer.Option("info", "--log-level", help=_("uvicorn log level.")),
    ) -> None:

        def body() -> None:
            import signal

            import uvicorn

            from sohs_cli.mockportal.accounts import load_accounts
            from sohs_cli.mockportal.app import Portal, PortalConfig
            from sohs_cli.mockportal.faults import Faults, parse_rate_limit

            faults = Faults(latency=latency, fail_rate=fail_rate, timeout_rate=timeout_rate,
                            hang_seconds=hang_seconds, rate_limit=parse_rate_limit(rate_limit),
                            drop_after_accept=drop_after_accept, seed=seed)
            config = PortalConfig(data_dir=data_dir, accounts=load_accounts(accounts), token_ttl=token_ttl,
                                  processing_delay=processing_delay, max_body=max_body * 1024 * 1024, faults=faults,
                                  realistic=realistic, hub_key=hub_key)
            portal = Portal(config)
            output.stderr.print(escape(_("simulated portal (not the real BHXH gateway) on http://{host}:{port} · state "
                                         "in {folder} · {n} account(s)", host=host, port=port, folder=data_dir,
                                         n=len(config.accounts))))
            # uvicorn stops gracefully on SIGTERM/SIGINT, then re-raises the signal to the handler that was
            # there before it: a no-op here, so a clean stop exits 0 instead of dying by the signal
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: None)
            uvicorn.Server(uvicorn.Config(portal, host=host, port=port, log_level=log_level, lifespan="on",
                                          access_log=log_level == "debug", timeout_graceful_shutdown=5)).run()

        output.guarded(body)
