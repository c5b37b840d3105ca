"""Accounts of the simulated portal, from a TOML file (documented in the README)::

    [[account]]
    username = "01001_BV"
    password = "…"                 # the simulator's own config; clients send MD5 upper-case hex
    facility = "01001"             # 5-character BHXH facility code (MA_CSKCB)
    certificates = ["clinic.pem"]  # registered certificates (Danh mục chứng thư số), relative to this file
    gln = "8930000000017"          # optional: 13-digit facility ID, enables the checkup hub for this account
    message_key = "hub-key.pub.pem" # with gln: public half of the message key the Ministry issued to this
                                   # sender (QĐ 2062 PL02 §4); the hub verifies each push's checksum with it
    locked = false                 # optional: a locked account gets 403 from /api/token/take

Certificate paths are relative to the accounts file. A certificate file may hold several (PEM).
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sohs_cli.foundation.errors import ConfigError, SohsError
from sohs_cli.foundation.fileio import read_file, reason
from sohs_cli.foundation.i18n import _, both
from sohs_cli.portal.hubmessage import load_public_key
from sohs_cli.signing.certs import load_certificates
from sohs_cli.signing.trust import Trust


@dataclass(frozen=True)
class Account:
    username: str
    password_md5: str = field(repr=False)  # upper-case hex, as the client sends it
    facility: str
    certificates: tuple[x509.Certificate, ...]
    gln: str = ""
    locked: bool = False
    message_keys: tuple[rsa.RSAPublicKey, ...] = field(default=(), repr=False)

    @property
    def province(self) -> str:
        """maTinh: the first two characters of MA_CSKCB (QLBV; INFERENCE-grade in DOMAIN.md §5.3)."""
        return self.facility[:2]

    def registered(self, cert: x509.Certificate) -> bool:
        der = cert.public_bytes(serialization.Encoding.DER)
        return any(c.public_bytes(serialization.Encoding.DER) == der for c in self.certificates)

    def trust(self) -> Trust:
        """The portal trusts exactly the certificates registered for the account (Danh mục chứng thư số)."""
        return Trust.of_certificates(self.certificates, *both("certificates registered for {user}", user=self.username))

    def password_ok(self, plain: str) -> bool:
        """For the checkup hub, which takes the password itself (QĐ 1551 PL02)."""
        return hashlib.md5(plain.encode("utf-8")).hexdigest().upper() == self.password_md5


def md5_upper(password: str) -> str:
    """The portal's password form: MD5, hex, upper-case (CV 3190 §I.1)."""
    return hashlib.md5(password.encode("utf-8")).hexdigest().upper()


def load_accounts(path: str) -> dict[str, Account]:
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(_("--accounts {file}: cannot read: {reason}", file=path, reason=reason(exc))) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_("--accounts {file}: not valid TOML: {reason}", file=path, reason=exc)) from None
    base = os.path.dirname(os.path.abspath(path))
    accounts: dict[str, Account] = {}
    for n, raw in enumerate(data.get("account", []), start=1):
        where = _("--accounts {file}: account {n}", file=path, n=n)
        try:
            username, password, facility = str(raw["username"]), str(raw["password"]), str(raw["facility"])
        except (KeyError, TypeError):
            raise ConfigError(_("{where}: needs `username`, `password` and `facility`", where=where)) from None
        if not re.fullmatch(r"[0-9A-Z]{5}", facility):
            raise ConfigError(_("{where}: facility {value} is not a 5-character MA_CSKCB (Mã cơ sở KBCB)", where=where,
                                value=repr(facility)))
        gln = str(raw.get("gln", ""))
        if gln and not re.fullmatch(r"[0-9]{13}", gln):
            raise ConfigError(_("{where}: gln {value} is not a 13-digit facility ID", where=where, value=repr(gln)))
        certs: list[x509.Certificate] = []
        for cert_path in raw.get("certificates", []):
            full = os.path.join(base, str(cert_path))
            try:
                certs += load_certificates(read_file(full), full)
            except SohsError as exc:
                raise ConfigError(_("{where}: {reason}", where=where, reason=exc.message)) from None
        keys = raw.get("message_key", [])
        message_keys = []
        for key_path in [keys] if isinstance(keys, str) else list(keys):
            try:
                message_keys.append(load_public_key(os.path.join(base, str(key_path))))
            except SohsError as exc:
                raise ConfigError(_("{where}: message_key: {reason}", where=where, reason=exc.message)) from None
        if username in accounts:
            raise ConfigError(_("{where}: username {value} appears twice", where=where, value=repr(username)))
        accounts[username] = Account(username, md5_upper(password), facility, tuple(certs), gln,
                                     bool(raw.get("locked", False)), tuple(message_keys))
    if not accounts:
        raise ConfigError(_("--accounts {file}: no [[account]] entries", file=path),
                          hint=_("see the README for the format"))
    return accounts
