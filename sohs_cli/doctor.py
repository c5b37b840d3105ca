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

from sohs_cli.config import Settings
from sohs_cli.errors import PortalUnavailable, SohsError

MAX_SKEW = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok | warn | fail
    detail: str
    hint: str = ""

    @property
    def name_vi(self) -> str:
        return NAMES_VI.get(self.name, self.name)

    @property
    def hint_vi(self) -> str:
        return HINTS_VI.get(self.hint, self.hint)


NAMES_VI = {"settings": "cấu hình", "certificate": "chứng thư số", "key matches": "khớp khóa", "expiry": "hạn dùng",
            "CA bundle": "tệp CA", "data folder": "thư mục dữ liệu", "ledger": "sổ ghi",
            "portal reachable": "kết nối cổng", "login": "đăng nhập", "clock": "đồng hồ"}
HINTS_VI = {
    "sohs init writes a sohs.toml to fill in; sohs config show shows each value's source":
        "sohs init tạo sohs.toml để điền; sohs config show cho biết mỗi giá trị lấy từ đâu",
    "without one, sohs run sends only files that are already signed":
        "nếu không có, sohs run chỉ gửi các tệp đã được ký",
    "renew it and register the new one on the portal (Danh mục chứng thư số)":
        "gia hạn và đăng ký chứng thư số mới trên cổng (Danh mục chứng thư số)",
    "set SOHS_HOME or home to a writable folder": "đặt SOHS_HOME hoặc home là thư mục ghi được",
    "keep a copy of ledger.sqlite3 and report it": "giữ một bản sao ledger.sqlite3 và báo lỗi",
    "chmod 600 it: it lists patients' episodes": "chmod 600: tệp chứa danh sách đợt điều trị của người bệnh",
    "check portal.url, the network and proxies": "kiểm tra portal.url, mạng và proxy",
    "synchronise the clock (NTP): certificates and tokens are checked against it":
        "đồng bộ đồng hồ (NTP): chứng thư số và token được kiểm tra theo giờ hệ thống",
}


async def diagnose(s: Settings, load_signer: Callable[[], Any], make_client: Callable[[], Any]) -> list[Check]:
    checks: list[Check] = []
    missing = [k for k in ("facility", "portal.url", "portal.username") if not s[k]]
    checks.append(Check("settings", "fail" if missing else "ok",
                        f"missing {', '.join(missing)}" if missing else f"from {s.config_file or 'environment/flags'}",
                        "sohs init writes a sohs.toml to fill in; sohs config show shows each value's source"))
    checks += _certificate(s, load_signer)
    bundle = s["portal.ca_bundle"]
    if bundle:
        from sohs_cli.certs import load_ca_bundle

        try:
            checks.append(Check("CA bundle", "ok", f"{len(load_ca_bundle(bundle))} certificate(s) in {bundle}"))
        except SohsError as exc:
            checks.append(Check("CA bundle", "fail", exc.message, exc.hint))
    checks.append(_writable(s))
    checks.append(_ledger(s))
    if s["portal.url"] and s["portal.username"]:
        checks += await _portal(make_client)
    return checks


def _certificate(s: Settings, load_signer: Callable[[], Any]) -> list[Check]:
    if not (s["signing.p12"] or s["signing.key"] or s["signing.pkcs11_module"]):
        return [Check("certificate", "warn", "no signing key configured (signing.p12)",
                      "without one, sohs run sends only files that are already signed")]
    from sohs_cli.certs import describe

    try:
        signer = load_signer()
    except SohsError as exc:
        return [Check("certificate", "fail", exc.message, exc.hint)]
    info = describe(signer.certificate)
    out = [Check("certificate", "ok", f"{info.subject} (serial {info.serial})"),
           Check("key matches", "ok", "the private key belongs to the certificate")]
    window = s["signing.expiry_warning_days"]
    out.append(Check("expiry", "warn" if info.days_left <= window else "ok",
                     f"{info.days_left} days left (until {info.not_after:%Y-%m-%d})",
                     "renew it and register the new one on the portal (Danh mục chứng thư số)"))
    return out


def _writable(s: Settings) -> Check:
    try:
        s.home.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=s.home, prefix=".doctor-"):
            pass
    except OSError as exc:
        return Check("data folder", "fail", f"{s.home}: {exc.strerror}", "set SOHS_HOME or home to a writable folder")
    return Check("data folder", "ok", f"{s.home} is writable")


def _ledger(s: Settings) -> Check:
    from sohs_cli.ledger import Ledger

    try:
        ledger = Ledger(s.home)
    except SohsError as exc:
        return Check("ledger", "fail", exc.message, exc.hint)
    try:
        problems = ledger.check()
        count = len(ledger.select())
    finally:
        ledger.close()
    mode = os.stat(ledger.path).st_mode & 0o777
    if problems:
        return Check("ledger", "fail", "; ".join(problems), "keep a copy of ledger.sqlite3 and report it")
    if mode & 0o077:
        return Check("ledger", "warn", f"{ledger.path} has mode {mode:o}", "chmod 600 it: it lists patients' episodes")
    return Check("ledger", "ok", f"{count} document(s), integrity ok")


async def _portal(make_client: Callable[[], Any]) -> list[Check]:
    client = make_client()
    try:
        try:
            date = await _call(client.check_login)
        except PortalUnavailable as exc:
            return [Check("portal reachable", "fail", exc.message, "check portal.url, the network and proxies")]
        except SohsError as exc:
            return [Check("portal reachable", "ok", client.base_url),
                    Check("login", "fail", exc.message, exc.hint)]
    finally:
        await client.close()
    checks = [Check("portal reachable", "ok", client.base_url), Check("login", "ok", f"as {client.username}")]
    if not date:
        checks.append(Check("clock", "warn", "the portal sent no Date header; skew unknown"))
        return checks
    skew = dt.datetime.now(dt.UTC) - email.utils.parsedate_to_datetime(date)
    seconds = abs(skew.total_seconds())
    checks.append(Check("clock", "fail" if abs(skew) > MAX_SKEW else "ok",
                        f"{seconds:.0f} s {'ahead of' if skew.total_seconds() > 0 else 'behind'} the portal",
                        "synchronise the clock (NTP): certificates and tokens are checked against it"))
    return checks


async def _call(fn: Callable[[], Awaitable[str]]) -> str:
    return await fn()
