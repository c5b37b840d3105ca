"""Putting a dashboard together from the settings: the read-only ledger, the places, the token rule."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

from sohs_cli.dashboard.health import Places
from sohs_cli.dashboard.store import LedgerView
from sohs_cli.dashboard.views import Views
from sohs_cli.dashboard.web import LOOPBACK_NAMES, Dashboard
from sohs_cli.foundation.errors import ConfigError, UsageError
from sohs_cli.foundation.i18n import _

MIN_TOKEN = 16


def is_loopback(host: str) -> bool:
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def read_token(path: str) -> str:
    """The first line of ``path``; never shown anywhere, not even in an error."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(4096)
    except OSError as exc:
        from sohs_cli.foundation.fileio import reason

        raise ConfigError(_("--token-file {path}: cannot be read ({reason})", path=path, reason=reason(exc)),
                          hint=_("its first line is the dashboard's access token")) from None
    try:
        token = raw.decode("utf-8").splitlines()[0].strip() if raw.strip() else ""
    except UnicodeDecodeError:
        raise ConfigError(_("--token-file {path}: not UTF-8 text", path=path)) from None
    if len(token) < MIN_TOKEN:
        raise ConfigError(_("--token-file {path}: the token's first line must have at least {n} characters",
                            path=path, n=MIN_TOKEN),
                          hint="python3 -c 'import secrets; print(secrets.token_urlsafe(24))' > FILE; chmod 600 FILE")
    return token


def build(settings: Any, *, host: str, token_file: str | None, lang: str) -> Dashboard:
    """The ASGI app for ``settings``; refuses a non-loopback address without a token (exit 2)."""
    if not is_loopback(host) and not token_file:
        raise UsageError(_("--host {host}: the dashboard shows health data; on an address other than loopback "
                           "every request must carry a token", host=host),
                         hint=_("add --token-file FILE (or SOHS_DASHBOARD_TOKEN_FILE), or keep --host 127.0.0.1"))
    token = read_token(token_file) if token_file else None
    places = Places.from_settings(settings)
    ledger = LedgerView(Path(settings.home))
    return Dashboard(Views(ledger, places), token=token, lang="en" if lang.lower().startswith("en") else "vi",
                     allowed_hosts=() if token else LOOPBACK_NAMES)
