"""Where the settings file is: the search path, in a module of its own so that the language of a run
can be read from the file's ``lang`` before anything else without importing the settings machinery
(``sohs validate`` start-up, issue 17). :mod:`sohs_cli.foundation.config` resolves the settings themselves.

The search works on strings, and only the functions that hand out a path make it a ``Path``: every
``sohs validate`` looks for the file, and ``pathlib`` (with ``urllib.parse`` and ``ipaddress``) was
3 ms of its start-up (issue 14)."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from sohs_cli.foundation.errors import ConfigError
from sohs_cli.foundation.i18n import _

if TYPE_CHECKING:
    from pathlib import Path


def _user_config_dir() -> str:
    home = os.path.expanduser("~")
    if sys.platform == "win32":
        return os.path.join(os.environ.get("APPDATA", home), "sohs")
    if sys.platform == "darwin":
        return os.path.join(home, "Library", "Application Support", "sohs")
    return os.path.join(os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config"), "sohs")


def _system_config_path() -> str:
    """The machine-wide file: ``/etc/sohs/sohs.toml``; on Windows ``%PROGRAMDATA%\\sohs\\sohs.toml``."""
    if sys.platform == "win32":
        return os.path.join(os.environ.get("PROGRAMDATA") or r"C:\ProgramData", "sohs", "sohs.toml")
    return "/etc/sohs/sohs.toml"


def user_config_dir() -> Path:
    from pathlib import Path

    return Path(_user_config_dir())


def user_data_dir() -> Path:
    from pathlib import Path

    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or os.environ.get("APPDATA") or Path.home()) / "sohs"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "sohs"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "sohs"


def system_config_file() -> Path:
    """The machine-wide file: ``/etc/sohs/sohs.toml``; on Windows ``%PROGRAMDATA%\\sohs\\sohs.toml``."""
    from pathlib import Path

    return Path(_system_config_path())


def _candidates(explicit: str | None) -> list[tuple[str, str]]:
    named = explicit or os.environ.get("SOHS_CONFIG")
    if named:
        return [("--config" if explicit else "$SOHS_CONFIG", named)]
    return [("./sohs.toml", "sohs.toml"), (_("user config folder"), os.path.join(_user_config_dir(), "sohs.toml")),
            (_("system"), _system_config_path())]


def config_candidates(explicit: str | None = None) -> list[tuple[str, Path]]:
    """Where the settings file is looked for, in order: (how it was named, path). The first that
    exists is used; ``config show`` lists them all."""
    from pathlib import Path

    return [(how, Path(path)) for how, path in _candidates(explicit)]


def _search(explicit: str | None) -> tuple[str | None, tuple[str, str] | None]:
    """The settings file found (None: there is none), and (how, path) of a named one that does not exist."""
    candidates = _candidates(explicit)
    if explicit or os.environ.get("SOHS_CONFIG"):
        how, path = candidates[0]
        return (path, None) if os.path.isfile(path) else (None, (how, path))
    for _how, candidate in candidates:
        if os.path.isfile(candidate):
            return candidate, None
    return None, None


def find_config(explicit: str | None) -> Path | None:
    """``--config FILE``, else ``$SOHS_CONFIG`` (either must exist), else the first of ``./sohs.toml``,
    the user's config folder and the system's file that exists."""
    from pathlib import Path

    found, missing = _search(explicit)
    if missing is not None:
        how, path = missing
        raise ConfigError(_("{how} {file}: no such file", how=how, file=Path(path)),
                          hint=_("sohs init writes a commented sohs.toml"))
    return None if found is None else Path(found)


def file_language() -> str:
    """``lang`` from the settings file, for the language of the run before any settings are resolved
    (``--lang`` > ``SOHS_LANG`` > this > the locale); empty when there is none or the file is unreadable
    (the command that resolves its settings reports that)."""
    try:
        path, missing = _search(None)
        if path is None or missing is not None:
            return ""  # the usual case of a CI step: no settings file, and tomllib never imported
        import tomllib

        with open(path, "rb") as fh:
            value = tomllib.load(fh).get("lang", "")
    except (OSError, ValueError):  # TOMLDecodeError is a ValueError
        return ""
    return value if isinstance(value, str) else ""
