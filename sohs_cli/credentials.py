"""Where secrets come from: an environment variable, a file, or a hidden prompt. Never argv.

A :class:`SecretSource` says where to look; the CLI supplies the prompt only when a person is at a
terminal. Secret values never appear in messages, reprs or logs (STYLE.md principle 6).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from sohs_cli.errors import CredentialError


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
        return f", or give {self.file_hint}" if self.file_hint else ""

    def configured(self) -> bytes | None:
        """The secret from the file or the environment (file first), or None if neither is set."""
        if self.file:
            try:
                with open(self.file, "rb") as fh:
                    first = fh.read(64 * 1024).splitlines()
            except OSError as exc:
                raise CredentialError(
                    f"cannot read the {self.what} file {self.file}: {exc.strerror} (không đọc được tệp mật khẩu)",
                    hint=f"check the path ({self.file_hint or 'the password file'})") from None
            return first[0] if first else b""
        value = os.environ.get(self.env)
        if value is None:
            return None
        try:
            return value.encode("utf-8")
        except UnicodeEncodeError:  # bytes that are not UTF-8 (POSIX surrogateescape): say where, not what
            raise CredentialError(
                f"${self.env} is not UTF-8 text, so the {self.what} cannot be used "
                "(mật khẩu trong biến môi trường không phải văn bản UTF-8)",
                hint=f"set {self.env} again from a UTF-8 terminal{self._or_file()}") from None

    def ask(self, question: str) -> bytes:
        """Prompt (hidden) when interactive; otherwise say how to provide the secret."""
        if self.prompt is None:
            raise CredentialError(
                f"the {self.what} is needed and no terminal is attached to ask for it (cần mật khẩu)",
                hint=f"set {self.env} in the environment{self._or_file()}")
        return self.prompt(question).encode("utf-8")

    def describe(self) -> str:
        """Where the secret came from, without the secret: for messages."""
        if self.file:
            return f"the file {self.file}"
        if self.env in os.environ:
            return f"${self.env}"
        return "the prompt" if self.prompt else "no password"
