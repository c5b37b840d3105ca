"""``sohs sign``: sign envelopes (and check-in files) exactly as the portal verifies them."""

from __future__ import annotations

from enum import StrEnum

import typer

from sohs_cli.cli import keys, output
from sohs_cli.cli.output import escape


class Role(StrEnum):
    facility = "facility"
    doctor = "doctor"


def register(app: typer.Typer) -> None:
    @app.command()
    def sign(
        paths: list[str] = typer.Argument(..., help="Envelopes (GIAMDINHHS, KHAMSUCKHOE) or check-in files; "
                                                    "folders and globs too."),
        p12: str | None = keys.p12_option(),
        key: str | None = keys.key_option(),
        cert: str | None = keys.cert_option(),
        chain: list[str] = typer.Option([], "--chain", help="Chain certificate(s) to include in KeyInfo."),
        password_env: str = keys.password_env_option(),
        password_file: str | None = keys.password_file_option(),
        role: Role = typer.Option(Role.facility, "--as",
                                  help="Checkup envelopes: doctor signs CKS_NGUOI_KET_LUAN, facility CKS_BENH_VIEN."),
        checkup_form: str | None = typer.Option(None, "--checkup-form", metavar="base64|xmldsig",
                                                help="Checkup signature form: base64 (CMS, as QĐ 2062's example; "
                                                     "default) or xmldsig (a Signature element); the facility "
                                                     "follows the doctor's."),
        out: str | None = typer.Option(None, "--output", "-o", help="Signed file (one input)."),
        out_dir: str | None = typer.Option(None, "--out-dir", help="Write signed files into DIR."),
        in_place: bool = typer.Option(False, "--in-place", help="Replace each input by its signed copy."),
        no_validate: bool = typer.Option(False, "--no-validate", help="Sign even if validation fails."),
        expiry_warning_days: int = typer.Option(30, "--expiry-warning-days", min=0,
                                                help="Warn when the certificate expires within N days."),
        jobs: int = typer.Option(1, "--jobs", "-j", min=1, max=64, help="Sign in N processes."),
        max_size: int = typer.Option(50, "--max-size", min=1, help="Largest accepted file, in MB."),
        pkcs11_module: str | None = keys.pkcs11_module_option(),
        token_label: str | None = keys.token_label_option(),
        key_label: str | None = keys.key_label_option(),
        key_id: str | None = keys.key_id_option(),
        pin_env: str = keys.pin_env_option(),
    ) -> None:
        """Sign with the clinic's certificate: XML-DSig enveloped, RSA-SHA256, inside CHUKYDONVI.

        Ký số hồ sơ XML bằng chứng thư số của cơ sở. Writes are atomic; the original is never
        touched on failure. Exit 0 all signed, 1 a document could not be signed, 3 key or certificate problem.
        """

        def body() -> None:
            from sohs_cli.errors import ExitCode
            from sohs_cli.inputs import expand
            from sohs_cli.signbatch import SignOptions, plan_targets, sign_files
            from sohs_cli.xmlsafe import ParseLimits

            pairs = plan_targets(list(expand(paths, output.skipped)), output=out, out_dir=out_dir, in_place=in_place)
            signer, info = keys.load_signer(p12=p12, key=key, cert=cert, chain=chain, password_env=password_env,
                                            password_file=password_file, pkcs11_module=pkcs11_module,
                                            token_label=token_label, key_label=key_label, key_id=key_id,
                                            pin_env=pin_env)
            workers = 1 if pkcs11_module else jobs  # a token session cannot be shared with forked workers
            if info.days_left <= expiry_warning_days:
                output.stderr.print(
                    f"[yellow]warning:[/] certificate '{escape(info.subject)}' expires on "
                    f"{info.not_after:%Y-%m-%d} ({info.days_left} days left; chứng thư số sắp hết hạn): "
                    "renew it and register the new one on the portal")
            if checkup_form not in (None, "base64", "xmldsig"):
                from sohs_cli.errors import UsageError

                raise UsageError(f"--checkup-form {checkup_form}: base64 or xmldsig")
            options = SignOptions(role=role.value, validate=not no_validate, checkup_form=checkup_form,
                                  limits=ParseLimits(max_bytes=max_size * 1024 * 1024))
            worst = ExitCode.OK
            signed = failed = 0
            try:
                outcomes = list(sign_files(pairs, signer, options, jobs=workers))
            finally:
                if hasattr(signer, "close"):
                    signer.close()  # a token session ends with the batch
            for outcome in outcomes:
                if outcome.ok:
                    signed += 1
                    output.stdout.print(f"{output.t('signed', 'đã ký')} {escape(outcome.source)} -> "
                                        f"{escape(outcome.target)}")
                    if outcome.note:
                        output.stdout.print(f"  [dim]{escape(outcome.note)}[/]")
                    continue
                failed += 1
                worst = max(worst, outcome.exit_code)
                output.stdout.print(f"[red]{output.t('FAIL', 'LỖI')}[/] {escape(outcome.source)}: "
                                    f"{escape(outcome.message)}")
                if outcome.hint:
                    output.stdout.print(f"  [dim]{output.t('hint', 'gợi ý')}: {escape(outcome.hint)}[/]")
            colour = "red" if failed else "green"
            output.stdout.print(f"[{colour}]{signed} signed, {failed} not signed (đã ký {signed}, lỗi {failed})[/]")
            if worst != ExitCode.OK:
                raise SystemExit(int(worst))

        output.guarded(body)
