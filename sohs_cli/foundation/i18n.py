"""Messages in Vietnamese or English, one language per run, from gettext message catalogs.

Owns the language of the run and every user-visible text; imports only the standard library (core
modules, the CLI and the dashboard's web page all use it).

- The message id is the English text (the gettext convention): English needs no catalog.
- The Vietnamese catalog is ``sohs_cli/locale/vi/LC_MESSAGES/sohs.po``, in git; it is compiled to
  ``sohs.mo`` when the package is built (``hatch_build.py``, with Babel, a build-time tool only) and
  before the tests run (``tests/conftest.py``). At run time only the standard library's ``gettext``
  reads the ``.mo``, and only on the first Vietnamese message (English runs never open it).
- A test fails when a message of the code has no Vietnamese translation, or when a translation
  drops or adds a ``{field}``.

The API::

    _("{count} file(s) valid", count=3)      # this run's language; fields filled by str.format
    _n("{n} file", "{n} files", n, n=n)     # plural forms
    N_("signed")                            # mark a module constant for the catalog; _() it when shown
    translate("vi", "signed")               # a given language (a web request, a finding carrying both)

The language: ``--lang`` > ``SOHS_LANG`` > ``lang`` in the settings file > the locale (``vi*`` ->
Vietnamese) > English. An explicit value other than ``vi`` or ``en`` (``--lang fr``) is a usage
error (exit 2); a locale that is neither gives English.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import gettext

LANGUAGES = ("en", "vi")
DOMAIN = "sohs"
# sohs_cli/locale: the catalogs of every package; no resolve(): start-up pays per syscall
LOCALE_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "locale")

_state = {"lang": ""}  # the run's language once set; empty: resolved from the environment on first use
_catalogs: dict[str, gettext.NullTranslations] = {}


def resolve_lang(flag: str | None = None, configured: str = "") -> str:
    """``vi`` or ``en`` from ``flag``, then ``SOHS_LANG``, then ``configured`` (``lang`` of the settings
    file), then the locale."""
    for value, where in ((flag, "--lang"), (os.environ.get("SOHS_LANG"), "SOHS_LANG"), (configured, "lang")):
        if value:
            return _checked(value, where)
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        loc = os.environ.get(var, "")
        if loc:
            return "vi" if loc.lower().startswith("vi") else "en"
    return "en"


def _checked(value: str, where: str) -> str:
    lang = value.strip().lower().replace("-", "_")
    code = lang.split("_", 1)[0].split(".", 1)[0]
    if code in LANGUAGES:
        return code
    from sohs_cli.foundation.errors import UsageError

    raise UsageError(f"{where} {value}: the languages are vi (Vietnamese) and en (English)",
                     hint="--lang vi or --lang en; SOHS_LANG takes the same values")


def set_language(lang: str) -> None:
    """Fix the language of this run (``vi`` or ``en``)."""
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r} is not one of {LANGUAGES}")
    _state["lang"] = lang


def language() -> str:
    """The language of this run: as set, else from ``SOHS_LANG`` and the locale."""
    if not _state["lang"]:
        _state["lang"] = resolve_lang()
    return _state["lang"]


def catalog(lang: str) -> gettext.NullTranslations:
    """The compiled catalog of ``lang``, loaded once (English: none, the ids are English)."""
    found = _catalogs.get(lang)
    if found is None:
        import gettext

        if lang == "en":
            found = gettext.NullTranslations()
        else:
            mo = os.path.join(LOCALE_DIR, lang, "LC_MESSAGES", f"{DOMAIN}.mo")
            try:
                with open(mo, "rb") as fh:
                    found = gettext.GNUTranslations(fh)
            except OSError:  # a build without compiled catalogs: English rather than a crash
                found = gettext.NullTranslations()
        _catalogs[lang] = found
    return found


def translate(lang: str, message: str, /, **fields: Any) -> str:
    """``message`` in ``lang``, with ``fields`` filled in."""
    text = message if lang == "en" else catalog(lang).gettext(message)
    return text.format(**fields) if fields else text


def ntranslate(lang: str, singular: str, plural: str, n: int, /, **fields: Any) -> str:
    """The form of ``singular``/``plural`` for ``n`` in ``lang`` (Vietnamese has one form)."""
    text = (singular if n == 1 else plural) if lang == "en" else catalog(lang).ngettext(singular, plural, n)
    return text.format(**fields) if fields else text


def _(message: str, /, **fields: Any) -> str:
    """``message`` in this run's language."""
    return translate(language(), message, **fields)


def _n(singular: str, plural: str, n: int, /, **fields: Any) -> str:
    return ntranslate(language(), singular, plural, n, **fields)


def N_(message: str) -> str:
    """Mark ``message`` for the catalog without translating it (translate it with ``_()`` when shown)."""
    return message


def both(message: str, /, **fields: Any) -> tuple[str, str]:
    """``message`` in English and Vietnamese, for what carries both (a finding, a stored result)."""
    return translate("en", message, **fields), translate("vi", message, **fields)


def pick(lang: str, en: str, vi: str) -> str:
    """Deprecated: an inline pair. Use ``_()`` with the English text and the catalog (issue 17)."""
    return vi if lang == "vi" else en
