"""``sohs config show`` and ``sohs init``: the resolved settings, and a commented sohs.toml to start from."""

from __future__ import annotations

import typer

from sohs_cli.cli import output
from sohs_cli.cli.output import escape
from sohs_cli.foundation.i18n import N_, _

# The commented sohs.toml that ``sohs init`` writes: keys as they are, comments in the run's language.
TEMPLATE = """\
# sohs.toml: {c_intro}
# {c_order}
# {c_secrets}

facility = "{facility}"          # {c_facility}
standard = "auto"               # {c_standard}

[portal]
url = "{url}"
username = "{username}"         # {c_username}
password_env = "SOHS_PORTAL_PASSWORD"
# password_file = "/etc/sohs/portal-password"   # {c_password_file}
concurrency = 2
attempts = 5                    # {c_attempts}
deadline = 300                  # {c_deadline}

[signing]
p12 = "{p12}"                   # {c_p12}
password_env = "SOHS_P12_PASSWORD"
expiry_warning_days = 30

# [verify]                      # {c_verify}
# ca_bundle = "/etc/sohs/ca.pem"                 # {c_ca_bundle}
# certificates = "/etc/sohs/registered.pem"      # {c_registered}

[folders]
outbox = "outbox"               # {c_outbox}
sent = "sent"
rejected = "rejected"           # {c_rejected}
failed = "failed"

[run]
settle_seconds = 5              # {c_settle}
# log_file = "/var/log/sohs/sohs.log"

# [hub]                         # {c_hub}
# environment = "sandbox"       # {c_hub_env}
# gln = "8930000000000"         # {c_gln}
# username = ""                 # {c_hub_user}
# message_key = "/etc/sohs/hub-message-key.pem"  # {c_hub_key}
"""

COMMENTS = {
    "c_intro": N_("the settings of sohs (README, Settings)."),
    "c_order": N_("Precedence: flag > SOHS_* environment > this file > default."),
    "c_secrets": N_("Secrets never go here: only where they come from (an environment variable, or a file only "
                    "this account can read)."),
    "c_facility": N_("MA_CSKCB, 5 characters"),
    "c_standard": N_("auto (by NGAY_RA: QĐ 3176 from 2025-01-01) | 4750 | 3176"),
    "c_username": N_("e.g. 79001_BV"),
    "c_password_file": N_("first line; mode 0600"),
    "c_attempts": N_("tries per request for transport errors, 5xx and 429"),
    "c_deadline": N_("seconds a request may take with all its retries"),
    "c_p12": N_("the clinic's certificate with its key (PKCS#12)"),
    "c_verify": N_("who may have signed what is sent (default: the certificate of signing.p12 and its CA)"),
    "c_ca_bundle": N_("the CAs that issue your certificates"),
    "c_registered": N_("or: the certificates registered on the portal"),
    "c_outbox": N_("the HIS drops XML here"),
    "c_rejected": N_("with FILE.errors.json beside each file"),
    "c_settle": N_("files changed more recently are still being written: next run"),
    "c_hub": N_("Ministry of Health data hub for checkups (KHAMSUCKHOE, QĐ 2062 PL02)"),
    "c_hub_env": N_("or \"production\" (api.emrhub.vn); hub.url for the simulated hub"),
    "c_gln": N_("13-digit facility ID (sender_id)"),
    "c_hub_user": N_("password: $SOHS_HUB_PASSWORD or password_file"),
    "c_hub_key": N_("the key pair the Ministry issued (not the certificate)"),
}


def template(values: dict[str, str]) -> str:
    return TEMPLATE.format(**values, **{k: _(v) for k, v in COMMENTS.items()})


def _source(source: str) -> str:
    return _("default") if source == "default" else _("flag") if source == "flag" else source


def register(app: typer.Typer) -> None:
    config_app = typer.Typer(help=_("Settings: show what applies and where it came from."), no_args_is_help=True)
    app.add_typer(config_app, name="config")

    @config_app.command("show", help=_("Every setting, its value and where it came from (flag, environment, file "
                                       "or default), and every place a settings file is looked for. Secret values "
                                       "are never shown: only where they come from."))
    def show(
        config: str | None = typer.Option(None, "--config", metavar="FILE",
                                          help=_("Settings file (default: $SOHS_CONFIG, then the first found of "
                                                 "./sohs.toml, the user's and the system's).")),
        as_json: bool = output.json_option(),
    ) -> None:
        def body() -> None:
            from sohs_cli.foundation.config import KEYS, config_candidates, display_value, resolve

            s = resolve({}, config)
            rows = [(key, display_value(key, s[key]), s.sources[key], _(KEYS[key][2])) for key in KEYS]
            searched = [{"how": how, "path": str(path), "exists": path.is_file(),
                         "used": s.config_file is not None and str(path) == s.config_file}
                        for how, path in config_candidates(config)]
            if as_json:
                output.write_json("config", {"config_file": s.config_file, "search_path": searched,
                                             "home": str(s.home),
                                             "settings": {k: {"value": v, "source": src} for k, v, src, _h in rows}})
                return
            from rich.table import Table

            output.stdout.print(output.say("config file: {file}   data folder: {home}",
                                           file=s.config_file or _("(none)"), home=s.home))
            output.stdout.print(output.say("looked for, in order:"))
            for place in searched:
                state = _("used") if place["used"] else _("found") if place["exists"] else _("not there")
                output.stdout.print(f"  {escape(str(place['how'])):22} {escape(str(place['path']))} "
                                    f"[dim]{escape(state)}[/]")
            table = Table(show_edge=False, pad_edge=False)
            for title in (_("setting"), _("value"), _("from"), _("meaning")):
                table.add_column(escape(title), overflow="fold")
            for key, value, source, help_text in rows:
                shown = escape(str(value)) if value not in ("", None) else "[dim]-[/]"
                table.add_row(escape(key), shown, f"[dim]{escape(_source(source))}[/]", f"[dim]{escape(help_text)}[/]")
            output.stdout.print(table)

        output.guarded(body)

    @app.command(help=_("Write a commented sohs.toml and the folders outbox/ sent/ rejected/ failed/. Asks only on "
                        "a terminal; otherwise writes defaults and says what to fill in."))
    def init(
        directory: str = typer.Argument(".", help=_("Where to write sohs.toml and the folders.")),
        force: bool = typer.Option(False, "--force", help=_("Overwrite an existing sohs.toml.")),
    ) -> None:
        def body() -> None:
            import os

            from sohs_cli.cli.keys import interactive
            from sohs_cli.foundation.errors import UsageError
            from sohs_cli.foundation.fileio import atomic_write

            target = os.path.join(directory, "sohs.toml")
            if os.path.exists(target) and not force:
                raise UsageError(_("{file} exists; nothing written", file=target), hint=_("--force to overwrite it"))
            values = {"facility": "", "url": "", "username": "", "p12": "clinic.p12"}
            if interactive():
                for key, question in (("facility", _("Facility code (MA_CSKCB, 5 characters)")),
                                      ("url", _("Portal URL")), ("username", _("Portal username (e.g. 79001_BV)")),
                                      ("p12", _("Certificate file (PKCS#12)"))):
                    values[key] = typer.prompt(question, default=values[key] or "", show_default=bool(values[key]))
            os.makedirs(directory, exist_ok=True)
            atomic_write(target, template(values).encode("utf-8"))
            for folder in ("outbox", "sent", "rejected", "failed"):
                os.makedirs(os.path.join(directory, folder), exist_ok=True)
            output.stdout.print(output.say("wrote {file} and outbox/ sent/ rejected/ failed/", file=target))
            missing = [k for k in ("facility", "url", "username") if not values[k]]
            if missing:
                names = {"facility": "facility", "url": _("url under [portal]"),
                         "username": _("username under [portal]")}
                output.stdout.print(output.say("fill in {file}: {keys}; then run sohs doctor", file=target,
                                               keys=", ".join(names[k] for k in missing)))

        output.guarded(body)
