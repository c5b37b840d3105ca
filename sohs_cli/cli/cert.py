"""``sohs cert show`` / ``sohs cert make-test``: look at certificates, make a TEST PKI for demos."""

from __future__ import annotations

import json

import typer

from sohs_cli.cli import keys, output
from sohs_cli.cli.output import escape


def register(app: typer.Typer) -> None:
    cert_app = typer.Typer(help="Certificates: show one, or make a TEST CA and certificates. / Chứng thư số.",
                           no_args_is_help=True)
    app.add_typer(cert_app, name="cert")

    @cert_app.command("show")
    def show(
        path: str | None = typer.Argument(None, help="PEM, DER or PKCS#12 (.p12/.pfx) file."),
        password_env: str = keys.password_env_option(),
        password_file: str | None = keys.password_file_option(),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
        pkcs11_module: str | None = keys.pkcs11_module_option(),
        token_label: str | None = keys.token_label_option(),
        pin_env: str = keys.pin_env_option(),
    ) -> None:
        """Subject, issuer, validity, days left, key usage and SHA-256 fingerprint of each certificate;
        with --pkcs11-module, the keys and certificates on the token.

        Xem thông tin chứng thư số (tệp hoặc token).
        """

        def body() -> None:
            if pkcs11_module:
                _show_token(pkcs11_module, token_label, pin_env, as_json)
                return
            if not path:
                from sohs_cli.errors import UsageError

                raise UsageError("give a certificate file, or --pkcs11-module to look at a token")
            from sohs_cli.certs import describe, load_certificates, load_key_material, looks_like_pkcs12
            from sohs_cli.fileio import read_file

            data = read_file(path)
            if looks_like_pkcs12(data):
                km = load_key_material(p12=path, password=keys.secret_source("certificate password", password_env,
                                                                             password_file))
                certs = [km.cert, *km.chain]
            else:
                certs = load_certificates(data, path)
            infos = [describe(c) for c in certs]
            if as_json:
                output.write_output(json.dumps([i.as_dict() for i in infos], ensure_ascii=False, indent=1), None)
                return
            for n, i in enumerate(infos):
                state = "[red]EXPIRED[/]" if i.days_left < 0 else f"{i.days_left} days left"
                output.stdout.print(f"[bold]{'certificate' if n == 0 else 'chain'}[/] {escape(i.subject)}")
                output.stdout.print(f"  issuer      {escape(i.issuer)}")
                output.stdout.print(f"  serial      {i.serial}")
                output.stdout.print(f"  valid       {i.not_before:%Y-%m-%d %H:%M} – {i.not_after:%Y-%m-%d %H:%M} UTC "
                                    f"({state})")
                output.stdout.print(f"  key         {i.key}{'  (CA)' if i.is_ca else ''}")
                output.stdout.print(f"  key usage   {', '.join(i.key_usage) or '(not restricted)'}")
                output.stdout.print(f"  sha256      {i.fingerprint_sha256}")

        output.guarded(body)

    @cert_app.command("make-test")
    def make_test(
        out_dir: str = typer.Option(..., "--out-dir", help="Where to write the TEST CA and certificates."),
        facility: str = typer.Option("01001", "--facility", help="Facility code shown in the clinic certificate."),
        days: int = typer.Option(365, "--days", min=1, help="Validity of the clinic and doctor certificates."),
        password_env: str = keys.password_env_option(),
    ) -> None:
        """A TEST CA, a clinic and a doctor certificate (PEM and PKCS#12), for demos and tests only.

        Tạo chứng thư số THỬ NGHIỆM. The PKCS#12 password is taken from the environment variable
        (default SOHS_P12_PASSWORD) or made up, and written to p12-password.txt (mode 0600).
        """

        def body() -> None:
            import os

            from sohs_cli.testpki import make_test_pki

            given = os.environ.get(password_env)
            pki = make_test_pki(out_dir, password=given.encode() if given else None, facility=facility, days=days)
            for f in pki.files():
                output.stdout.print(f"wrote {escape(f)}")
            output.stdout.print(
                "[yellow]TEST certificates, not for production.[/] Sign with: sohs sign FILE "
                f"--p12 {escape(pki.clinic_p12)} --password-file {escape(pki.password_file)} -o signed.xml")

        output.guarded(body)


def _show_token(module: str, token_label: str | None, pin_env: str, as_json: bool) -> None:
    import os

    from sohs_cli.credentials import SecretSource
    from sohs_cli.hsm import TokenRef, describe_token

    pin = SecretSource("token PIN", pin_env) if os.environ.get(pin_env) else None
    label, rows = describe_token(TokenRef(module, token_label or ""), pin)
    if as_json:
        output.write_output(json.dumps({"token": label, "objects": rows}, ensure_ascii=False, indent=1), None)
        return
    output.stdout.print(f"[bold]token[/] {escape(label)}" + ("" if pin else f" [dim](private keys need ${pin_env})[/]"))
    for row in rows:
        extra = row.get("subject", "") + (f" · {row['valid']}" if "valid" in row else "") or f"RSA {row.get('bits')}"
        output.stdout.print(f"  {row['kind']:12} label {escape(row['label'] or '-'):16} id {row['id'] or '-':8} "
                            f"{escape(extra)}")
