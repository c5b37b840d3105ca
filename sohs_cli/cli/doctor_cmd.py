"""``sohs doctor``: check the installation before cron relies on it."""

from __future__ import annotations

import typer

from sohs_cli.cli import output, portalopts
from sohs_cli.cli.output import escape


def register(app: typer.Typer) -> None:
    @app.command()
    def doctor(
        config: str | None = portalopts.config(),
        home: str | None = portalopts.home(),
    ) -> None:
        """Check settings, certificate, CA bundle, data folder, ledger, portal, login and clock (exit 0 or 3).

        Kiểm tra cài đặt: cấu hình, chứng thư số, sổ ghi, kết nối cổng, đăng nhập, đồng hồ.
        """

        def body() -> None:
            import asyncio

            from sohs_cli.config import resolve
            from sohs_cli.doctor import diagnose
            from sohs_cli.errors import ExitCode

            s = resolve({"home": home}, config)
            checks = asyncio.run(diagnose(s, lambda: portalopts.make_signer(s),
                                          lambda: portalopts.make_client(s, attempts=1)))
            marks = {"ok": "[green]ok  [/]", "warn": "[yellow]warn[/]", "fail": "[red]FAIL[/]"}
            for c in checks:
                output.stdout.print(f"{marks[c.status]} {output.t(c.name, c.name_vi):18} {escape(c.detail)}")
                if c.status != "ok" and c.hint:
                    hint = output.t(c.hint, c.hint_vi)
                    output.stdout.print(f"     [dim]{output.t('hint', 'gợi ý')}: {escape(hint)}[/]")
            if any(c.status == "fail" for c in checks):
                raise SystemExit(int(ExitCode.CONFIG))

        output.guarded(body)
