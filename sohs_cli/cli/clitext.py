"""typer's and click's own words (help screens, usage errors) in the run's language (issue 17).

``--help`` and a usage error are drawn by typer and click, whose words are English: "Usage:",
"Options", "Show this message and exit.", "Missing argument", "No such option", "Invalid value".
Their gettext hooks cannot carry them: click looks its strings up in gettext's *default* domain
with the language of the environment (``LANGUAGE``/``LC_ALL``), not the run's ``--lang``, and the
typer versions sohs allows differ (up to 0.2x typer uses click; 0.28 carries its own copy of click
with the strings written in, no gettext at all). So sohs takes them over where typer lets a program
do so, in one place, the same for every typer version of the range:

- the command classes (``typer.Typer(cls=...)``, ``app.command(cls=...)``: :class:`SohsGroup`,
  :class:`SohsCommand`, set on every command by :func:`adopt`) draw the usage line with a
  translated prefix and placeholders, translate the help option's, the completion options' and
  each placeholder's (``FILE``) text, and set typer's help-panel titles (``typer.rich_utils``'s
  constants: "Arguments", "[default: …]") before each help screen or error;
- a usage error is caught where the group parses (``make_context``, ``invoke``) and rebuilt from
  its parts (the option, the parameter, the value) by :func:`usage_message`; a value error of
  click's types is matched against click's English templates (``CLICK_MESSAGES``) and said again
  from the catalog. One that matches none gets a Vietnamese sentence without its detail, never
  English. The exit code stays 2.

The English texts are the message ids, as everywhere (sohs_cli/foundation/i18n.py): an English run shows
exactly what typer shows.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

from sohs_cli.foundation.i18n import N_, _

try:  # typer <= 0.2x drives click; 0.28 carries its own copy of it
    from typer import _click as click  # type: ignore[attr-defined,unused-ignore]
except ImportError:  # pragma: no cover - depends on the installed typer
    import click  # type: ignore[no-redef,unused-ignore]

#: typer.rich_utils' texts -> their message id (English, as typer writes them, without its markup)
PANEL_TEXTS = {
    "DEPRECATED_STRING": N_("(deprecated) "),
    "DEFAULT_STRING": N_("[default: {}]"),
    "ENVVAR_STRING": N_("[env var: {}]"),
    "REQUIRED_LONG_STRING": N_("[required]"),
    "ARGUMENTS_PANEL_TITLE": N_("Arguments"),
    "OPTIONS_PANEL_TITLE": N_("Options"),
    "COMMANDS_PANEL_TITLE": N_("Commands"),
    "ERRORS_PANEL_TITLE": N_("Error"),
    "ABORTED_TEXT": N_("Aborted."),
}
_TYPER_DEFAULTS: dict[str, str] = {}

#: placeholders of the usage line and of options (``metavar``) -> their message id
PLACEHOLDERS = {
    "FILE": N_("FILE"), "DIR": N_("DIR"), "PATH": N_("PATH"), "NAME": N_("NAME"), "N": N_("N"),
    "SECONDS": N_("SECONDS"), "WHEN": N_("WHEN"), "RATE": N_("RATE"), "URL": N_("URL"), "HEX": N_("HEX"),
    "N/s": N_("N/s"), "N|auto": N_("N|auto"),
    # arguments without a placeholder are shown by their parameter's name
    "paths": N_("PATHS"), "tables": N_("TABLES"), "envelope": N_("ENVELOPE"), "path": N_("PATH"),
    "directory": N_("DIR"),
}
#: options without a placeholder: by click's name of their type
TYPE_PLACEHOLDERS = {"text": N_("TEXT"), "str": N_("TEXT"), "integer": N_("INTEGER"), "int": N_("INTEGER"),
                     "integer range": N_("INTEGER"), "int range": N_("INTEGER"), "float": N_("NUMBER"),
                     "float range": N_("NUMBER"), "path": N_("PATH"), "file": N_("FILE"),
                     "directory": N_("DIR")}
#: typer's completion options -> their help
COMPLETION_HELP = {
    "install_completion": N_("Install completion for the current shell."),
    "show_completion": N_("Show completion for the current shell, to copy it or customize the installation."),
}

#: click's own messages, English with its ``{field}``s (``{name}``: a quoted value), as click and
#: typer's copy of it write them; the first that matches is said again from the catalog
CLICK_MESSAGES = [
    N_("{value} is not a valid integer."), N_("{value} is not a valid float."),
    N_("{value} is not a valid int range."), N_("{value} is not a valid integer range."),
    N_("{value} is not a valid float range."), N_("{value} is not a valid boolean."),
    N_("{value} is not a valid {type}."),
    N_("{value} is not in the range {range}."),
    N_("{value} is not one of {choices}."), N_("{value} is not {choice}."),
    N_("{name} {filename} does not exist."), N_("{name} {filename} is a file."),
    N_("{name} {filename} is a directory."), N_("{name} {filename} is not readable."),
    N_("{name} {filename} is not writable."), N_("{name} {filename} is not executable."),
    N_("Option {name} requires an argument."), N_("Option {name} requires {nargs} arguments."),
    N_("Option {name} does not take a value."), N_("Argument {name} takes {nargs} values."),
    N_("Got unexpected extra argument ({args})"), N_("Got unexpected extra arguments ({args})"),
    N_("Got unexpected extra argument(s) ({args})"),
    N_("Missing command."), N_("No such command {name}."),
]


def _pattern(template: str) -> re.Pattern[str]:
    out, pos = [], 0
    for m in re.finditer(r"\{(\w+)\}", template):
        out.append(re.escape(template[pos:m.start()]))
        out.append(f"(?P<{m.group(1)}>.+?)")
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return re.compile("".join(out) + r"\Z", re.S)


_PATTERNS: list[tuple[str, re.Pattern[str]]] = []  # compiled on the first usage error, not at start-up
#: the ``{name}`` of click's path messages
PATH_KINDS = {"File": N_("File"), "Directory": N_("Directory"), "Path": N_("Path")}  # sentence-initial


def said_again(text: str) -> str | None:
    """``text``, one of click's messages, from the catalog; ``None`` when it is none of them."""
    if not _PATTERNS:
        _PATTERNS.extend((t, _pattern(t)) for t in CLICK_MESSAGES)
    for template, pattern in _PATTERNS:
        m = pattern.match(text.strip())
        if m:
            found = {k: _(PATH_KINDS[v]) if v in PATH_KINDS else v for k, v in m.groupdict().items()}
            return _(template, **found)
    return None


def _hint_of(param: Any, ctx: Any) -> str:
    """How click names a parameter in an error (``'--dir' / '-d'``, ``'envelope'``), without the
    ``(env var: …)`` in English that some typer versions add to an option's."""
    if param.param_type_name == "option":
        return " / ".join(f"'{opt}'" for opt in param.opts)
    return str(param.get_error_hint(ctx))


def usage_message(exc: Any) -> str:
    """A usage error of click, said in this run's language from its parts."""
    ctx = getattr(exc, "ctx", None)
    param = getattr(exc, "param", None)
    hint = getattr(exc, "param_hint", None)
    if param is not None and not hint and ctx is not None:
        hint = _hint_of(param, ctx)
    elif isinstance(hint, (list, tuple)):
        hint = " / ".join(repr(h) for h in hint)
    if isinstance(exc, click.exceptions.NoSuchOption):
        text = _("No such option: {name}", name=exc.option_name)
        possibilities = sorted(exc.possibilities or ())
        if len(possibilities) == 1:
            text += " " + _("Did you mean {possibility}?", possibility=possibilities[0])
        elif possibilities:
            text += " " + _("(Possible options: {possibilities})", possibilities=", ".join(possibilities))
        return text
    if isinstance(exc, click.exceptions.MissingParameter):
        kind = exc.param_type or (param.param_type_name if param is not None else "parameter")
        missing = {"argument": N_("Missing argument {name}."), "option": N_("Missing option {name}.")}
        return _(missing.get(kind, N_("Missing parameter {name}.")), name=hint or "")
    message = str(exc.message)
    detail = message if _is_english_only() else said_again(message)
    if isinstance(exc, click.exceptions.BadParameter):
        if detail is None:
            return _("Invalid value for {name}.", name=hint) if hint else _("Invalid value.")
        return _("Invalid value for {name}: {message}", name=hint, message=detail) if hint else \
            _("Invalid value: {message}", message=detail)
    return detail if detail is not None else _("The command line is not one sohs can read.")


def _is_english_only() -> bool:
    from sohs_cli.foundation.i18n import language

    return language() == "en"


class TranslatedUsageError(click.exceptions.UsageError):  # type: ignore[misc,name-defined,unused-ignore]
    """A usage error whose message is already in the run's language."""


def _translated(exc: Any) -> Any:
    if isinstance(exc, TranslatedUsageError) or type(exc).__name__ == "NoArgsIsHelpError":
        return exc  # already said; typer shows the help for a bare group itself
    new = TranslatedUsageError(usage_message(exc), ctx=getattr(exc, "ctx", None))
    new.exit_code = exc.exit_code
    return new


def localize_panels() -> None:
    """typer's help-panel words in this run's language (module constants typer reads as it draws)."""
    from typer import rich_utils

    for name, message in PANEL_TEXTS.items():
        _TYPER_DEFAULTS.setdefault(name, getattr(rich_utils, name))
        if _is_english_only():
            setattr(rich_utils, name, _TYPER_DEFAULTS[name])
        else:
            setattr(rich_utils, name, _(message))
    try_help = _("Try {command} for help.", command="[blue]'{command_path} {help_option}'[/]")
    _TYPER_DEFAULTS.setdefault("RICH_HELP", rich_utils.RICH_HELP)
    rich_utils.RICH_HELP = _TYPER_DEFAULTS["RICH_HELP"] if _is_english_only() else try_help


class _Localized:
    """What :class:`SohsCommand` and :class:`SohsGroup` share."""

    options_metavar: str | None  # click's Command's

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        localize_panels()
        self.options_metavar = _("[OPTIONS]")
        if hasattr(self, "subcommand_metavar"):
            self.subcommand_metavar = _("COMMAND [ARGS]...")
        pieces = self.collect_usage_pieces(ctx)  # type: ignore[attr-defined]
        formatter.write_usage(ctx.command_path, " ".join(pieces), prefix=_("Usage:") + " ")

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = _("Show this message and exit.")
        return option

    def get_params(self, ctx: Any) -> list[Any]:
        params: list[Any] = super().get_params(ctx)  # type: ignore[misc]
        english = _is_english_only()
        for param in params:
            if param.name in COMPLETION_HELP:
                param.help = _(COMPLETION_HELP[param.name])
            if english:
                continue
            original = param.__dict__.setdefault("_sohs_metavar", param.metavar)
            if original in PLACEHOLDERS:
                param.metavar = _(PLACEHOLDERS[original])
            elif original is None and param.param_type_name == "argument" and param.name in PLACEHOLDERS:
                param.metavar = _(PLACEHOLDERS[param.name]) + ("..." if param.nargs != 1 else "")
                if param.type.name in TYPE_PLACEHOLDERS:  # typer shows "<str>" beside: a copy, named
                    param.type = copy.copy(param.type)
                    param.type.name = _(TYPE_PLACEHOLDERS[param.type.name]).lower()
            elif original is None and not getattr(param, "is_flag", False) and param.type.name in TYPE_PLACEHOLDERS:
                param.metavar = _(TYPE_PLACEHOLDERS[param.type.name])
        return params

    def format_help(self, ctx: Any, formatter: Any) -> None:
        localize_panels()
        super().format_help(ctx, formatter)  # type: ignore[misc]


class SohsCommand(_Localized, TyperCommand):
    pass


class SohsGroup(_Localized, TyperGroup):
    """A group that says every usage error below it in the run's language."""

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.exceptions.UsageError as exc:
            localize_panels()
            raise _translated(exc) from None

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except click.exceptions.UsageError as exc:
            localize_panels()
            raise _translated(exc) from None


def adopt(app: typer.Typer) -> None:
    """Give every command of ``app``, and of the groups added to it, sohs's classes (a command that
    names a class of its own keeps it)."""
    if _plain(app.info.cls, TyperGroup):
        app.info.cls = SohsGroup
    for command in app.registered_commands:
        if _plain(command.cls, TyperCommand):
            command.cls = SohsCommand
    for group in app.registered_groups:
        if _plain(group.cls, TyperGroup):
            group.cls = SohsGroup
        if group.typer_instance is not None:
            adopt(group.typer_instance)


def _plain(cls: Any, default: type) -> bool:
    """``cls`` is typer's own default: unset, a placeholder for it, or the class itself."""
    from typer.models import DefaultPlaceholder

    return cls is None or cls is default or isinstance(cls, DefaultPlaceholder)
