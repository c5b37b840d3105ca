"""Where the settings file is: the search path, in a module of its own so that the language of a run
can be read from the file's ``lang`` before anything else without importing the settings machinery
(``sohs validate`` start-up, issue 17). :mod:`sohs_cli.foundation.config` resolves the settings themselves."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from sohs_cli.foundation.errors import ConfigError
from sohs_cli.foundation.i18n import _


def user_config_dir() -> Path:
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", Path.home())) / "sohs"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "sohs"
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "sohs"


def user_data_dir() -> Path:
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or os.environ.get("APPDATA") or Path.home()) / "sohs"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "sohs"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "sohs"


def system_config_file() -> Path:
    """The machine-wide file: ``/etc/sohs/sohs.toml``; on Windows ``%PROGRAMDATA%\\sohs\\sohs.toml``."""
    if sys.platform == "win32":
        return Path(os.environ.get("PROGRAMDATA") or r"C:\ProgramData") / "sohs" / "sohs.toml"
    return Path("/etc/sohs/sohs.toml")


def config_candidates(explicit: str | None = None) -> list[tuple[str, Path]]:
    """Where the settings file is looked for, in order: (how it was named, path). The first that
    exists is used; ``config show`` lists them all."""
    named = explicit or os.environ.get("SOHS_CONFIG")
    if named:
        return [("--config" if explicit else "$SOHS_CONFIG", Path(named))]
    return [("./sohs.toml", Path("sohs.toml")), (_("user config folder"), user_config_dir() / "sohs.toml"),
            (_("system"), system_config_file())]


def find_config(explicit: str | None) -> Path | None:
    """``--config FILE``, else ``$SOHS_CONFIG`` (either must exist), else the first of ``./sohs.toml``,
    the user's config folder and the system's file that exists."""
    candidates = config_candidates(explicit)
    if explicit or os.environ.get("SOHS_CONFIG"):
        how, path = candidates[0]
        if not path.is_file():
            raise ConfigError(_("{how} {file}: no such file", how=how, file=path),
                              hint=_("sohs init writes a commented sohs.toml"))
        return path
    for _how, candidate in candidates:
        if candidate.is_file():
            return candidate
    return None


def file_language() -> str:
    """``lang`` from the settings file, for the language of the run before any settings are resolved
    (``--lang`` > ``SOHS_LANG`` > this > the locale); empty when there is none or the file is unreadable
    (the command that resolves its settings reports that)."""
    try:
        path = find_config(None)
        if path is None:
            return ""  # the usual case of a CI step: no settings file, and tomllib never imported
        import tomllib

        with open(path, "rb") as fh:
            value = tomllib.load(fh).get("lang", "")
    except (OSError, ConfigError, ValueError):  # TOMLDecodeError is a ValueError
        return ""
    return value if isinstance(value, str) else ""
