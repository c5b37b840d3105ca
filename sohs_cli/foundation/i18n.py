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
    in_language("en", exc.message)          # a message made by _() again in a given language (JSON)

What ``_()`` returns is a :class:`Text`: a ``str`` in the run's language that keeps its message id and
fields, so an error made in a Vietnamese run still has its English for the JSON report's
``message_en`` (and the other way round). A field that is itself a ``Text`` is rendered in the same
language as the message around it.

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
    file), then the locale. A value that is neither is a usage error, said in the language the sources
    after it give (``--lang fr`` on a Vietnamese machine is told in Vietnamese)."""
    sources = ((flag, "--lang"), (os.environ.get("SOHS_LANG"), "SOHS_LANG"), (configured, "lang"))
    for i, (value, where) in enumerate(sources):
        if value:
            code = _code(value)
            if code in LANGUAGES:
                return code
            raise _unknown(value, where, next((_code(v) for v, _w in sources[i + 1:] if v and _code(v) in LANGUAGES),
                                              _from_locale()))
    return _from_locale()


def _from_locale() -> str:
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        loc = os.environ.get(var, "")
        if loc:
            return "vi" if loc.lower().startswith("vi") else "en"
    return "en"


def _code(value: str) -> str:
    return value.strip().lower().replace("-", "_").split("_", 1)[0].split(".", 1)[0]


def _unknown(value: str, where: str, lang: str) -> Exception:
    from sohs_cli.foundation.errors import UsageError

    def text(message: str, **fields: Any) -> Text:
        return Text(translate(lang, message, **fields), message, fields)

    return UsageError(text(N_("{option} {value}: the languages are vi (Vietnamese) and en (English)"), option=where,
                           value=value),
                      hint=text(N_("--lang vi or --lang en; SOHS_LANG takes the same values")))


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


class Text(str):
    """A message rendered in the run's language that can be rendered again in another one."""

    msgid: str
    fields: dict[str, Any]
    plural: tuple[str, int] | None

    def __new__(cls, text: str, msgid: str, fields: dict[str, Any], plural: tuple[str, int] | None = None) -> Text:
        made = super().__new__(cls, text)
        made.msgid, made.fields, made.plural = msgid, fields, plural
        return made

    def render(self, lang: str) -> str:
        if self.plural is not None:
            return ntranslate(lang, self.msgid, self.plural[0], self.plural[1], **self.fields)
        return translate(lang, self.msgid, **self.fields)

    def __reduce__(self) -> tuple[Any, ...]:  # through a worker process's pipe: a Text again
        return Text, (str(self), self.msgid, self.fields, self.plural)


def in_language(lang: str, text: str) -> str:
    """``text`` in ``lang`` when it was made by ``_()`` (a :class:`Text`); else as it is."""
    return text.render(lang) if isinstance(text, Text) else str(text)


def _filled(lang: str, fields: dict[str, Any]) -> dict[str, Any]:
    if any(isinstance(v, Text) for v in fields.values()):
        return {k: v.render(lang) if isinstance(v, Text) else v for k, v in fields.items()}
    return fields


def translate(lang: str, message: str, /, **fields: Any) -> str:
    """``message`` in ``lang``, with ``fields`` filled in (a field made by ``_()`` in ``lang`` too)."""
    text = message if lang == "en" else catalog(lang).gettext(message)
    return text.format(**_filled(lang, fields)) if fields else text


def ntranslate(lang: str, singular: str, plural: str, n: int, /, **fields: Any) -> str:
    """The form of ``singular``/``plural`` for ``n`` in ``lang`` (Vietnamese has one form)."""
    text = (singular if n == 1 else plural) if lang == "en" else catalog(lang).ngettext(singular, plural, n)
    return text.format(**_filled(lang, fields)) if fields else text


def _(message: str, /, **fields: Any) -> str:
    """``message`` in this run's language, as a :class:`Text` (it can be had in the other language)."""
    return Text(translate(language(), message, **fields), message, fields)


def _n(singular: str, plural: str, n: int, /, **fields: Any) -> str:
    return Text(ntranslate(language(), singular, plural, n, **fields), singular, fields, (plural, n))


def N_(message: str) -> str:
    """Mark ``message`` for the catalog without translating it (translate it with ``_()`` when shown)."""
    return message


def both(message: str, /, **fields: Any) -> tuple[str, str]:
    """``message`` in English and Vietnamese, for what carries both (a finding, a stored result)."""
    return translate("en", message, **fields), translate("vi", message, **fields)


def pick(lang: str, en: str, vi: str) -> str:
    """Deprecated: an inline pair. Use ``_()`` with the English text and the catalog (issue 17)."""
    return vi if lang == "vi" else en
