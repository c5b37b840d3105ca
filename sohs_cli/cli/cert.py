"""``sohs cert show`` / ``sohs cert make-test``: look at certificates, make a TEST PKI for demos."""

from __future__ import annotations

import typer

from sohs_cli.cli import keys, output
from sohs_cli.cli.output import escape, say
from sohs_cli.foundation.i18n import _


def register(app: typer.Typer) -> None:
    cert_app = typer.Typer(help=_("Certificates: show one, or make a TEST CA and certificates."),
                           no_args_is_help=True)
    app.add_typer(cert_app, name="cert")

    @cert_app.command("show", help=_("Subject, issuer, validity, days left, key usage and SHA-256 fingerprint of "
                                     "each certificate; with --pkcs11-module, the keys and certificates on the "
                                     "token."))
    def show(
        path: str | None = typer.Argument(None, help=_("PEM, DER or PKCS#12 (.p12/.pfx) file.")),
        password_env: str = keys.password_env_option(),
        password_file: str | None = keys.password_file_option(),
        as_json: bool = output.json_option(),
        pkcs11_module: str | None = keys.pkcs11_module_option(),
        token_label: str | None = keys.token_label_option(),
        pin_env: str = keys.pin_env_option(),
    ) -> None:

        def body() -> None:
            if pkcs11_module:
                _show_token(pkcs11_module, token_label, pin_env, as_json)
                return
            if not path:
                from sohs_cli.foundation.errors import UsageError

                raise UsageError(_("give a certificate file, or --pkcs11-module to look at a token"))
            from sohs_cli.foundation.fileio import read_named
            from sohs_cli.signing.certs import describe, load_certificates, load_key_material, looks_like_pkcs12

            data = read_named(path)
            if looks_like_pkcs12(data):
                km = load_key_material(p12=path, password=keys.secret_source(_("certificate password"), password_env,
                                                                             password_file))
                certs = [km.cert, *km.chain]
            else:
                certs = load_certificates(data, path)
            infos = [describe(c) for c in certs]
            if as_json:
                output.write_json("cert", {"certificates": [i.as_dict() for i in infos]})
                return
            labels = [_("issuer"), _("serial"), _("valid"), _("key"), _("key usage"), "sha256"]
            width = max(len(label) for label in labels) + 2
            issuer, serial, valid, key, usage, sha = (escape(label.ljust(width)) for label in labels)
            for n, i in enumerate(infos):
                state = f"[red]{say('EXPIRED')}[/]" if i.days_left < 0 else say("{days} days left", days=i.days_left)
                output.stdout.print(f"[bold]{say('certificate') if n == 0 else say('chain')}[/] {escape(i.subject)}")
                output.stdout.print(f"  {issuer}{escape(i.issuer)}")
                output.stdout.print(f"  {serial}{escape(str(i.serial))}")
                output.stdout.print(f"  {valid}{i.not_before:%Y-%m-%d %H:%M} – {i.not_after:%Y-%m-%d %H:%M} UTC "
                                    f"({state})")
                output.stdout.print(f"  {key}{escape(i.key)}{'  (CA)' if i.is_ca else ''}")
                output.stdout.print(f"  {usage}{escape(', '.join(i.key_usage)) or say('(not restricted)')}")
                output.stdout.print(f"  {sha}{escape(i.fingerprint_sha256)}")

        output.guarded(body)

    @cert_app.command("make-test", help=_("A TEST CA, a clinic and a doctor certificate (PEM and PKCS#12), for "
                                          "demos and tests only. The PKCS#12 password is taken from the "
                                          "environment variable (default SOHS_P12_PASSWORD) or made up, and "
                                          "written to p12-password.txt (mode 0600)."))
    def make_test(
        out_dir: str = typer.Option(..., "--out-dir", help=_("Where to write the TEST CA and certificates.")),
        facility: str = typer.Option("01001", "--facility", help=_("Facility code shown in the clinic certificate.")),
        days: int = typer.Option(365, "--days", min=1, help=_("Validity of the clinic and doctor certificates.")),
        password_env: str = keys.password_env_option(),
    ) -> None:

        def body() -> None:
            import os

            from sohs_cli.signing.testpki import make_test_pki

            given = os.environ.get(password_env)
            pki = make_test_pki(out_dir, password=given.encode() if given else None, facility=facility, days=days)
            for f in pki.files():
                output.stdout.print(say("wrote {file}", file=f))
            output.stdout.print(f"[yellow]{say('TEST certificates, not for production.')}[/] "
                                + say("Sign with: sohs sign FILE --p12 {p12} --password-file {file} -o signed.xml",
                                      p12=pki.clinic_p12, file=pki.password_file))

        output.guarded(body)


def _show_token(module: str, token_label: str | None, pin_env: str, as_json: bool) -> None:
    import os

    from sohs_cli.foundation.credentials import SecretSource
    from sohs_cli.signing.hsm import TokenRef, describe_token

    pin = SecretSource(_("token PIN"), pin_env) if os.environ.get(pin_env) else None
    label, rows = describe_token(TokenRef(module, token_label or ""), pin)
    if as_json:
        output.write_json("cert-token", {"token": label, "objects": rows})
        return
    need = "" if pin else f" [dim]({say('private keys need ${name}', name=pin_env)})[/]"
    output.stdout.print(f"[bold]token[/] {escape(label)}{need}")
    for row in rows:
        extra = row.get("subject", "") + (f" · {row['valid']}" if "valid" in row else "") or f"RSA {row.get('bits')}"
        output.stdout.print(f"  {escape(str(row['kind'])):12} {say('label')} {escape(row['label'] or '-'):16} "
                            f"id {escape(row['id'] or '-'):8} {escape(extra)}")
