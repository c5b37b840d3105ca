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
from sohs_cli.cli.output import escape

HUMAN = {"packed": ("packed {file} ({tables} tables, MA_LK {ma_lk})",
                    "đã đóng gói {file} ({tables} bảng, MA_LK {ma_lk})"),
         "delivered": ("delivered {file}: {message}", "đã gửi {file}: {message}"),
         "skipped": ("already delivered {file}", "đã gửi trước đó {file}"),
         "rejected": ("REJECTED {file}: {message}", "BỊ TỪ CHỐI {file}: {message}"),
         "invalid": ("INVALID {file}: {message}", "KHÔNG HỢP LỆ {file}: {message}"),
         "split": ("split {file}: {valid_count} valid episode(s) go on in {valid}, {invalid_count} invalid "
                   "({invalid_list}) to {invalid}",
                   "tách {file}: {valid_count} hồ sơ hợp lệ gửi tiếp trong {valid}, {invalid_count} không hợp lệ "
                   "({invalid_list}) vào {invalid}"),
         "waiting": ("left in the outbox {file}: {message}", "để lại trong outbox {file}: {message}"),
         "setup": ("left in the outbox {file}: {message}", "để lại trong outbox {file}: {message}")}


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
    @app.command()
    def run(
        config: str | None = portalopts.config(),
        home: str | None = portalopts.home(),
        jitter: float = typer.Option(0.0, "--jitter", min=0, metavar="SECONDS",
                                     help="Sleep a random time up to SECONDS first (holding the lock)."),
        log_file: str | None = typer.Option(None, "--log-file", help="JSON-lines log, rotated (default: "
                                                                     "sohs.log in the data folder)."),
        as_json: bool = typer.Option(False, "--json", help="Print the run summary as JSON (for monitoring)."),
    ) -> None:
        """Validate, pack, sign and submit the outbox; file each document; refresh results (for cron).

        Chạy toàn bộ quy trình. Exit 0 all delivered, 1 some rejected, 3 setup problem,
        4 portal unavailable (nothing lost), 5 another run holds the lock.
        """

        def body() -> None:
            import random
            import time

            from sohs_cli.config import resolve
            from sohs_cli.datalock import DataLock
            from sohs_cli.ledger import Ledger
            from sohs_cli.pipeline import Folders, Run, run_once
            from sohs_cli.submission import SubmitOptions
            from sohs_cli.trust import from_settings

            s = resolve({"home": home}, config)
            lock = DataLock(s.home, "run")
            lock.acquire()  # before anything else: a second run exits 5 at once
            try:
                log = _logger(Path(log_file or s["run.log_file"] or s.home / "sohs.log"))
                terminal = sys.stderr.isatty()

                def event(name: str, fields: dict[str, Any]) -> None:
                    log.info(name, extra={"fields": fields})
                    if terminal and name in HUMAN:
                        output.stderr.print(escape(output.t(*HUMAN[name]).format_map(_Default(fields))))

                event("start", {"pid": os.getpid(), "previous_lock_holder": lock.previous})
                if jitter:
                    time.sleep(random.uniform(0, jitter))
                # absolute: the ledger keeps these paths, and cron may run from anywhere
                base = Path(s.config_file).resolve().parent if s.config_file else Path.cwd().resolve()
                folders = Folders(*(base / s[f"folders.{k}"] for k in ("outbox", "sent", "rejected", "failed")))
                signer = None
                if s["signing.p12"] or s["signing.key"] or s["signing.pkcs11_module"]:
                    signer = portalopts.make_signer(s)
                    _warn_expiry(signer, s["signing.expiry_warning_days"], event)
                trust = from_settings(s, signer.certificate if signer else None, signer.chain if signer else None)
                client = portalopts.make_client(s)
                hub = portalopts.make_hub(s)
                ledger = Ledger(s.home)
                try:
                    work = Run(folders, ledger, client, signer, hub,
                               SubmitOptions(facility=s["facility"], standard=s["standard"],
                                             concurrency=s["portal.concurrency"], trust=trust), event,
                               s.home / "work")
                    report = run_once(work, s["run.settle_seconds"])
                finally:
                    ledger.close()
                event("end", {k: v for k, v in report.as_dict().items() if k != "files"})
            finally:
                lock.release()
            if as_json:
                output.write_output(json.dumps(report.as_dict(), ensure_ascii=False, indent=1), None)
            else:
                r, t = report, output.t
                output.stdout.print(" · ".join((
                    f"{r.picked} {t('picked', 'tệp nhận')}", f"{r.packed} {t('packed', 'đóng gói')}",
                    f"{r.signed} {t('signed', 'đã ký')}", f"{r.delivered} {t('delivered', 'đã gửi')}",
                    f"{r.skipped} {t('already delivered', 'đã gửi trước đó')}",
                    f"{r.rejected} {t('rejected', 'bị từ chối')}", f"{r.failed} {t('failed', 'lỗi đọc')}",
                    f"{r.waiting + r.setup} {t('left in the outbox', 'còn trong outbox')}",
                    f"{r.processed} {t('result(s) refreshed', 'kết quả cập nhật')}")))
            if report.exit_code:
                raise SystemExit(int(report.exit_code))

        output.guarded(body)


class _Default(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def _warn_expiry(signer: Any, days: int, event: Any) -> None:
    from sohs_cli.certs import describe

    info = describe(signer.certificate)
    if info.days_left <= days:
        message = (f"certificate '{info.subject}' expires on {info.not_after:%Y-%m-%d} ({info.days_left} days left; "
                   "chứng thư số sắp hết hạn): renew it and register the new one on the portal")
        event("certificate-expiring", {"days_left": info.days_left, "message": message})
        output.stderr.print(f"[yellow]{output.t('warning', 'cảnh báo')}:[/] {escape(message)}")
