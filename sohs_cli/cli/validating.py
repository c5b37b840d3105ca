"""``sohs validate`` without typer: its report writers and the command's body (:func:`run`).

The command is declared with typer in :mod:`sohs_cli.cli.validate` (help, completion, usage errors);
its command line, read by typer or, without it, by :func:`sohs_cli.cli.validate_args.parse_quick`,
is a :class:`~sohs_cli.cli.validate_args.ValidateArgs`, which :func:`run` takes.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

from sohs_cli.cli import output
from sohs_cli.cli.output import escape, printable
from sohs_cli.cli.validate_args import Format, ValidateArgs
from sohs_cli.foundation.i18n import N_, _, translate

if TYPE_CHECKING:
    from sohs_cli.validation.report import FileReport


class _Terminal:
    """``--format human`` on stdout: one PASS/FAIL line per file, its findings, then a summary.

    Lines are coloured by rendering rich ``Style``s to ANSI codes (about 1 µs a line) rather than by
    ``Console.print`` (about 80 µs a line: 5,000 files took 1.2 s longer than as JSON). The console
    still decides whether there is colour at all (a terminal, ``NO_COLOR``, ``FORCE_COLOR``); text is
    never parsed as markup, so a path with ``[red]`` in it is printed as it is.
    """

    def __init__(self, lang: str, quiet: bool = False) -> None:
        from rich.console import COLOR_SYSTEMS
        from rich.style import Style

        console = output.stdout
        system = None if console.legacy_windows else COLOR_SYSTEMS.get(console.color_system or "")
        self.out, self.lang = console.file, lang
        self.count = self.valid = self.skipped = 0
        self.quiet = quiet

        def paint(style: str) -> Callable[[str], str]:
            parsed = Style.parse(style)
            return (lambda text: parsed.render(text, color_system=system)) if system else (lambda text: text)

        self.green, self.red, self.yellow, self.dim = (paint(s) for s in ("green", "red", "yellow", "dim"))
        # looked up once: 5,000 files print these 5,000 times
        self.passed, self.failed = self.green(translate(lang, "PASS")), self.red(translate(lang, "FAIL"))
        self.hint_word, self.standard_word = translate(lang, "hint:"), translate(lang, "standard")

    def add(self, report: FileReport) -> None:
        if self.quiet and report.valid:  # --quiet: failures and the summary only (xmllint --noout)
            self.count += 1
            self.valid += 1
            return
        lang = self.lang
        std = f", {self.standard_word} {report.standard}" if report.standard else ""
        if report.kind in ("GIAMDINHHS", "KHAMSUCKHOE"):  # an envelope: how many of its tables were checked
            std += ", " + translate(lang, "{n} table(s) checked", n=f"{report.documents:,}")
        # data (names, values in messages) with control characters written out: printable()
        line = [self.passed if report.valid else self.failed, " ", printable(report.path), " ",
                self.dim(f"({translate(lang, 'unknown kind') if report.kind == 'unknown' else report.kind}{std})")]
        errors = sum(f.severity == "error" for f in report.findings)
        warnings = len(report.findings) - errors
        if errors:
            line.append(" " + translate(lang, "{n} error(s)", n=errors))
        if warnings:
            line.append(" " + translate(lang, "{n} warning(s)", n=warnings))
        line.append("\n")
        for f in report.findings:
            mark = self.red("✗") if f.severity == "error" else self.yellow("!")
            line += ["  ", mark, " ", self.dim(f.code), " ", printable(f.message(lang)), "\n"]
            if f.hint:
                line += ["    ", self.dim(f"{self.hint_word} {printable(f.hint_in(lang))}"), "\n"]
        if report.cap_note():
            line += ["  ", self.yellow(report.cap_note(lang)), "\n"]
        self.out.write("".join(line))
        self.count += 1
        self.valid += report.valid

    def close(self) -> None:
        paint = self.red if self.count - self.valid else self.green
        self.out.write(paint(summary(self.lang, self.count, self.valid, self.skipped)) + "\n")
        self.out.flush()


def summary(lang: str, count: int, valid: int, skipped: int = 0) -> str:
    if skipped:
        return translate(lang, "{count} file(s): {valid} valid, {invalid} invalid; {skipped} skipped (not health "
                         "records)", count=count, valid=valid, invalid=count - valid, skipped=skipped)
    return translate(lang, "{count} file(s): {valid} valid, {invalid} invalid", count=count, valid=valid,
                     invalid=count - valid)


class _PlainText:
    """``--format human -o FILE``: the human report without colours."""

    def __init__(self, out: TextIO, lang: str, quiet: bool = False) -> None:
        self.out, self.lang, self.quiet = out, lang, quiet
        self.count = self.valid = self.skipped = 0

    def add(self, rep: FileReport) -> None:
        if self.quiet and rep.valid:
            self.count += 1
            self.valid += 1
            return
        lang = self.lang
        self.out.write(f"{translate(lang, 'PASS') if rep.valid else translate(lang, 'FAIL')} {printable(rep.path)} "
                       f"({rep.kind})\n")
        for f in rep.findings:
            self.out.write(f"  {translate(lang, SEVERITY[f.severity])} {f.code} {printable(f.message(lang))}\n")
            if f.hint:
                self.out.write(f"    {translate(lang, 'hint:')} {printable(f.hint_in(lang))}\n")
        if rep.cap_note():
            self.out.write(f"  {rep.cap_note(lang)}\n")
        self.count += 1
        self.valid += rep.valid

    def close(self) -> None:
        self.out.write(summary(self.lang, self.count, self.valid, self.skipped) + "\n")


SEVERITY = {"error": N_("error"), "warning": N_("warning")}


@contextlib.contextmanager
def _sink(out: str | None) -> Iterator[BinaryIO]:
    if out is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    from sohs_cli.foundation.fileio import atomic_writer

    with atomic_writer(out, setup=True) as fh:  # unwritable: exit 3 (issue 17), not 1 "findings"
        yield fh


def _writer(fmt: Format, binary: BinaryIO, lang: str, quiet: bool = False) -> Any:
    if fmt == Format.junit:
        from sohs_cli.validation.reporting.junit import JUnitWriter

        return JUnitWriter(binary, lang)
    text = _Text(binary)
    if fmt == Format.json:
        from sohs_cli.validation.reporting.json_report import JsonWriter

        return _Closing(JsonWriter(text, lang, schema=output.with_schema("validate", {})["schema"]), text)
    if fmt == Format.sarif:
        from sohs_cli.validation.reporting.sarif import SarifWriter

        return _Closing(SarifWriter(text, lang), text)
    return _Closing(_PlainText(text, lang, quiet), text)


def _not_a_record(report: FileReport) -> bool:
    """An XML that is no health record at all (a vendor's pom.xml): its one finding says so."""
    return len(report.findings) == 1 and report.findings[0].code == "unknown-document"


class _Selected:
    """The reports to write: ``--skip-unknown`` leaves out XML that is no health record (counted as
    skipped); ``--errors-only`` drops warnings (unless ``--strict`` made them errors); on a terminal,
    while the report goes elsewhere, a progress line on stderr counts the files."""

    def __init__(self, reports: Iterator[FileReport], *, skip_unknown: bool, errors_only: bool) -> None:
        self.reports, self.skip_unknown, self.errors_only = reports, skip_unknown, errors_only
        self.skipped = 0

    def __iter__(self) -> Iterator[FileReport]:
        for rep in self.reports:
            if self.skip_unknown and _not_a_record(rep):
                self.skipped += 1
                continue
            if self.errors_only and rep.warnings:
                rep.findings = [f for f in rep.findings if f.severity == "error"]
            yield rep


def _with_progress(reports: Iterator[FileReport], show: bool) -> Iterator[FileReport]:
    """A rich progress line on stderr (files done, rate, time) while a long run's report goes to a file
    or a pipe; only on a terminal (never in cron or CI), and only the count: the total is not known
    until the folders are walked, which is lazy."""
    if not show:
        yield from reports
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description} {task.completed}"), TimeElapsedColumn(),
                  console=output.stderr, transient=True) as bar:
        task = bar.add_task(escape(translate(output.language(), "validated")), total=None)
        for rep in reports:
            yield rep
            bar.advance(task)


class _Text(io.TextIOWrapper):
    """UTF-8 text over a binary sink that it does not close (flushed by ``close``)."""

    def __init__(self, binary: BinaryIO) -> None:
        super().__init__(binary, encoding="utf-8", newline="\n")

    def close(self) -> None:
        self.flush()
        self.detach()


class _Closing:
    """A writer whose text layer is flushed and let go of when the writer closes."""

    def __init__(self, writer: Any, text: _Text) -> None:
        self.writer, self.text = writer, text

    def add(self, rep: FileReport) -> None:
        self.writer.add(rep)

    def close(self) -> None:
        self.writer.close()
        self.text.close()

    @property
    def count(self) -> int:
        return int(self.writer.count)

    @property
    def valid(self) -> int:
        return int(self.writer.valid)

    @property
    def skipped(self) -> int:
        return int(getattr(self.writer, "skipped", 0))

    @skipped.setter
    def skipped(self, value: int) -> None:
        self.writer.skipped = value


def _status_text(rule: Any, lang: str) -> str:
    """How sohs checks one rule of the portal sheet, in words."""
    if rule.status == "catalogue":
        return translate(lang, "catalogue: not checked offline (form only; --catalogue DIR checks it)")
    if rule.status == "schema":
        from sohs_cli.validation.catalogues import covering

        cat = covering(rule.table, rule.element)
        if cat is not None and cat.rule_id:  # the sheet's "Như 4210": QĐ 4210 checked the code's catalogue
            return translate(lang, "checked by the schema; catalogue: not checked offline (--catalogue DIR "
                             "with {file}.csv checks it: {rule})", file=cat.file, rule=cat.rule_id)
        return translate(lang, "checked by the schema")
    if rule.status == "not published":
        return translate(lang, "not published by the sheet: not checked")
    if rule.implemented_by != rule.id:
        return translate(lang, "checked as {rule}", rule=rule.implemented_by)
    return translate(lang, "checked")


def _split_each(reports: Iterator[FileReport], folder: str, options: Any, lang: str) -> Iterator[FileReport]:
    """``--split-valid DIR``: each partly invalid envelope split as it is reported (one line each, on
    stderr: stdout holds the report)."""
    from sohs_cli.validation.splitting import split_to_folder

    for rep in reports:
        if rep.kind == "GIAMDINHHS" and not rep.valid and rep.path != "<stdin>":
            done = split_to_folder(rep.path, rep, folder, options.limits)
            if done is not None:
                n_ok, n_bad = len(done.split.valid_episodes), len(done.split.invalid_episodes)
                output.stderr.print(escape(translate(
                    lang, "split {file}: {valid} valid episode(s) -> {valid_part}, {invalid} invalid -> {invalid_part}",
                    file=rep.path, valid=n_ok, valid_part=done.valid, invalid=n_bad, invalid_part=done.invalid)))
        yield rep


def _jobs(value: str) -> int:
    """``--jobs``: a number of processes, or 0 for auto."""
    if value == "auto":
        return 0
    if value.isdigit() and 1 <= int(value) <= 64:
        return int(value)
    from sohs_cli.foundation.errors import UsageError
    from sohs_cli.foundation.i18n import _

    raise UsageError(_("--jobs {value}: give auto or a number from 1 to 64", value=value))




def run(args: ValidateArgs) -> None:
    """The command's body (inside :func:`sohs_cli.cli.output.guarded`): exit 1 when a file is invalid."""
    from sohs_cli.foundation.errors import ExitCode, UsageError
    from sohs_cli.foundation.inputs import expand, nonempty, read_list
    from sohs_cli.foundation.xmlsafe import ParseLimits
    from sohs_cli.validation.engine import ValidateOptions, validate_many

    language = output.language(args.lang)
    workers = _jobs(args.jobs)
    if args.list_rules:
        from sohs_cli.validation.portal_rules import portal_rules
        from sohs_cli.validation.rules import with_checkup_rules

        sheet = {p.id for p in portal_rules()}
        listed: set[str] = set()
        for r in with_checkup_rules():
            if r.id in listed or r.id in sheet:  # one rule per table (length-over-decision); sheet below
                continue
            listed.add(r.id)
            title = r.title_vi if language == "vi" else r.title_en
            output.stdout.print(f"{r.id:34} {escape(translate(language, SEVERITY[r.severity])):8} "
                                f"{escape(title)}")
        from sohs_cli.validation.checkup import CHECKS

        for heading, checkup in ((N_("Checks of a checkup record (QĐ 2062), with their source:"), True),
                                 (N_("Checks of every document (structure, schema, reading), with their "
                                     "source:"), False)):
            output.stdout.print("\n" + escape(translate(language, heading)))
            for c in CHECKS:
                if c.checkup == checkup:
                    title = c.title_vi if language == "vi" else c.title_en
                    output.stdout.print(f"{c.id:34} {escape(translate(language, SEVERITY[c.severity])):8} "
                                        f"{escape(title)} · {escape(c.source)}")
        output.stdout.print("\n" + escape(translate(language, "The portal's rules sheet (portal_rules.csv):")))
        for p in portal_rules():
            output.stdout.print(f"{p.id:50} {escape(_status_text(p, language))} · "
                                f"{escape(p.rule_en if language == 'en' else p.rule_vi)} · {escape(p.source)}")
        return
    sources = list(args.paths or [])
    if args.from_list:
        sources += read_list(args.from_list)
    if not sources:
        raise UsageError(_("no file to validate"), hint=_("give files, folders or patterns, or - for stdin"))
    if "-" in sources:
        workers = 1  # standard input belongs to this process, not to the workers
    walk = nonempty(expand(sources, output.skipped))  # lazy: 100,000 paths are never held at once
    files = itertools.chain([next(walk)], walk)  # no file at all: the usage error before any output
    catalogues = None
    if args.catalogue is not None:
        from sohs_cli.validation.catalogues import load

        catalogues = load(args.catalogue)
    options = ValidateOptions(standard=args.standard.value, rules=not args.no_rules, strict=args.strict,
                              catalogues=catalogues, limits=ParseLimits(max_bytes=args.max_size * 1024 * 1024),
                              max_findings=args.max_findings)
    # closed on the way out, whatever happens (Ctrl-C while a report is written): its worker
    # processes end with it
    form = Format.json if args.as_json else args.fmt
    with contextlib.closing(validate_many(files, options, jobs=workers)) as stream:
        checked = stream if args.split_valid is None else _split_each(stream, args.split_valid, options, language)
        selected = _Selected(checked, skip_unknown=args.skip_unknown,
                             errors_only=args.errors_only and not args.strict)
        # the report goes elsewhere than the terminal, which is free to show the run's progress
        # (sys.stderr.isatty first: rich is imported only when there is a terminal to draw on)
        busy = sys.stderr.isatty() and (args.out is not None or not sys.stdout.isatty())
        reports = _with_progress(iter(selected), busy)
        if form == Format.human and args.out is None:
            terminal = _Terminal(language, args.quiet)
            for rep in reports:
                terminal.add(rep)
            terminal.skipped = selected.skipped
            terminal.close()
            invalid = terminal.count - terminal.valid
        else:  # streamed, file by file, to stdout or atomically to --output: memory stays flat
            with _sink(args.out) as binary:
                writer = _writer(form, binary, language, args.quiet)
                for rep in reports:
                    writer.add(rep)
                writer.skipped = selected.skipped
                writer.close()
            invalid = writer.count - writer.valid
    if invalid:
        raise SystemExit(int(ExitCode.FINDINGS))
