"""Settings, resolved once: flag > ``SOHS_*`` environment > ``sohs.toml`` > default.

The file is ``--config FILE``, else ``$SOHS_CONFIG``, else ``./sohs.toml``, else ``sohs.toml`` in the
platform's user config folder (``$XDG_CONFIG_HOME/sohs`` or ``~/.config/sohs``;
``~/Library/Application Support/sohs``; ``%APPDATA%\\sohs``), else the system's
(``/etc/sohs/sohs.toml``; ``%PROGRAMDATA%\\sohs\\sohs.toml``) (issue 17). Keys are dotted in code
and nested in the file (``portal.url`` is ``url`` under ``[portal]``); the environment variable is
``SOHS_`` + the key in capitals with ``.`` as ``_`` (``SOHS_PORTAL_URL``). Secrets are never
settings: the settings only say where a secret comes from (``portal.password_env``,
``portal.password_file``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sohs_cli.foundation.errors import ConfigError
from sohs_cli.foundation.i18n import N_, _

# the settings file's search path, also named here (``from sohs_cli.foundation.config import user_data_dir``)
from sohs_cli.foundation.settings_files import config_candidates as config_candidates
from sohs_cli.foundation.settings_files import file_language as file_language
from sohs_cli.foundation.settings_files import find_config as find_config
from sohs_cli.foundation.settings_files import system_config_file as system_config_file
from sohs_cli.foundation.settings_files import user_config_dir as user_config_dir
from sohs_cli.foundation.settings_files import user_data_dir as user_data_dir

#: key -> (default, type, help). The one list of what can be configured (help: a catalog message).
KEYS: dict[str, tuple[Any, type, str]] = {
    "home": ("", str, N_("data folder for the ledger (default: the platform's user data folder)")),
    "facility": ("", str, N_("MA_CSKCB of the clinic (5 characters)")),
    "standard": ("auto", str, N_("auto | 4750 | 3176")),
    "lang": ("", str, N_("vi | en")),
    "portal.url": ("", str, N_("base URL of the receiving portal")),
    "portal.username": ("", str, N_("portal account, e.g. 79001_BV")),
    "portal.password_env": ("SOHS_PORTAL_PASSWORD", str, N_("variable holding the portal password")),
    "portal.password_file": ("", str, N_("file whose first line is the portal password")),
    "portal.ca_bundle": ("", str, N_("PEM file of CAs trusted for the portal's TLS (default: the system's)")),
    "portal.concurrency": (2, int, N_("documents in flight at once")),
    "portal.timeout": (30.0, float, N_("seconds to wait for a reply")),
    "portal.connect_timeout": (10.0, float, N_("seconds to wait for a connection")),
    "portal.attempts": (5, int, N_("tries per request for transport errors, 5xx and 429")),
    "portal.deadline": (300.0, float, N_("seconds a request may take with all its retries")),
    "hub.environment": ("", str, N_("Ministry of Health data hub: production (api.emrhub.vn) or sandbox "
                                    "(api-sandbox.emrhub.vn)")),
    "hub.url": ("", str, N_("base URL of the checkup hub, instead of hub.environment (e.g. the simulated hub)")),
    "hub.username": ("", str, N_("hub account issued by the Ministry (e.g. <13-digit ID>_api)")),
    "hub.password_env": ("SOHS_HUB_PASSWORD", str, N_("variable holding the hub password")),
    "hub.password_file": ("", str, N_("file whose first line is the hub password")),
    "hub.gln": ("", str, N_("13-digit facility ID (sender_id) for the checkup hub")),
    "hub.receiver_id": ("TDLBYT", str, N_("receiver_id of pushes (QĐ 2062 PL02 example: TDLBYT; sandbox seen: "
                                          "TTYQG)")),
    "hub.message_key": ("", str, N_("PEM or PKCS#12 file of the message key pair the Ministry issued to the "
                                    "facility (signs each push's checksum; not the signing certificate)")),
    "hub.message_key_password_env": ("SOHS_HUB_KEY_PASSWORD", str, N_("variable holding the message key's "
                                                                      "password")),
    "hub.message_key_password_file": ("", str, N_("file whose first line is the message key's password")),
    "hub.reply_key": ("", str, N_("the hub's public key (PEM, or a certificate) the Ministry hands out to verify the "
                                  "hub's replies; empty: replies are not verified")),
    "signing.p12": ("", str, N_("PKCS#12 file with the facility's key and certificate")),
    "signing.key": ("", str, N_("PEM private key (with signing.cert)")),
    "signing.cert": ("", str, N_("PEM certificate (with signing.key)")),
    "signing.password_env": ("SOHS_P12_PASSWORD", str, N_("variable holding the key password")),
    "signing.password_file": ("", str, N_("file whose first line is the key password")),
    "signing.doctor_p12": ("", str, N_("PKCS#12 of the concluding doctor, for sohs run to sign a checkup record's "
                                       "CKS_NGUOI_KET_LUAN before the facility signs")),
    "signing.doctor_password_env": ("SOHS_DOCTOR_P12_PASSWORD", str, N_("variable holding the doctor key's "
                                                                        "password")),
    "signing.doctor_password_file": ("", str, N_("file whose first line is the doctor key's password")),
    "signing.expiry_warning_days": (30, int, N_("warn when the certificate expires within N days")),
    "signing.pkcs11_module": ("", str, N_("PKCS#11 library of the USB token or HSM (instead of signing.p12)")),
    "signing.token_label": ("", str, N_("token to use (default: the only one present)")),
    "signing.key_label": ("", str, N_("label of the private key on the token")),
    "signing.key_id": ("", str, N_("CKA_ID of the private key on the token (hex)")),
    "signing.pin_env": ("SOHS_PKCS11_PIN", str, N_("variable holding the token PIN")),
    "verify.ca_bundle": ("", str, N_("PEM file of the CAs trusted for signers (submit, run, verify; README Trust)")),
    "verify.certificates": ("", str, N_("PEM file of the signer certificates registered on the portal (pinned)")),
    "folders.outbox": ("outbox", str, N_("where the HIS drops files to send")),
    "folders.sent": ("sent", str, N_("delivered files")),
    "folders.rejected": ("rejected", str, N_("refused files, each with FILE.errors.json beside it")),
    "folders.failed": ("failed", str, N_("files that cannot be read at all")),
    "run.settle_seconds": (5.0, float, N_("a file changed more recently than this is still being written")),
    "run.log_file": ("", str, N_("JSON-lines log (rotated); default: sohs.log in the data folder")),
}
SECRET_HINTS = ("password", "pin")  # settings whose *names* point at secrets are shown, never their values
PORTAL_PASSWORD_ENV = "SOHS_PORTAL_PASSWORD"


def display_value(key: str, value: Any) -> Any:
    """A setting's value as shown (``config show``): a URL without the user name and password it may
    carry (``https://user:secret@host`` → ``https://***@host``, issue 15); secrets are not settings."""
    if not (isinstance(value, str) and key.endswith(".url") and "@" in value):
        return value
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(value)
    except ValueError:
        return "(not a URL)"
    if "@" not in parts.netloc:
        return value
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]))


def env_name(key: str) -> str:
    return "SOHS_" + key.upper().replace(".", "_")


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in data.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


@dataclass(frozen=True)
class Settings:
    values: Mapping[str, Any]
    sources: Mapping[str, str]  # key -> "--flag", "$SOHS_X", "sohs.toml (path)", "default"
    config_file: str | None

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    @property
    def home(self) -> Path:
        return Path(self.values["home"]) if self.values["home"] else user_data_dir()


def _coerce(key: str, value: Any, where: str) -> Any:
    kind = KEYS[key][1]
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise ConfigError(_("{where}: {key} = {value} is not a {kind}", where=where, key=key, value=repr(value),
                            kind={int: _("whole number"), float: _("number")}.get(kind, _("text")))) from None


#: settings that name files or folders: a relative one in sohs.toml is relative to that file's folder
#: (cron runs from anywhere; issue 16: signing.p12 was looked up in the working directory)
PATH_KEYS = frozenset({"home", "portal.password_file", "portal.ca_bundle", "hub.password_file", "hub.message_key",
                       "hub.message_key_password_file", "hub.reply_key", "signing.p12", "signing.key", "signing.cert",
                       "signing.password_file", "verify.ca_bundle", "verify.certificates", "folders.outbox",
                       "folders.sent", "folders.rejected", "folders.failed", "run.log_file"})


def _beside(config: Path, value: str) -> str:
    """``value`` against the folder of ``config``; absolute paths and ``~`` stay as they are."""
    if Path(value).is_absolute() or value.startswith("~"):
        return value
    return str(config.resolve().parent / value)


def resolve(flags: Mapping[str, Any] | None = None, config: str | None = None) -> Settings:
    """Every key's value and where it came from. ``flags`` holds only the flags actually given."""
    path = find_config(config)
    file_values: dict[str, Any] = {}
    if path is not None:
        import tomllib  # here: validate, which never resolves settings, must not pay for it

        try:
            with open(path, "rb") as fh:
                file_values = _flatten(tomllib.load(fh))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(_("{file}: cannot be read as TOML: {reason}", file=path, reason=exc)) from None
        unknown = sorted(set(file_values) - set(KEYS))
        if unknown:
            raise ConfigError(_("{file}: unknown setting(s) {keys}", file=path, keys=", ".join(unknown)),
                              hint=_("sohs config show lists the settings"))
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, (default, _kind, _help) in KEYS.items():
        if flags and flags.get(key) not in (None, ""):
            values[key], sources[key] = _coerce(key, flags[key], f"--{key}"), "flag"
        elif os.environ.get(env_name(key)):
            values[key], sources[key] = _coerce(key, os.environ[env_name(key)], env_name(key)), f"${env_name(key)}"
        elif key in file_values:
            value = _coerce(key, file_values[key], str(path))
            if key in PATH_KEYS and isinstance(value, str) and value and path is not None:
                value = _beside(path, value)
            values[key], sources[key] = value, f"{path}"
        else:
            values[key], sources[key] = default, "default"
    return Settings(values, sources, str(path) if path else None)
