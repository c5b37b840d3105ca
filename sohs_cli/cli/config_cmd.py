"""``sohs config show`` and ``sohs init``: the resolved settings, and a commented sohs.toml to start from."""

from __future__ import annotations

import json

import typer

from sohs_cli.cli import output
from sohs_cli.cli.output import escape

TEMPLATE = """\
# sohs.toml: settings of sohs (https://… README "Settings"). Precedence: flag > SOHS_* environment >
# this file > default. Secrets never go here: only where they come from (an environment variable or
# a file readable by this account only).

facility = "{facility}"          # MA_CSKCB, 5 characters
standard = "auto"               # auto (by NGAY_RA: QĐ 3176 from 2025-01-01) | 4750 | 3176

[portal]
url = "{url}"
username = "{username}"         # e.g. 79001_BV
password_env = "SOHS_PORTAL_PASSWORD"
# password_file = "/etc/sohs/portal-password"   # first line; mode 0600
concurrency = 2
attempts = 5                    # tries per request for transport errors, 5xx and 429
deadline = 300                  # seconds a request may take with all its retries

[signing]
p12 = "{p12}"                   # the clinic's certificate with its key (PKCS#12)
password_env = "SOHS_P12_PASSWORD"
expiry_warning_days = 30

[folders]
outbox = "outbox"               # the HIS drops XML here
sent = "sent"
rejected = "rejected"           # with FILE.errors.json beside each file
failed = "failed"

[run]
settle_seconds = 5              # files changed more recently are still being written: next run
# log_file = "/var/log/sohs/sohs.log"

# [hub]                         # Ministry of Health checkup hub (KHAMSUCKHOE, QĐ 1551/2062)
# gln = "8930000000000"         # 13-digit facility ID
# username = ""
"""


def register(app: typer.Typer) -> None:
    config_app = typer.Typer(help="Settings: show what applies and where it came from. / Cấu hình.",
                             no_args_is_help=True)
    app.add_typer(config_app, name="config")

    @config_app.command("show")
    def show(
        config: str | None = typer.Option(None, "--config", metavar="FILE", help="Settings file."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Every setting, its value and where it came from (flag, environment, file or default).

        Xem cấu hình đang áp dụng. Secret values are never shown: only where they come from.
        """

        def body() -> None:
            from sohs_cli.config import KEYS, resolve

            s = resolve({}, config)
            rows = [(key, s[key], s.sources[key], KEYS[key][2]) for key in KEYS]
            if as_json:
                output.write_output(json.dumps({"config_file": s.config_file, "home": str(s.home), "settings": {
                    k: {"value": v, "source": src} for k, v, src, _ in rows}}, ensure_ascii=False, indent=1), None)
                return
            from rich.table import Table

            output.stdout.print(f"config file: {escape(s.config_file or '(none)')}   "
                                f"data folder: {escape(str(s.home))}")
            table = Table(show_edge=False, pad_edge=False)
            for title in ("setting", "value", "from", "meaning"):
                table.add_column(title, overflow="fold")
            for key, value, source, help_text in rows:
                shown = escape(str(value)) if value not in ("", None) else "[dim]-[/]"
                table.add_row(key, shown, f"[dim]{escape(source)}[/]", f"[dim]{escape(help_text)}[/]")
            output.stdout.print(table)

        output.guarded(body)

    @app.command()
    def init(
        directory: str = typer.Argument(".", help="Where to write sohs.toml and the folders."),
        force: bool = typer.Option(False, "--force", help="Overwrite an existing sohs.toml."),
    ) -> None:
        """Write a commented sohs.toml and the folders outbox/ sent/ rejected/ failed/.

        Khởi tạo cấu hình. Asks only on a terminal; otherwise writes defaults and says what to fill in.
        """

        def body() -> None:
            import os

            from sohs_cli.cli.keys import interactive
            from sohs_cli.errors import UsageError
            from sohs_cli.fileio import atomic_write

            target = os.path.join(directory, "sohs.toml")
            if os.path.exists(target) and not force:
                raise UsageError(f"{target} exists; nothing written", hint="--force to overwrite it")
            values = {"facility": "", "url": "", "username": "", "p12": "clinic.p12"}
            if interactive():
                for key, question in (("facility", "Facility code (MA_CSKCB, 5 characters)"),
                                      ("url", "Portal URL"), ("username", "Portal username (e.g. 79001_BV)"),
                                      ("p12", "Certificate file (PKCS#12)")):
                    values[key] = typer.prompt(question, default=values[key] or "", show_default=bool(values[key]))
            os.makedirs(directory, exist_ok=True)
            atomic_write(target, TEMPLATE.format(**values).encode("utf-8"))
            for folder in ("outbox", "sent", "rejected", "failed"):
                os.makedirs(os.path.join(directory, folder), exist_ok=True)
            output.stdout.print(f"wrote {escape(target)} and outbox/ sent/ rejected/ failed/")
            missing = [k for k in ("facility", "url", "username") if not values[k]]
            if missing:
                names = {"facility": "facility", "url": "url under [portal]", "username": "username under [portal]"}
                output.stdout.print(escape(f"fill in {target}: " + ", ".join(names[k] for k in missing)
                                           + "; then run sohs doctor"))

        output.guarded(body)
