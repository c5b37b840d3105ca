"""``sohs validate``'s command line, as the command's body takes it (:class:`ValidateArgs`), and its
quick reading without typer (:func:`parse_quick`).

``sohs validate`` is the command CI runs on every export, so its start-up counts (issue 14: typer and
the modules it loads were 15 ms of a 0.17 s run, a tenth of xmllint's whole time on the same export).
:func:`parse_quick` reads a command line made only of what it knows for certain (each option of the
command, spelled as typer takes it, with a value typer would accept as it is) into the same
:class:`ValidateArgs` typer's parse gives; anything else, ``--help``, a value typer would refuse or
convert (``--max-size 5x``, ``-j2``, ``-qs``), a ``--`` or an option it does not know, is left to typer
(``None``). ``tests/cli/test_validate_quick.py`` proves the two parses equal on every command line of
a generated set and that the option table names every option of the typer command.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any


class Standard(StrEnum):
    auto = "auto"
    s4750 = "4750"
    s3176 = "3176"


class Format(StrEnum):
    human = "human"
    json = "json"
    junit = "junit"
    sarif = "sarif"


class ValidateArgs:
    """What ``sohs validate``'s command line says, as typer's parse or :func:`parse_quick` gives it;
    the defaults are the command's."""

    __slots__ = ("as_json", "catalogue", "errors_only", "fmt", "from_list", "jobs", "lang", "list_rules",
                 "max_findings", "max_size", "no_rules", "out", "paths", "quiet", "skip_unknown", "split_valid",
                 "standard", "strict")

    def __init__(self, *, paths: Sequence[str] | None = None, from_list: str | None = None,
                 standard: Standard = Standard.auto, no_rules: bool = False, strict: bool = False,
                 fmt: Format = Format.human, out: str | None = None, jobs: str = "auto", max_size: int = 50,
                 max_findings: int = 1000, lang: str | None = None, as_json: bool = False, quiet: bool = False,
                 errors_only: bool = False, skip_unknown: bool = False, split_valid: str | None = None,
                 list_rules: bool = False, catalogue: str | None = None) -> None:
        self.paths = list(paths or [])
        self.from_list = from_list
        self.standard = standard
        self.no_rules = no_rules
        self.strict = strict
        self.fmt = fmt
        self.out = out
        self.jobs = jobs
        self.max_size = max_size
        self.max_findings = max_findings
        self.lang = lang
        self.as_json = as_json
        self.quiet = quiet
        self.errors_only = errors_only
        self.skip_unknown = skip_unknown
        self.split_valid = split_valid
        self.list_rules = list_rules
        self.catalogue = catalogue

    def as_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__slots__}


#: option spelling -> (ValidateArgs field, what its value is): "flag" (no value), "text", "int>=N",
#: or the choices of an enum. The spellings of the typer command, checked by the tests against it.
OPTIONS: dict[str, tuple[str, str | tuple[str, ...]]] = {
    "--from-list": ("from_list", "text"), "--standard": ("standard", tuple(s.value for s in Standard)),
    "--no-rules": ("no_rules", "flag"), "--strict": ("strict", "flag"),
    "--format": ("fmt", tuple(f.value for f in Format)), "-f": ("fmt", tuple(f.value for f in Format)),
    "--output": ("out", "text"), "-o": ("out", "text"), "--jobs": ("jobs", "text"), "-j": ("jobs", "text"),
    "--max-size": ("max_size", "int>=1"), "--max-findings": ("max_findings", "int>=0"),
    "--lang": ("lang", "text"), "--json": ("as_json", "flag"), "--quiet": ("quiet", "flag"),
    "-q": ("quiet", "flag"), "--errors-only": ("errors_only", "flag"), "--skip-unknown": ("skip_unknown", "flag"),
    "--split-valid": ("split_valid", "text"), "--list-rules": ("list_rules", "flag"),
    "--catalogue": ("catalogue", "text"),
}
_CONVERT: dict[str, type[Standard] | type[Format]] = {"standard": Standard, "fmt": Format}


class QuickLine:
    """A command line :func:`parse_quick` read: the root options before ``validate`` and the command's."""

    __slots__ = ("args", "debug", "lang")

    def __init__(self, args: ValidateArgs, debug: bool, lang: str | None) -> None:
        self.args, self.debug, self.lang = args, debug, lang


def parse_quick(argv: Sequence[str]) -> QuickLine | None:
    """``argv`` (without the program) read as typer would read it, or None to let typer read it."""
    i, debug, root_lang = 0, False, None
    while i < len(argv) and argv[i] != "validate":  # the root options app.command_named skips
        word = argv[i]
        if word == "--debug":
            debug, i = True, i + 1
        elif word == "--lang" and i + 1 < len(argv) and not argv[i + 1].startswith("-"):
            root_lang, i = argv[i + 1], i + 2
        elif word.startswith("--lang="):
            root_lang, i = word[len("--lang="):], i + 1
        else:
            return None
    if i == len(argv):
        return None
    found: dict[str, Any] = {}
    paths: list[str] = []
    words = argv[i + 1:]
    j = 0
    while j < len(words):
        word = words[j]
        j += 1
        if not word.startswith("-") or word == "-":
            paths.append(word)
            continue
        name, eq, attached = word.partition("=")
        spec = OPTIONS.get(name if name.startswith("--") else word)
        if spec is None:
            return None  # --help, --, a cluster (-qs), an attached short value (-j2), an unknown option
        field, kind = spec
        if kind == "flag":
            if eq:
                return None  # typer refuses a value given to a flag
            found[field] = True
            continue
        if eq:
            value = attached
        elif j < len(words) and not words[j].startswith("-"):
            value, j = words[j], j + 1
        else:
            return None  # no value, or one that looks like an option: typer decides what it means
        if isinstance(kind, tuple):
            if value not in kind:
                return None
            found[field] = _CONVERT[field](value)
        elif kind.startswith("int>="):
            if not (value.isascii() and value.isdigit()) or int(value) < int(kind[5:]) or len(value) > 9:
                return None
            found[field] = int(value)
        else:
            found[field] = value
    return QuickLine(ValidateArgs(paths=paths, **found), debug, root_lang)
