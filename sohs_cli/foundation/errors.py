"""Exit codes (a contract, see the README) and the one hierarchy of expected failures.

Every failure a user can cause or fix is a :class:`SohsError` subclass carrying its exit code and a
hint. The CLI turns it into one line on stderr; anything else is a bug (exit 70).

Its message and hint come from the catalog (``_("…")``, shown in the run's language); a JSON report
asks for each language with :meth:`SohsError.message_in` and :meth:`SohsError.hint_in`.
"""

from __future__ import annotations

from enum import IntEnum


def _in(lang: str, text: str) -> str:
    """``text`` again in ``lang`` when ``_()`` made it (an ``i18n.Text``; not imported: i18n raises
    UsageError, and no two modules import each other)."""
    render = getattr(text, "render", None)
    return str(render(lang)) if callable(render) else str(text)


class ExitCode(IntEnum):
    OK = 0
    FINDINGS = 1  # invalid document, bad signature, portal rejection
    USAGE = 2
    CONFIG = 3  # configuration, credential or certificate problem
    UNAVAILABLE = 4  # portal unavailable, retry later
    LOCKED = 5  # another run holds the lock
    INTERNAL = 70
    INTERRUPTED = 130
    TERMINATED = 143  # SIGTERM (systemd stopping a job): the current step was finished first


class SohsError(Exception):
    """An expected failure: a message saying what happened, and a hint saying what to do next."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message

    def message_in(self, lang: str) -> str:
        """The message in ``lang`` (``vi``/``en``), whatever the run's language."""
        return _in(lang, self.message)

    def hint_in(self, lang: str) -> str:
        return _in(lang, self.hint)


class UsageError(SohsError):
    exit_code = ExitCode.USAGE


class InputError(SohsError):
    """A file could not be read or parsed safely (hostile, malformed, too large)."""

    exit_code = ExitCode.FINDINGS

    def __init__(self, message: str, hint: str = "", code: str = "input") -> None:
        super().__init__(message, hint)
        self.code = code


class ConfigError(SohsError):
    exit_code = ExitCode.CONFIG


class MachineError(ConfigError):
    """The machine, not the data: a full disk, a read-only or unreachable folder, a file size limit
    (``ulimit -f``), a corrupt or foreign ledger. Exit 3, naming the path and what to do."""


class CredentialError(ConfigError):
    """Wrong password, unreadable key store, missing secret."""


class CertificateError(ConfigError):
    """Expired, not yet valid, weak, mismatched or unusable certificate."""


class SigningError(SohsError):
    exit_code = ExitCode.FINDINGS


class VerificationError(SohsError):
    exit_code = ExitCode.FINDINGS


class PortalUnavailable(SohsError):
    exit_code = ExitCode.UNAVAILABLE


class AmbiguousSend(PortalUnavailable):
    """The request left and no answer came (the connection dropped, a timeout after sending, a
    gateway error): the portal may or may not hold the file. Never blindly retried."""


class PortalRejected(SohsError):
    exit_code = ExitCode.FINDINGS


class WorkerLost(SohsError):
    """A worker process ended without answering (killed by the out-of-memory killer, crashed)."""

    exit_code = ExitCode.INTERNAL


class LockHeld(SohsError):
    exit_code = ExitCode.LOCKED
