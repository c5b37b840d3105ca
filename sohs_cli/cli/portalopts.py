"""Connection options shared by ``sohs submit`` and ``sohs status``, resolved through the settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from sohs_cli.cli import keys, output
from sohs_cli.cli.output import escape
from sohs_cli.foundation.i18n import _


def portal_url() -> Any:
    return typer.Option(None, "--portal", metavar="URL", help=_("Portal base URL (or $SOHS_PORTAL_URL, portal.url)."))


def username() -> Any:
    return typer.Option(None, "--username", help=_("Portal account, e.g. 79001_BV (or $SOHS_PORTAL_USERNAME)."))


def password_env() -> Any:
    return typer.Option(None, "--password-env", metavar="NAME",
                        help=_("Variable holding the portal password (default SOHS_PORTAL_PASSWORD; or "
                               "$SOHS_PORTAL_PASSWORD_ENV)."))


def password_file() -> Any:
    return typer.Option(None, "--password-file", metavar="FILE",
                        help=_("File whose first line is the portal password (or $SOHS_PORTAL_PASSWORD_FILE)."))


def ca_bundle() -> Any:
    return typer.Option(None, "--ca-bundle", metavar="FILE",
                        help=_("CAs trusted for the portal's TLS certificate (or $SOHS_PORTAL_CA_BUNDLE)."))


def home() -> Any:
    return typer.Option(None, "--home", metavar="DIR", help=_("Data folder holding the ledger (or $SOHS_HOME)."))


def config() -> Any:
    return typer.Option(None, "--config", metavar="FILE",
                        help=_("Settings file (default: $SOHS_CONFIG, then the first found of ./sohs.toml, the "
                               "user's and the system's)."))


def settings(config_file: str | None, **flags: Any) -> Any:
    from sohs_cli.foundation.config import resolve

    return resolve({k.replace("__", "."): v for k, v in flags.items()}, config_file)


def log_retry(message: str) -> None:
    """Retries and other client notes go to stderr, dimmed (never secrets: they name HTTP outcomes)."""
    output.stderr.print(f"[dim]{escape(message)}[/]")


def make_client(s: Any, attempts: int | None = None, stopping: Callable[[], bool] | None = None) -> Any:
    """The portal client the settings describe; retries are reported on stderr; ``stopping``
    (SIGTERM received) cuts its retry waits short."""
    from sohs_cli.foundation.credentials import SecretSource
    from sohs_cli.portal.client import PortalClient, RetryPolicy

    password = keys.secret_source(_("portal password"), s["portal.password_env"], s["portal.password_file"] or None,
                                  keys.setting_hint("portal.password_file"))
    assert isinstance(password, SecretSource)
    return PortalClient(s["portal.url"], s["portal.username"], password, ca_bundle=s["portal.ca_bundle"],
                        timeout=s["portal.timeout"], connect_timeout=s["portal.connect_timeout"],
                        policy=RetryPolicy(attempts=attempts or s["portal.attempts"], deadline=s["portal.deadline"]),
                        log=log_retry, connections=max(1, s["portal.concurrency"]) + 1,
                        stopping=stopping or (lambda: False))


def make_signer(s: Any, p12: str | None = None) -> Any:
    """The facility's signer from the settings: a token (signing.pkcs11_module), signing.p12, or
    signing.key + signing.cert."""
    signer, _ = keys.load_signer(
        p12=p12 or s["signing.p12"] or None, key=s["signing.key"] or None, cert=s["signing.cert"] or None,
        password_env=s["signing.password_env"], password_file=s["signing.password_file"] or None,
        pkcs11_module=None if p12 else s["signing.pkcs11_module"] or None, token_label=s["signing.token_label"],
        key_label=s["signing.key_label"], key_id=s["signing.key_id"], pin_env=s["signing.pin_env"],
        password_file_hint=keys.setting_hint("signing.password_file"))
    return signer


def make_doctor_signer(s: Any) -> Any:
    """The concluding doctor's signer for checkup records (signing.doctor_p12), or None."""
    if not s["signing.doctor_p12"]:
        return None
    signer, _ = keys.load_signer(p12=s["signing.doctor_p12"], password_env=s["signing.doctor_password_env"],
                                 password_file=s["signing.doctor_password_file"] or None)
    return signer


def make_hub(s: Any) -> Any:
    """The checkup hub client, when hub.gln is configured; else None (checkup files are refused). Its
    message key (hub.message_key) is the key pair the Ministry issued, not the signing certificate."""
    if not s["hub.gln"]:
        return None
    from sohs_cli.portal.client import RetryPolicy
    from sohs_cli.portal.hub import HubClient, base_url
    from sohs_cli.portal.hubmessage import load_message_key, load_public_key

    password = keys.secret_source(_("hub password"), s["hub.password_env"], s["hub.password_file"] or None,
                                  keys.setting_hint("hub.password_file"))
    key_password = keys.secret_source(_("message key password"), s["hub.message_key_password_env"],
                                      s["hub.message_key_password_file"] or None,
                                      keys.setting_hint("hub.message_key_password_file"))
    return HubClient(base_url(s["hub.url"], s["hub.environment"]), s["hub.username"] or s["portal.username"],
                     password, ca_bundle=s["portal.ca_bundle"], timeout=s["portal.timeout"],
                     connect_timeout=s["portal.connect_timeout"],
                     policy=RetryPolicy(attempts=s["portal.attempts"], deadline=s["portal.deadline"]), log=log_retry,
                     gln=s["hub.gln"], message_key=load_message_key(s["hub.message_key"], key_password),
                     receiver_id=s["hub.receiver_id"],
                     reply_key=load_public_key(s["hub.reply_key"], _("hub.reply_key names the hub's public key"))
                     if s["hub.reply_key"] else None)
