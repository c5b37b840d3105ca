"""``sohs doctor``: check the installation before cron relies on it."""

from __future__ import annotations

import typer

from sohs_cli.cli import output, portalopts
from sohs_cli.cli.output import escape
from sohs_cli.foundation.i18n import _


def register(app: typer.Typer) -> None:
    @app.command(help=_("Check settings, certificate, CA bundle, data folder, ledger, portal, login and clock "
                        "(exit 0 or 3)."))
    def doctor(
        config: str | None = portalopts.config(),
        home: str | None = portalopts.home(),
        as_json: bool = output.json_option(),
    ) -> None:
        """Check settings, certificate, CA bundle, data folder, ledger, portal, login and clock (exit 0 or 3)."""

        def body() -> None:
            import asyncio

            from sohs_cli.foundation.config import resolve
            from sohs_cli.foundation.errors import ExitCode
            from sohs_cli.submission.doctor import diagnose

            s = resolve({"home": home}, config)
            checks = asyncio.run(diagnose(s, lambda: portalopts.make_signer(s),
                                          lambda: portalopts.make_client(s, attempts=1)))
            failed = any(c.status == "fail" for c in checks)
            if as_json:
                output.write_json("doctor", {"ok": not failed, "checks": [c.as_dict() for c in checks]})
            else:
                words = {"ok": _("ok"), "warn": _("warn"), "fail": _("FAIL")}
                width = max(len(w) for w in words.values())
                colour = {"ok": "green", "warn": "yellow", "fail": "red"}
                for c in checks:
                    mark = f"[{colour[c.status]}]{escape(words[c.status].ljust(width))}[/]"
                    output.stdout.print(f"{mark} {escape(_(c.name)):18} {escape(c.detail)}")
                    if c.status != "ok" and c.hint:
                        output.stdout.print(f"     [dim]{escape(_('hint:'))} {escape(c.hint)}[/]")
            if failed:
                raise SystemExit(int(ExitCode.CONFIG))

        output.guarded(body)
