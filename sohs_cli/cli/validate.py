"""``sohs validate``: prove exports valid before the portal sees them.

The command as typer declares it (its options, help and usage errors); its body and report writers
are in :mod:`sohs_cli.cli.validating`, which ``sohs validate`` also reaches without typer when its
command line is one :func:`~sohs_cli.cli.validate_args.parse_quick` reads for certain (start-up).
"""

from __future__ import annotations

import typer

from sohs_cli.cli import output
from sohs_cli.cli.validate_args import Format, Standard, ValidateArgs
from sohs_cli.cli.validating import run
from sohs_cli.foundation.i18n import _


def register(app: typer.Typer) -> None:
    @app.command(help=_("Validate XML against the official schemas and business rules (exit 0 valid, 1 "
                        "invalid)."))
    def validate(
        paths: list[str] = typer.Argument(None, help=_("Files, folders (recursive), glob patterns, or - for "
                                                       "stdin.")),
        from_list: str | None = typer.Option(None, "--from-list", help=_("Read more paths from FILE, one a line.")),
        standard: Standard = typer.Option(Standard.auto, "--standard",
                                          help=_("Table version; auto: by the episode's NGAY_RA (3176 from "
                                                 "2025-01-01).")),
        no_rules: bool = typer.Option(False, "--no-rules", help=_("XSD only; skip the business rules.")),
        strict: bool = typer.Option(False, "--strict",
                                    help=_("Warnings count as errors (exit 1): departures from the decision the "
                                    "portal tolerates.")),
        fmt: Format = typer.Option(Format.human, "--format", "-f", help=_("Output format.")),
        out: str | None = typer.Option(None, "--output", "-o", help=_("Write the report to FILE, not stdout.")),
        jobs: str = typer.Option("auto", "--jobs", "-j", metavar="N|auto",
                                 help=_("Validate in N processes (1-64); auto: one per CPU from 256 files, one "
                                 "process below that.")),
        max_size: int = typer.Option(50, "--max-size", min=1, help=_("Largest accepted file, in MB.")),
        max_findings: int = typer.Option(1000, "--max-findings", min=0, metavar="N",
                                         help=_("List at most N findings per file, count the rest, stop checking "
                                              "there (0: no cap).")),
        lang: str | None = output.lang_option(),
        as_json: bool = typer.Option(False, "--json", help=_("The report as JSON: the same as --format json.")),
        quiet: bool = typer.Option(False, "--quiet", "-q", help=_("Only the files that fail and the summary (as "
                                                                  "xmllint --noout).")),
        errors_only: bool = typer.Option(False, "--errors-only", help=_("Leave out warnings (with --strict they "
                                                                        "are errors, and stay).")),
        skip_unknown: bool = typer.Option(False, "--skip-unknown", help=_("Skip an XML that is no health record "
                                                                          "(a vendor's pom.xml) instead of failing "
                                                                          "it; the summary counts them.")),
        split_valid: str | None = typer.Option(None, "--split-valid", metavar="DIR",
                                               help=_("Split each partly invalid GIAMDINHHS into DIR: its valid "
                                               "episodes as NAME.valid.xml, the invalid ones as NAME.invalid.xml "
                                               "with their errors.")),
        list_rules: bool = typer.Option(False, "--list-rules",
                                        help=_("Print the business rules and the portal sheet's rules, and exit.")),
        catalogue: str | None = typer.Option(None, "--catalogue", metavar="DIR",
                                             help=_("National catalogues, one CSV per catalogue (ICD10.csv, "
                                             "MA_THUOC.csv, MA_DICH_VU.csv, MA_VAT_TU.csv, MA_CSKCB.csv, "
                                             "MA_KHOA.csv, MA_DOITUONG_KCB.csv; a 'code' column): check codes, "
                                             "not only their form.")),
    ) -> None:
        output.guarded(lambda: run(ValidateArgs(
            paths=paths, from_list=from_list, standard=standard, no_rules=no_rules, strict=strict, fmt=fmt, out=out,
            jobs=jobs, max_size=max_size, max_findings=max_findings, lang=lang, as_json=as_json, quiet=quiet,
            errors_only=errors_only, skip_unknown=skip_unknown, split_valid=split_valid, list_rules=list_rules,
            catalogue=catalogue)))
