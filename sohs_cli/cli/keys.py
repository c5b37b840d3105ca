"""Options shared by the commands that load a signing key: where the key and its password come from."""

from __future__ import annotations

import getpass
import sys
from typing import Any

import typer

from sohs_cli.foundation.credentials import SecretSource
from sohs_cli.foundation.i18n import _

P12_PASSWORD_ENV = "SOHS_P12_PASSWORD"


def interactive() -> bool:
    return sys.stdin.isatty() and sys.stderr.isatty()


def secret_source(what: str, env: str, file: str | None, file_hint: str = "--password-file FILE") -> SecretSource:
    """A source that may prompt (hidden) only when a person is at the terminal. ``file_hint``: how
    this command takes a password file (its option, or the setting when it has none)."""
    return SecretSource(what, env, file, getpass.getpass if interactive() else None, file_hint)


def setting_hint(key: str) -> str:
    """How any command takes a file named by a setting: ``portal.password_file in sohs.toml (or
    SOHS_PORTAL_PASSWORD_FILE)``; true for every command, with or without a ``--password-file``."""
    from sohs_cli.foundation.config import env_name

    return _("{key} in sohs.toml (or {env})", key=key, env=env_name(key))


def p12_option() -> Any:
    return typer.Option(None, "--p12", help=_("PKCS#12 (.p12/.pfx) file with the key and certificate."))


def key_option() -> Any:
    return typer.Option(None, "--key", help=_("PEM private key (with --cert)."))


def cert_option() -> Any:
    return typer.Option(None, "--cert", help=_("PEM certificate of the key (with --key)."))


def password_env_option() -> Any:
    return typer.Option(P12_PASSWORD_ENV, "--password-env", metavar="NAME",
                        help=_("Environment variable holding the key password."))


def password_file_option() -> Any:
    return typer.Option(None, "--password-file", metavar="FILE",
                        help=_("File whose first line is the key password (mode 0600)."))


def pkcs11_module_option() -> Any:
    return typer.Option(None, "--pkcs11-module", metavar="PATH",
                        help=_("PKCS#11 library of the USB token or HSM (the vendor's .so)."))


def token_label_option() -> Any:
    return typer.Option(None, "--token-label", help=_("Token to use (default: the only one present)."))


def key_label_option() -> Any:
    return typer.Option(None, "--key-label", help=_("Label of the private key on the token."))


def key_id_option() -> Any:
    return typer.Option(None, "--key-id", metavar="HEX", help=_("CKA_ID of the private key on the token (hex)."))


def pin_env_option() -> Any:
    return typer.Option("SOHS_PKCS11_PIN", "--pin-env", metavar="NAME",
                        help=_("Environment variable holding the PIN."))


def token_signer(module: str, token_label: str | None, key_label: str | None, key_id: str | None, pin_env: str,
                 cert: str | None) -> Any:
    """A signer whose key stays on the token; the PIN is never retried."""
    from sohs_cli.signing.hsm import Pkcs11Signer, TokenRef

    pin = SecretSource(_("token PIN"), pin_env, None, getpass.getpass if interactive() else None, file_hint="")
    return Pkcs11Signer(TokenRef(module, token_label or "", key_label or "", key_id or ""), pin, cert)


def load_signer(*, p12: str | None = None, key: str | None = None, cert: str | None = None,
                chain: list[str] | None = None, password_env: str = P12_PASSWORD_ENV,
                password_file: str | None = None, pkcs11_module: str | None = None,
                token_label: str | None = None, key_label: str | None = None, key_id: str | None = None,
                pin_env: str = "SOHS_PKCS11_PIN", password_file_hint: str = "--password-file FILE") -> tuple[Any, Any]:
    """The signer (a token, else a key file) and its certificate's description, after the checks
    the portal would make: validity, RSA size, key usage, and that the key matches."""
    from sohs_cli.signing.certs import check_certificate, check_signing_certificate, load_key_material
    from sohs_cli.signing.sign import FileSigner

    if pkcs11_module:
        signer = token_signer(pkcs11_module, token_label, key_label, key_id, pin_env, cert)
        return signer, check_certificate(signer.certificate)
    material = load_key_material(p12=p12, key=key, cert=cert, chain=chain,
                                 password=secret_source(_("certificate password"), password_env, password_file,
                                                        password_file_hint))
    return FileSigner(material), check_signing_certificate(material)
