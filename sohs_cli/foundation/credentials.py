"""Where secrets come from: an environment variable, a file, or a hidden prompt. Never argv.

A :class:`SecretSource` says where to look; the CLI supplies the prompt only when a person is at a
terminal. Secret values never appear in messages, reprs or logs (STYLE.md principle 6).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from sohs_cli.foundation.errors import CredentialError
from sohs_cli.foundation.i18n import _


@dataclass(frozen=True)
class SecretSource:
    what: str  # "certificate password", "portal password", "token PIN"
    env: str  # the variable to read, e.g. SOHS_P12_PASSWORD
    file: str | None = None  # --password-file: first line of the file
    prompt: Callable[[str], str] | None = field(default=None, repr=False)  # None: not interactive
    #: how this command takes a file holding the secret, for hints: the option where the command has
    #: one, else the setting ("portal.password_file in sohs.toml"); empty: no file (a token PIN)
    file_hint: str = "--password-file FILE"

    def _or_file(self) -> str:
        # the placeholder of "--password-file FILE" in the run's language
        hint = self.file_hint.replace(" FILE", " " + _("FILE"))
        return _(", or give {option}", option=hint) if self.file_hint else ""

    def configured(self) -> bytes | None:
        """The secret from the file or the environment (file first), or None if neither is set."""
        if self.file:
            try:
                with open(self.file, "rb") as fh:
                    first = fh.read(64 * 1024).splitlines()
            except OSError as exc:
                from sohs_cli.foundation.fileio import reason

                raise CredentialError(
                    _("cannot read the file of the {what}, {file}: {reason}", what=self.what, file=self.file,
                      reason=reason(exc)),
                    hint=_("check the path ({where})", where=self.file_hint or _("the password file"))) from None
            return first[0] if first else b""
        value = os.environ.get(self.env)
        if value is None:
            return None
        try:
            return value.encode("utf-8")
        except UnicodeEncodeError:  # bytes that are not UTF-8 (POSIX surrogateescape): say where, not what
            raise CredentialError(
                _("${env} is not UTF-8 text, so the {what} cannot be used", env=self.env, what=self.what),
                hint=_("set {env} again from a UTF-8 terminal", env=self.env) + self._or_file()) from None

    def ask(self, question: str) -> bytes:
        """Prompt (hidden) when interactive; otherwise say how to provide the secret."""
        if self.prompt is None:
            raise CredentialError(
                _("the {what} is needed and no terminal is attached to ask for it", what=self.what),
                hint=_("set {env} in the environment", env=self.env) + self._or_file())
        return self.prompt(question).encode("utf-8")

    def describe(self) -> str:
        """Where the secret came from, without the secret: for messages."""
        if self.file:
            return _("the file {file}", file=self.file)
        if self.env in os.environ:
            return f"${self.env}"
        return _("the prompt") if self.prompt else _("no password")
