"""``sohs sign``: sign envelopes (and check-in files) exactly as the portal verifies them."""

from __future__ import annotations

from enum import StrEnum

import typer

from sohs_cli.cli import keys, output
from sohs_cli.cli.output import escape, say
from sohs_cli.foundation.i18n import _


class Role(StrEnum):
    facility = "facility"
    doctor = "doctor"


def register(app: typer.Typer) -> None:
    @app.command(help=_("Sign with the clinic's certificate: XML-DSig enveloped, RSA-SHA256, inside CHUKYDONVI. "
                        "Writes are atomic; the original is never touched on failure. Each file is reported as it "
                        "is signed (with a progress bar on a terminal). Exit 0 all signed, 1 a document could not "
                        "be signed, 3 key or certificate problem."))
    def sign(
        paths: list[str] = typer.Argument(..., help=_("Envelopes (GIAMDINHHS, KHAMSUCKHOE) or check-in files; "
                                                      "folders and globs too.")),
        p12: str | None = keys.p12_option(),
        key: str | None = keys.key_option(),
        cert: str | None = keys.cert_option(),
        chain: list[str] = typer.Option([], "--chain", help=_("Chain certificate(s) to include in KeyInfo.")),
        password_env: str = keys.password_env_option(),
        password_file: str | None = keys.password_file_option(),
        role: Role = typer.Option(Role.facility, "--as",
                                  help=_("Checkup envelopes: doctor signs CKS_NGUOI_KET_LUAN, facility "
                                         "CKS_BENH_VIEN.")),
        checkup_form: str | None = typer.Option(None, "--checkup-form", metavar="base64|xmldsig",
                                                help=_("Checkup signature form: base64 (CMS, as QĐ 2062's example; "
                                                       "default) or xmldsig (a Signature element); the facility "
                                                       "follows the doctor's.")),
        out: str | None = typer.Option(None, "--output", "-o", help=_("Signed file (one input).")),
        out_dir: str | None = typer.Option(None, "--out-dir", help=_("Write signed files into DIR.")),
        in_place: bool = typer.Option(False, "--in-place", help=_("Replace each input by its signed copy.")),
        no_validate: bool = typer.Option(False, "--no-validate", help=_("Sign even if validation fails.")),
        expiry_warning_days: int = typer.Option(30, "--expiry-warning-days", min=0,
                                                help=_("Warn when the certificate expires within N days.")),
        jobs: int = typer.Option(1, "--jobs", "-j", min=1, max=64, help=_("Sign in N processes.")),
        max_size: int = typer.Option(50, "--max-size", min=1, help=_("Largest accepted file, in MB.")),
        pkcs11_module: str | None = keys.pkcs11_module_option(),
        token_label: str | None = keys.token_label_option(),
        key_label: str | None = keys.key_label_option(),
        key_id: str | None = keys.key_id_option(),
        pin_env: str = keys.pin_env_option(),
    ) -> None:

        def body() -> None:
            from sohs_cli.foundation.errors import ExitCode
            from sohs_cli.foundation.inputs import expand, nonempty
            from sohs_cli.foundation.xmlsafe import ParseLimits
            from sohs_cli.signing.signbatch import SignOptions, plan_targets, sign_files

            pairs = plan_targets(list(nonempty(expand(paths, output.skipped))), output=out, out_dir=out_dir,
                                 in_place=in_place)
            signer, info = keys.load_signer(p12=p12, key=key, cert=cert, chain=chain, password_env=password_env,
                                            password_file=password_file, pkcs11_module=pkcs11_module,
                                            token_label=token_label, key_label=key_label, key_id=key_id,
                                            pin_env=pin_env)
            workers = 1 if pkcs11_module else jobs  # a token session cannot be shared with forked workers
            if info.days_left <= expiry_warning_days:
                output.stderr.print(f"[yellow]{say('warning:')}[/] " + say(
                    "certificate '{subject}' expires on {date} ({days} days left): renew it and register the new "
                    "one on the portal", subject=info.subject, date=f"{info.not_after:%Y-%m-%d}", days=info.days_left))
            if checkup_form not in (None, "base64", "xmldsig"):
                from sohs_cli.foundation.errors import UsageError

                raise UsageError(_("--checkup-form {form}: base64 or xmldsig", form=checkup_form))
            options = SignOptions(role=role.value, validate=not no_validate, checkup_form=checkup_form,
                                  limits=ParseLimits(max_bytes=max_size * 1024 * 1024))
            worst = ExitCode.OK
            signed = failed = 0
            # each file is reported as it is signed (in input order), not after the whole batch
            with output.progress(len(pairs), _("signing")) as console:
                try:
                    for outcome in sign_files(pairs, signer, options, jobs=workers):
                        if outcome.ok:
                            signed += 1
                            console.print(say("signed {source} -> {target}", source=outcome.source,
                                              target=outcome.target))
                            if outcome.note:
                                console.print(f"  [dim]{escape(outcome.note)}[/]")
                        else:
                            failed += 1
                            worst = max(worst, outcome.exit_code)
                            console.print(f"[red]{say('FAIL')}[/] {escape(outcome.source)}: {escape(outcome.message)}")
                            if outcome.hint:
                                console.print(f"  [dim]{say('hint:')} {escape(outcome.hint)}[/]")
                        console.advance()
                finally:
                    if hasattr(signer, "close"):
                        signer.close()  # a token session ends with the batch
            colour = "red" if failed else "green"
            output.stdout.print(f"[{colour}]" + say("{signed} signed, {failed} not signed", signed=signed,
                                                    failed=failed) + "[/]")
            if worst != ExitCode.OK:
                raise SystemExit(int(worst))

        output.guarded(body)
