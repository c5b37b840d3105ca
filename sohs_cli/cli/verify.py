"""``sohs verify``: check signatures the way the portal does (and stricter) before shipping."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

import typer

from sohs_cli.cli import output
from sohs_cli.cli.output import escape, say
from sohs_cli.foundation.i18n import N_, _

if TYPE_CHECKING:
    from sohs_cli.signing.trust import Trust
    from sohs_cli.signing.verification import VerifyReport


class Format(StrEnum):
    human = "human"
    json = "json"


def _print_report(report: VerifyReport, lang: str) -> None:
    from sohs_cli.foundation.i18n import pick

    ok, failed = _("OK"), _("FAIL")
    width = max(len(ok), len(failed))
    tag = f"[green]{escape(ok.ljust(width))}[/]" if report.valid else f"[red]{escape(failed.ljust(width))}[/]"
    if report.error:
        output.stdout.print(f"{tag} {escape(report.path)}: {escape(report.error)}")
        return
    output.stdout.print(f"{tag} {escape(report.path)} [dim]({report.kind})[/]")
    for s in report.signatures:
        mark = "[green]✓[/]" if s.ok else "[red]✗[/]"
        output.stdout.print(f"  {mark} {escape(s.slot)}: {escape(pick(lang, s.message_en, s.message_vi))}")
        if s.signer:
            i = s.signer
            signer = say("signer: {subject}; serial {serial}; {start} – {end} ({days} days left); chain {chain}",
                         subject=i.subject, serial=i.serial, start=f"{i.not_before:%Y-%m-%d}",
                         end=f"{i.not_after:%Y-%m-%d}", days=i.days_left,
                         chain=pick(lang, s.chain, s.chain_vi or s.chain))
            output.stdout.print(f"    [dim]{signer}[/]")


def _trust(ca_bundle: str | None, certs: list[str], integrity_only: bool) -> Trust:
    """Flags first, then the settings submit and run use (README "Trust"), else none."""
    from sohs_cli.signing.trust import Trust

    if ca_bundle:
        return Trust.of_ca_bundle(ca_bundle)
    if certs:
        return Trust.of_files(certs)
    if not integrity_only:
        from sohs_cli.foundation.config import resolve

        s = resolve()
        if s["verify.ca_bundle"]:
            return Trust.of_ca_bundle(s["verify.ca_bundle"])
        if s["verify.certificates"]:
            return Trust.of_files([s["verify.certificates"]], N_("registered certificates in {paths}"))
    return Trust.none(integrity_only=integrity_only)


def register(app: typer.Typer) -> None:
    @app.command(help=_("Verify digest, signature, signer and its trust (exit 0 good, 1 bad or untrusted, 3 bad "
                        "CA bundle). Every verdict names its trust source (--ca-bundle, --cert, or the settings "
                        "verify.ca_bundle / verify.certificates); with none it is \"integrity only\" and exits 1 "
                        "unless --integrity-only. Portal codes: 123 = not signed, 125 = changed after signing."))
    def verify(
        paths: list[str] = typer.Argument(..., help=_("Signed files, folders or glob patterns.")),
        ca_bundle: str | None = typer.Option(None, "--ca-bundle", metavar="FILE",
                                             help=_("PEM file of trusted CA certificates; no other trust is implied "
                                                    "(default: setting verify.ca_bundle).")),
        certs: list[str] = typer.Option([], "--cert", metavar="FILE",
                                        help=_("Trust exactly this signer certificate (PEM/DER; repeatable), e.g. "
                                               "those registered on the portal (default: verify.certificates).")),
        integrity_only: bool = typer.Option(False, "--integrity-only",
                                            help=_("Accept an intact signature by anyone's key (no trust source).")),
        as_json: bool = output.json_option(),
        fmt: Format = typer.Option(Format.human, "--format", "-f", help=_("Output format (--format json is --json).")),
        max_size: int = typer.Option(50, "--max-size", min=1, help=_("Largest accepted file, in MB.")),
        lang: str | None = output.lang_option(),
    ) -> None:

        def body() -> None:
            from sohs_cli.foundation.errors import ExitCode, InputError, UsageError
            from sohs_cli.foundation.fileio import read_file
            from sohs_cli.foundation.inputs import expand, nonempty
            from sohs_cli.foundation.xmlsafe import ParseLimits
            from sohs_cli.signing.verification import VerifyReport, verify_bytes

            language = output.language(lang)
            json_out = as_json or fmt == Format.json
            if integrity_only and (ca_bundle or certs):
                raise UsageError(_("--integrity-only cannot be combined with --ca-bundle or --cert"),
                                 hint=_("drop --integrity-only to check the signer, or the trust options"))
            trust = _trust(ca_bundle, certs, integrity_only)
            limits = ParseLimits(max_bytes=max_size * 1024 * 1024)
            reports: list[dict[str, object]] = []
            good = bad = 0
            for path in nonempty(expand(paths, output.skipped)):
                try:
                    report = verify_bytes(read_file(path, limits.max_bytes), path, trust=trust, limits=limits)
                except InputError as exc:
                    report = VerifyReport(path=path, error_code=exc.code, error=exc.message)
                good += report.valid
                bad += not report.valid
                if json_out:
                    reports.append(report.as_dict())
                else:
                    _print_report(report, language)
            if json_out:
                summary = {"files": good + bad, "valid": good, "invalid": bad}
                output.write_json("verify", {"files": reports, "summary": summary})
            else:
                colour = "red" if bad else "green"
                output.stdout.print(f"[{colour}]" + say("{count} file(s): {good} good, {bad} bad", count=good + bad,
                                                        good=good, bad=bad) + "[/]")
            if bad:
                raise SystemExit(int(ExitCode.FINDINGS))

        output.guarded(body)
