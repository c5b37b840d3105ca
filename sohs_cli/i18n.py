"""Message language: ``--lang`` > ``SOHS_LANG`` > the locale (``vi*`` -> Vietnamese) > English."""

from __future__ import annotations

import os


def resolve_lang(flag: str | None = None) -> str:
    for value in (flag, os.environ.get("SOHS_LANG")):
        if value:
            return "vi" if value.lower().startswith("vi") else "en"
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        loc = os.environ.get(var, "")
        if loc:
            return "vi" if loc.lower().startswith("vi") else "en"
    return "en"


def pick(lang: str, en: str, vi: str) -> str:
    return vi if lang == "vi" else en
