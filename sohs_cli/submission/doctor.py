"""``sohs doctor``: is this installation ready for tonight's run? Each check: ok, warn or fail, a hint.

Checks, in order: settings resolved; the certificate readable, its key matching, days until it
expires; the CA bundle; the data folder writable; the ledger's integrity; the portal reachable; the
login accepted; the clock against the portal's ``Date`` header (signatures and tokens carry times).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import os
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sohs_cli.foundation.config import Settings
from sohs_cli.foundation.errors import PortalUnavailable, SohsError
from sohs_cli.foundation.i18n import N_, _

MAX_SKEW = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Check:
    """One check. ``name`` is its stable English id (``--json`` ``check``; ``_(name)`` shows it);
    ``detail`` and ``hint`` are in the run's language."""

    name: str
    status: str  # ok | warn | fail
    detail: str
    hint: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"check": self.name, "name": _(self.name), "status": self.status, "detail": self.detail,
                "hint": self.hint}


SETTINGS, CERTIFICATE, KEY, EXPIRY = N_("settings"), N_("certificate"), N_("key matches"), N_("expiry")
CA_BUNDLE, DATA, LEDGER = N_("CA bundle"), N_("data folder"), N_("ledger")
PORTAL, LOGIN, CLOCK = N_("portal reachable"), N_("login"), N_("clock")


async def diagnose(s: Settings, load_signer: Callable[[], Any], make_client: Callable[[], Any]) -> list[Check]:
    checks: list[Check] = []
    missing = [k for k in ("facility", "portal.url", "portal.username") if not s[k]]
    if missing:
        detail = _("missing {keys}", keys=", ".join(missing))
    elif s.config_file:
        detail = _("from {file}", file=s.config_file)
    else:
        detail = _("from the environment and flags")
    checks.append(Check(SETTINGS, "fail" if missing else "ok", detail,
                        _("sohs init writes a sohs.toml to fill in; sohs config show shows each value's source")))
    checks += _certificate(s, load_signer)
    bundle = s["portal.ca_bundle"]
    if bundle:
        from sohs_cli.signing.certs import load_ca_bundle

        try:
            count = len(load_ca_bundle(bundle))
            checks.append(Check(CA_BUNDLE, "ok", _("{count} certificate(s) in {file}", count=count, file=bundle)))
        except SohsError as exc:
            checks.append(Check(CA_BUNDLE, "fail", exc.message, exc.hint))
    checks.append(_writable(s))
    checks.append(_ledger(s))
    if s["portal.url"] and s["portal.username"]:
        checks += await _portal(make_client)
    return checks


def _certificate(s: Settings, load_signer: Callable[[], Any]) -> list[Check]:
    if not (s["signing.p12"] or s["signing.key"] or s["signing.pkcs11_module"]):
        return [Check(CERTIFICATE, "warn", _("no signing key configured (signing.p12)"),
                      _("without one, sohs run sends only files that are already signed"))]
    from sohs_cli.signing.certs import describe

    try:
        signer = load_signer()
    except SohsError as exc:
        return [Check(CERTIFICATE, "fail", exc.message, exc.hint)]
    info = describe(signer.certificate)
    out = [Check(CERTIFICATE, "ok", _("{subject} (serial {serial})", subject=info.subject, serial=info.serial)),
           Check(KEY, "ok", _("the private key belongs to the certificate"))]
    window = s["signing.expiry_warning_days"]
    out.append(Check(EXPIRY, "warn" if info.days_left <= window else "ok",
                     _("{days} days left (until {date})", days=info.days_left, date=f"{info.not_after:%Y-%m-%d}"),
                     _("renew it and register the new one on the portal (menu Danh mục chứng thư số)")))
    return out


def _writable(s: Settings) -> Check:
    try:
        s.home.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=s.home, prefix=".doctor-"):
            pass
    except OSError as exc:
        from sohs_cli.foundation.fileio import reason

        return Check(DATA, "fail", f"{s.home}: {reason(exc)}", _("set SOHS_HOME or home to a writable folder"))
    return Check(DATA, "ok", _("{folder} is writable", folder=s.home))


def _ledger(s: Settings) -> Check:
    from sohs_cli.submission.ledger import Ledger

    try:
        ledger = Ledger(s.home)
    except SohsError as exc:
        return Check(LEDGER, "fail", exc.message, exc.hint)
    try:
        problems = ledger.check()
        count = len(ledger.select())
    finally:
        ledger.close()
    mode = os.stat(ledger.path).st_mode & 0o777
    if problems:
        return Check(LEDGER, "fail", "; ".join(problems), _("keep a copy of ledger.sqlite3 and report it"))
    if mode & 0o077:
        return Check(LEDGER, "warn", _("{file} has mode {mode}", file=ledger.path, mode=f"{mode:o}"),
                     _("chmod 600 it: it lists patients' episodes"))
    return Check(LEDGER, "ok", _("{count} document(s), integrity ok", count=count))


async def _portal(make_client: Callable[[], Any]) -> list[Check]:
    client = make_client()
    try:
        try:
            date = await _call(client.check_login)
        except PortalUnavailable as exc:
            return [Check(PORTAL, "fail", exc.message, _("check portal.url, the network and proxies"))]
        except SohsError as exc:
            return [Check(PORTAL, "ok", client.base_url), Check(LOGIN, "fail", exc.message, exc.hint)]
    finally:
        await client.close()
    checks = [Check(PORTAL, "ok", client.base_url), Check(LOGIN, "ok", _("as {user}", user=client.username))]
    if not date:
        checks.append(Check(CLOCK, "warn", _("the portal sent no Date header; skew unknown")))
        return checks
    skew = dt.datetime.now(dt.UTC) - email.utils.parsedate_to_datetime(date)
    seconds = abs(skew.total_seconds())
    ahead = _("{seconds} s ahead of the portal", seconds=f"{seconds:.0f}")
    behind = _("{seconds} s behind the portal", seconds=f"{seconds:.0f}")
    checks.append(Check(CLOCK, "fail" if abs(skew) > MAX_SKEW else "ok", ahead if skew.total_seconds() > 0 else behind,
                        _("synchronise the clock (NTP): certificates and tokens are checked against it")))
    return checks


async def _call(fn: Callable[[], Awaitable[str]]) -> str:
    return await fn()
