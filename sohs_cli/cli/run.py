"""``sohs run``: the one command cron runs every night."""

from __future__ import annotations

import json
import logging
import os
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any

import typer

from sohs_cli.cli import output, portalopts
from sohs_cli.cli.output import escape, say
from sohs_cli.foundation.errors import ExitCode, SohsError
from sohs_cli.foundation.i18n import N_, _, translate

# the line a terminal shows for an event of the log (a catalog message, filled with the event's fields)
HUMAN = {"packed": N_("packed {file} ({tables} tables, MA_LK {ma_lk})"),
         "delivered": N_("delivered {file}: {message}"),
         "skipped": N_("already delivered {file}"),
         "rejected": N_("REJECTED {file}: {message}"),
         "invalid": N_("INVALID {file}: {message}"),
         "split": N_("split {file}: {valid_count} valid episode(s) go on in {valid}, {invalid_count} invalid "
                     "({invalid_list}) to {invalid}"),
         "waiting": N_("left in the outbox {file}: {message}"),
         "setup": N_("left in the outbox {file}: {message}"),
         "settling": N_("not yet {file}: {message}"),
         "setup-rejected": N_("REJECTED FOR THE SETUP {file}: {message}"),
         "ignored": N_("not read {file}: {message}")}


class _JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = getattr(record, "fields", {})
        return json.dumps({"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname.lower(),
                           "event": record.getMessage(), **fields}, ensure_ascii=False)


def _logger(path: Path) -> logging.Logger:
    log = logging.getLogger("sohs.run")
    log.setLevel(logging.INFO)
    log.propagate = False
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = RotatingFileHandler(path, maxBytes=5 * 1024 * 1024, backupCount=5, encoding="utf-8")
    handler.setFormatter(_JsonLines())
    log.handlers = [handler]
    return log


def register(app: typer.Typer) -> None:
    @app.command(help=_("Validate, pack, sign and submit the outbox; file each document; refresh results (for "
                        "cron). Exit 0 all delivered, 1 some rejected, 3 setup problem, 4 portal unavailable "
                        "(nothing lost), 5 another run holds the lock."))
    def run(
        config: str | None = portalopts.config(),
        home: str | None = portalopts.home(),
        jitter: float = typer.Option(0.0, "--jitter", min=0, metavar="SECONDS",
                                     help=_("Sleep a random time up to SECONDS first (holding the lock).")),
        log_file: str | None = typer.Option(None, "--log-file", help=_("JSON-lines log, rotated (default: "
                                                                       "sohs.log in the data folder; or "
                                                                       "$SOHS_RUN_LOG_FILE).")),
        retry_setup: bool = typer.Option(False, "--retry-setup-rejections",
                                         help=_("Send again documents the portal refused for the setup (125 for a "
                                                "certificate not registered) once that is fixed (put them back in "
                                                "the outbox).")),
        as_json: bool = typer.Option(False, "--json", help=_("Print the run summary as JSON (for monitoring).")),
    ) -> None:

        def body() -> None:
            night = _Night(home, config, log_file, jitter, retry_setup)
            try:
                night.run()
            except BaseException:
                night.finish(as_json, failed=True)  # the error boundary prints the one line
                raise
            night.finish(as_json)

        output.guarded(body)


class _Night:
    """One run, however it ends: the ``end`` event with its exit code goes to the log, and with
    ``--json`` stdout gets one JSON document (one line: a ``.jsonl`` file appended to by cron reads
    line by line), also when the settings, the lock or the machine stop the run before it starts.
    SIGTERM (systemd stopping the job) finishes the current step, then ends with exit 143."""

    def __init__(self, home: str | None, config: str | None, log_file: str | None, jitter: float,
                 retry_setup: bool = False) -> None:
        self.home, self.config, self.log_file, self.jitter = home, config, log_file, jitter
        self.retry_setup = retry_setup
        self.log: logging.Logger | None = None
        self.report: Any = None
        self.code = ExitCode.INTERNAL
        self.error: SohsError | None = None
        self.terminated = False

    def event(self, name: str, fields: dict[str, Any]) -> None:
        if self.log is not None:
            self.log.info(name, extra={"fields": fields})
        if name in HUMAN and sys.stderr.isatty():
            output.stderr.print(escape(translate(output.language(), HUMAN[name]).format_map(_Default(fields))))

    def _open_log(self, settings: Any | None) -> None:
        """The JSON-lines log, as early as it can be known; a log that cannot be opened is named on
        stderr once and the run goes on without it (the exit code still says how it ended)."""
        from sohs_cli.foundation.config import user_data_dir

        if settings is not None:
            path = Path(self.log_file or settings["run.log_file"] or settings.home / "sohs.log")
        else:
            path = Path(self.log_file or Path(self.home or os.environ.get("SOHS_HOME") or user_data_dir()) / "sohs.log")
        try:
            self.log = _logger(path)
        except OSError as exc:
            output.stderr.print(say("warning: no log: cannot write {path}: {reason}", path=path,
                                    reason=exc.strerror or exc))

    def _on_sigterm(self, signum: int, frame: object) -> None:
        self.terminated = True  # the pipeline looks at this between steps

    def run(self) -> None:
        import random
        import signal
        import time

        from sohs_cli.foundation.config import resolve
        from sohs_cli.foundation.datalock import DataLock

        previous = signal.signal(signal.SIGTERM, self._on_sigterm)
        try:
            try:
                s = resolve({"home": self.home}, self.config)
            except SohsError:
                self._open_log(None)
                raise
            self._open_log(s)
            lock = DataLock(s.home, "run").acquire()  # before anything else: a second run exits 5 at once
            try:
                self.event("start", {"pid": os.getpid(), "previous_lock_holder": lock.previous})
                until = time.monotonic() + random.uniform(0, self.jitter)
                while not self.terminated and time.monotonic() < until:  # a SIGTERM ends the wait too
                    time.sleep(max(0.0, min(0.2, until - time.monotonic())))
                self.report = self._run(s)
            finally:
                lock.release()
            self.code = ExitCode.TERMINATED if self.terminated else self.report.exit_code
        except SohsError as exc:
            self.code, self.error = exc.exit_code, exc
            raise
        except KeyboardInterrupt:
            self.code = ExitCode.INTERRUPTED
            raise
        finally:
            signal.signal(signal.SIGTERM, previous)

    def _run(self, s: Any) -> Any:
        from sohs_cli.signing.trust import from_settings
        from sohs_cli.submission.ledger import Ledger
        from sohs_cli.submission.pipeline import Folders, Run, run_once
        from sohs_cli.submission.submit import SubmitOptions

        # absolute: the ledger keeps these paths, and cron may run from anywhere
        base = Path(s.config_file).resolve().parent if s.config_file else Path.cwd().resolve()
        folders = Folders(*(base / s[f"folders.{k}"] for k in ("outbox", "sent", "rejected", "failed")))
        signer = None
        if s["signing.p12"] or s["signing.key"] or s["signing.pkcs11_module"]:
            signer = portalopts.make_signer(s)
            _warn_expiry(signer, s["signing.expiry_warning_days"], self.event)
        trust = from_settings(s, signer.certificate if signer else None, signer.chain if signer else None)
        client = portalopts.make_client(s, stopping=lambda: self.terminated)
        hub = portalopts.make_hub(s)
        ledger = Ledger(s.home)
        try:
            work = Run(folders, ledger, client, signer, hub,
                       SubmitOptions(facility=s["facility"], standard=s["standard"],
                                     concurrency=s["portal.concurrency"], trust=trust,
                                     retry_setup=self.retry_setup), self.event,
                       s.home / "work", stopping=lambda: self.terminated,
                       doctor=portalopts.make_doctor_signer(s))
            return run_once(work, s["run.settle_seconds"])
        finally:
            ledger.close()

    def finish(self, as_json: bool, failed: bool = False) -> None:
        """The ``end`` event, the summary (or the one JSON document), and the exit code."""
        counts = {k: v for k, v in self.report.as_dict().items() if k != "files"} if self.report else {}
        end = counts | {"exit_code": int(self.code)}
        if self.error is not None:
            end |= {"error": self.error.message, "hint": self.error.hint,  # in the run's language
                    "error_en": self.error.message_in("en"), "error_vi": self.error.message_in("vi"),
                    "hint_en": self.error.hint_in("en"), "hint_vi": self.error.hint_in("vi")}
        if self.terminated:
            end["message"] = _("stopped by SIGTERM after the current step; the rest waits for the next run")
        self.event("end", end)
        if self.log is not None:
            for handler in self.log.handlers:
                handler.close()
        if as_json:
            document = output.with_schema("run", (self.report.as_dict() if self.report else {}) | end)
            output.write_output(json.dumps(document, ensure_ascii=False), None)
        elif self.report is not None:
            r = self.report
            output.stdout.print(escape(" · ".join((
                _("{n} picked", n=r.picked), _("{n} packed", n=r.packed), _("{n} signed", n=r.signed),
                _("{n} delivered", n=r.delivered), _("{n} already delivered", n=r.skipped),
                _("{n} rejected", n=r.rejected), _("{n} failed", n=r.failed),
                _("{n} left in the outbox", n=r.waiting + r.setup + r.settling),
                *([_("{n} not read (sub-folders, other files)", n=r.ignored)] if r.ignored else []),
                _("{n} result(s) refreshed", n=r.processed)))))
        if self.terminated and not failed:
            output.stderr.print(say("stopped (SIGTERM) after finishing the current step; the rest waits in the "
                                    "outbox for the next run"))
        if not failed and self.code:
            raise SystemExit(int(self.code))


class _Default(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def _warn_expiry(signer: Any, days: int, event: Any) -> None:
    from sohs_cli.signing.certs import describe

    info = describe(signer.certificate)
    if info.days_left <= days:
        message = _("certificate '{subject}' expires on {date} ({days} days left): renew it and register the new "
                    "one on the portal", subject=info.subject, date=f"{info.not_after:%Y-%m-%d}", days=info.days_left)
        event("certificate-expiring", {"days_left": info.days_left, "message": message})
        output.stderr.print(f"[yellow]{say('warning:')}[/] {escape(message)}")
