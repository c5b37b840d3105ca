"""What the folders, the run log and the lock say about the nightly job, read without a secret.

- **Certificate**: ``signing.cert`` when the settings name a PEM certificate (public); else the
  certificate inside the newest ``sent/*.signed.xml`` (the one the last night signed with, from its
  ``KeyInfo``). A PKCS#12 file or a token is never opened: that would need its password or PIN.
- **Last run**: the run log (``run.log_file``, default ``sohs.log`` in the data folder), JSON lines
  written by ``sohs run``; its last ``start`` and ``end`` events. Only the log's tail is read.
- **Outbox**: the files waiting there, each with the reason the last run gave (``waiting``: the portal
  was unavailable; ``setup``: sohs is not set up for it) or, failing that, why a run did not take it.
- **Lock**: ``run.lock.owner`` names the command holding the data folder's lock (emptied when it
  ends); the page only reads it, never locks, so it cannot make a starting run exit 5.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sohs_cli.foundation.errors import SohsError

LOG_TAIL = 1024 * 1024  # bytes of the log read from its end
OUTBOX_LIMIT = 200  # outbox files listed
SKIP = (".tmp", ".part", ".partial", ".crdownload", ".errors.json")  # what `sohs run` leaves alone


@dataclass(frozen=True)
class Places:
    """Where the clinic's things are, from the settings (the same rules as ``sohs run``)."""

    home: Path
    log_file: Path
    outbox: Path
    sent: Path
    rejected: Path
    cert_file: str = ""
    settle_seconds: float = 5.0

    @classmethod
    def from_settings(cls, s: Any) -> Places:
        base = Path(s.config_file).resolve().parent if s.config_file else Path.cwd().resolve()
        cert = s["signing.cert"]
        return cls(home=s.home, log_file=Path(s["run.log_file"] or s.home / "sohs.log"),
                   outbox=base / s["folders.outbox"], sent=base / s["folders.sent"],
                   rejected=base / s["folders.rejected"], cert_file=str(base / cert) if cert else "",
                   settle_seconds=float(s["run.settle_seconds"]))


def read_log_tail(path: Path) -> list[dict[str, Any]]:
    """The events of the log's last megabyte (and of its previous file when rotated just now)."""
    events: list[dict[str, Any]] = []
    for candidate in (Path(str(path) + ".1"), path):
        try:
            with open(candidate, "rb") as fh:
                size = fh.seek(0, os.SEEK_END)
                fh.seek(max(0, size - LOG_TAIL))
                data = fh.read()
        except OSError:
            continue
        lines = data.split(b"\n")
        if size > LOG_TAIL:
            lines = lines[1:]  # the first line was cut
        for line in lines:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict) and isinstance(event.get("event"), str):
                events.append(event)
    return events


def last_run(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The last run's start and end events and the outbox files it left, with their reasons."""
    starts = [i for i, e in enumerate(events) if e["event"] == "start"]
    if not starts:
        return {"start": None, "end": None, "left": {}, "certificate": None}
    run = events[starts[-1]:]
    end = next((e for e in run if e["event"] == "end"), None)
    left = {str(e.get("file", "")): {"event": e["event"], "message": str(e.get("message", ""))}
            for e in run if e["event"] in ("waiting", "setup")}
    expiring = next((e for e in reversed(events) if e["event"] == "certificate-expiring"), None)
    return {"start": run[0], "end": end, "left": left, "certificate": expiring}


def lock_holder(owner: Path) -> dict[str, Any] | None:
    """The command holding the data folder's lock now, from ``run.lock.owner`` (``pid N, sohs run since
    STAMP``, emptied on release; see :mod:`sohs_cli.foundation.datalock`), or None. Reading never locks."""
    import re

    try:
        text = owner.read_text(encoding="utf-8", errors="replace").strip()[:200]
    except OSError:
        return None
    found = re.match(r"pid (\d+), sohs (\w+) since (\S+)", text)
    if found is None:
        return None
    pid = int(found.group(1))
    if sys.platform != "win32":
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None  # it died holding the lock: the operating system released it
        except PermissionError:
            pass  # alive, another user's
    return {"pid": pid, "command": found.group(2), "since": found.group(3)}


def certificate(places: Places) -> dict[str, Any] | None:
    """The signing certificate's subject and expiry, from a public place only."""
    from sohs_cli.signing.certs import describe, load_certificates

    source, cert = "", None
    try:
        if places.cert_file:
            source = places.cert_file
            cert = load_certificates(Path(source).read_bytes(), source)[0]
        else:
            newest = max(places.sent.glob("*.signed.xml"), key=lambda p: p.stat().st_mtime, default=None)
            if newest is None:
                return None
            source = str(newest)
            cert = _signed_with(newest)
    except (OSError, SohsError, IndexError, ValueError):
        return {"source": source, "error": "unreadable"}
    if cert is None:
        return None
    info = describe(cert)
    return {"source": source, "subject": info.subject, "not_after": info.not_after.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "days_left": info.days_left}


def _signed_with(path: Path) -> Any:
    import base64

    from cryptography import x509

    from sohs_cli.foundation.fileio import read_file
    from sohs_cli.foundation.xmlsafe import parse_bytes

    root = parse_bytes(read_file(str(path), 64 * 1024 * 1024), source=path.name)
    for el in root.iter("{http://www.w3.org/2000/09/xmldsig#}X509Certificate"):
        return x509.load_der_x509_certificate(base64.b64decode("".join((el.text or "").split())))
    return None


def outbox(places: Places, run: dict[str, Any], now: float | None = None) -> dict[str, Any]:
    """The outbox's waiting files (the first :data:`OUTBOX_LIMIT` by name) and why each waits."""
    import time

    now = time.time() if now is None else now
    started = _epoch(run["start"]["time"]) if run.get("start") else None
    files: list[dict[str, Any]] = []
    count = 0
    try:
        entries = sorted(places.outbox.iterdir())
    except OSError:
        return {"folder": str(places.outbox), "exists": False, "count": 0, "files": []}
    for p in entries:
        name = p.name
        if name.startswith(".") or name.lower().endswith(SKIP) or p.suffix.lower() != ".xml" or not p.is_file():
            continue
        count += 1
        if len(files) >= OUTBOX_LIMIT:
            continue
        stat = p.stat()
        if name in run.get("left", {}):
            reason, message = run["left"][name]["event"], run["left"][name]["message"]
        elif started is None or stat.st_mtime > started:
            reason, message = "new", ""
        elif now - stat.st_mtime < places.settle_seconds:
            reason, message = "writing", ""
        else:
            reason, message = "untaken", ""
        files.append({"file": name, "size": stat.st_size,
                      "modified": dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                      "reason": reason, "message": message})
    return {"folder": str(places.outbox), "exists": True, "count": count, "files": files}


def _epoch(stamp: str) -> float | None:
    try:
        return dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S%z").timestamp()
    except (TypeError, ValueError):
        return None


def health(places: Places, in_flight: int) -> dict[str, Any]:
    events = read_log_tail(places.log_file)
    run = last_run(events)
    holder = lock_holder(places.home / "run.lock.owner")
    end = run["end"]
    return {
        "certificate": certificate(places),
        "certificate_warning": run["certificate"],
        "log_file": str(places.log_file),
        "last_run": {"start": run["start"], "end": end,
                     "exit_code": end.get("exit_code") if end else None,
                     "finished": end is not None or run["start"] is None},
        "running": holder,
        "in_flight": in_flight,
        "outbox": outbox(places, run),
    }
