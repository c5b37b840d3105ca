"""Consoles and the one error boundary that turns a SohsError into a line and an exit code."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from sohs_cli.foundation.errors import ExitCode, SohsError

if TYPE_CHECKING:
    from rich.console import Console

T = TypeVar("T")

# ``stdout`` and ``stderr`` are rich consoles made on first use (module ``__getattr__``): importing
# rich costs more than validating a few hundred files, and `validate --format json` never needs it.
_CONSOLES: dict[str, Console] = {}


def __getattr__(name: str) -> Console:
    if name not in ("stdout", "stderr"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return _console(name)


def _console(name: str) -> Console:
    console = _CONSOLES.get(name)
    if console is None:
        from rich.console import Console

        # emoji=False: rich would read ":ab:" in a certificate fingerprint as an emoji code, and no
        # markup escape prevents it (issue 17); sohs never prints emoji codes on purpose
        console = _CONSOLES[name] = Console(stderr=name == "stderr", highlight=False, soft_wrap=True, emoji=False)
    return console


#: C0 controls (newline too: data is one line), DEL, C1 controls and the bidirectional overrides
#: (CVE-2021-42574): shown as ``\x1b`` / ``\u202e``, never sent to a terminal raw (issue 15: a
#: file name with an escape sequence could repaint the screen or fake a PASS line)
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))} | {
    c: f"\\u{c:04x}" for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)}


LONGEST = 1000  # characters of one piece of data on a terminal line


def printable(text: str) -> str:
    """``text`` with every control character written out (``\x1b``), and at most ``LONGEST``
    characters of it (the middle of a longer one is elided, its length said): safe on any
    terminal, one line however hostile the data (a 60 KB element name, a 5,000-digit value)."""
    if len(text) > LONGEST:
        cut = len(text) - LONGEST
        text = f"{text[:LONGEST // 2]}…[{cut:,} characters]…{text[-LONGEST // 2:]}"
    return text.translate(_CONTROLS)


def escape(text: str) -> str:
    """Data shown literally by a rich console: ``[red]`` in a path is not markup, and a control
    character (an escape sequence, a newline) is written out, not obeyed (:func:`printable`)."""
    from rich.markup import escape as rich_escape

    return rich_escape(printable(text))


def skipped(path: str, reason: str) -> None:
    """One line on stderr for an entry of an input folder that is not read (inputs.expand)."""
    from sohs_cli.foundation.i18n import _

    _console("stderr").print(f"[yellow]{escape(_('skipped'))}[/] {escape(path)}: {escape(_(reason))}")


DEBUG = {"on": False}


def language(flag: str | None = None) -> str:
    """The language of this run; a command's own ``--lang`` sets it (a usage error unless vi or en)."""
    from sohs_cli.foundation import i18n

    if flag:
        i18n.set_language(i18n.resolve_lang(flag))
    return i18n.language()


def t(en: str, vi: str) -> str:
    """Deprecated inline pair (issue 17): use ``sohs_cli.foundation.i18n._`` with the English text and the catalog."""
    return vi if language() == "vi" else en


def say(message: str, /, **fields: object) -> str:
    """``message`` from the catalog, in this run's language, escaped for rich: the text and its fields
    (data such as ``:ab:`` in a fingerprint or ``[red]`` in a path) are shown as they are. Style it
    around the result: ``f"[green]{say('signed {path}', path=p)}[/]"``; never markup inside a message."""
    from sohs_cli.foundation.i18n import _

    return escape(_(message, **fields))


#: The version of each ``--json`` output's shape, written in its ``schema`` field (``sohs.doctor/1``) and
#: described by ``sohs_cli/schemas/<command>-<version>.schema.json``. A change that can break a script
#: (a field removed, renamed or retyped) is a new version; adding a field is not.
JSON_SCHEMAS = {"doctor": 1, "validate": 1, "verify": 1, "status": 1, "config": 1, "cert": 1, "cert-token": 1,
                "run": 1}


def json_option() -> Any:
    """``--json``: the one spelling of machine-readable output (``--format json`` is its alias where a
    command has other formats)."""
    import typer

    from sohs_cli.foundation.i18n import _

    return typer.Option(False, "--json", help=_("Print JSON (its schema field names the shape; see schemas/ in "
                                                "the package)."))


def lang_option() -> Any:
    """A command's own ``--lang`` (the same as ``sohs --lang``)."""
    import typer

    from sohs_cli.foundation.i18n import _

    # not envvar=SOHS_LANG: the variable would then beat `sohs --lang` (the flag comes first)
    return typer.Option(None, "--lang", metavar="vi|en",
                        help=_("Language of every message: vi or en (default: $SOHS_LANG, lang in sohs.toml, then "
                               "the locale)."))


def with_schema(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"schema": f"sohs.{kind}/{JSON_SCHEMAS[kind]}", **data}


def write_json(kind: str, data: dict[str, Any], out: str | None = None) -> None:
    """``data`` as JSON with its ``schema`` field first, to stdout or ``out``."""
    import json

    write_output(json.dumps(with_schema(kind, data), ensure_ascii=False, indent=1), out)


class Lines:
    """Where a batch command prints its lines while it runs: above a progress bar on a terminal."""

    def __init__(self, console: Console, bar: Any = None, task: Any = None) -> None:
        self.console, self.bar, self.task = console, bar, task

    def print(self, text: str) -> None:
        self.console.print(text)

    def advance(self) -> None:
        if self.bar is not None:
            self.bar.advance(self.task)


@contextlib.contextmanager
def progress(total: int, what: str) -> Iterator[Lines]:
    """A rich progress bar on stdout while ``total`` items are worked on, only when stdout is a
    terminal and there are several items (never in cron, CI or a pipe: there, plain lines only)."""
    console = _console("stdout")
    if total < 2 or not console.is_terminal:
        yield Lines(console)
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console, transient=True) as bar:
        yield Lines(bar.console, bar, bar.add_task(escape(what), total=total))


def fail(exc: SohsError) -> NoReturn:
    from sohs_cli.foundation.i18n import _

    _console("stderr").print(f"[bold red]{escape(_('error:'))}[/] {escape(exc.message)}")
    if exc.hint:
        _console("stderr").print(f"[dim]{escape(_('hint:'))} {escape(exc.hint)}[/]")
    raise SystemExit(int(exc.exit_code))


def guarded(fn: Callable[[], T]) -> T:
    """Run a command body: expected failures -> message + exit code; bugs -> 70 (trace with --debug)."""
    try:
        return fn()
    except SohsError as exc:
        fail(exc)
    except KeyboardInterrupt:
        from sohs_cli.foundation.i18n import _

        _console("stderr").print(escape(_("interrupted")))
        raise SystemExit(int(ExitCode.INTERRUPTED)) from None
    except (SystemExit, BrokenPipeError):
        raise
    except Exception as exc:  # a bug: say so, never a bare traceback unless asked
        if DEBUG["on"]:
            import traceback  # here: every run imports this module, a bug's run only needs it

            traceback.print_exc()
        from sohs_cli.foundation.i18n import _

        _console("stderr").print(f"[bold red]{escape(_('internal error:'))}[/] {escape(type(exc).__name__)}: "
                                 f"{escape(str(exc))}")
        report = _("this is a bug in sohs; please report it with the output of --debug")
        _console("stderr").print(f"[dim]{escape(report)}[/]")
        raise SystemExit(int(ExitCode.INTERNAL)) from None


def write_output(text: str | bytes, output: str | None) -> None:
    """Results go to stdout, or to --output FILE (written atomically)."""
    if output is None:
        if isinstance(text, bytes):
            sys.stdout.buffer.write(text)
        else:
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()
        return
    from sohs_cli.foundation.fileio import atomic_write

    # setup: an output the user named that cannot be written is exit 3, never 1 "findings" (issue 17)
    atomic_write(output, text.encode("utf-8") if isinstance(text, str) else text, setup=True)
