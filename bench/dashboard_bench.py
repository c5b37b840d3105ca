"""`sohs dashboard` on a ledger of 1,000,000 documents over three years.

Run: python bench/dashboard_bench.py [--count 1000000] [--keep DIR]. Generates the ledger (the real
schema, made by ``Ledger``, with every migration), serves it with ``sohs dashboard`` (uvicorn, a real
socket), and times the first page and filtered pages as a browser asks them, side by side with the
baseline: the same page's SQL run bare in-process on the same file (what the page costs beyond its
query). Records the server's peak memory (VmHWM) too, and the table in docs/performance.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench._report import record  # noqa: E402
from sohs_cli.dashboard.store import Filters, LedgerView, Page, night_start  # noqa: E402
from sohs_cli.ledger import Ledger  # noqa: E402

NIGHTS = 3 * 365 + 1
ERRORS = [{"maLoi": "card-length", "truong": "MA_THE_BHYT", "nhan": "Mã thẻ BHYT", "dong": 17,
           "moTa": "thẻ có 14 ký tự, mỗi thẻ cần 15", "moTaEn": "14 characters, each card needs 15"},
          {"maLoi": "ngay-ra-before-ngay-vao", "truong": "NGAY_RA", "nhan": "Ngày ra viện", "dong": 9,
           "moTa": "ngày ra trước ngày vào", "moTaEn": "discharge before admission"},
          {"maLoi": "xsd:pattern", "truong": "MA_BENH_CHINH", "nhan": "Mã bệnh chính", "dong": 21,
           "moTa": "mã bệnh không đúng mẫu", "moTaEn": "disease code does not match"}]


def generate(home: Path, count: int, seed: int = 18) -> dict[str, str]:
    """A ledger of ``count`` documents, one night after another, ending last night."""
    rng = random.Random(seed)
    Ledger(home).close()  # the real schema, every migration
    db = sqlite3.connect(home / "ledger.sqlite3", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-400000")
    last = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=5)).date() - dt.timedelta(days=1)
    first = last - dt.timedelta(days=NIGHTS - 1)
    per_night = count / NIGHTS
    probe: dict[str, str] = {}
    db.execute("BEGIN")
    docs, lks, attempts = [], [], []
    for n in range(count):
        night = first + dt.timedelta(days=int(n / per_night))
        start = dt.datetime.fromisoformat(night_start(night).replace("Z", "+00:00"))
        seen = (start + dt.timedelta(hours=10, seconds=(n % 900) * 4)).strftime("%Y-%m-%dT%H:%M:%SZ")
        roll = rng.random()
        state = "accepted" if roll < 0.90 else "rejected" if roll < 0.94 else "sent" if roll < 0.96 else \
            "failed" if roll < 0.98 else "pending"
        facility = ("79001", "79001", "79001", "79002", "01001")[n % 5]
        kind = "KHAMSUCKHOE" if n % 50 == 7 else "CHECKIN" if n % 33 == 5 else "GIAMDINHHS"
        standard = "2062" if kind == "KHAMSUCKHOE" else "4750" if night.year < last.year - 1 else "3176"
        ma_lk = f"LK{n:010d}"
        tx = f"{facility}{night:%Y%m%d}22{n:010d}" if state != "pending" else ""
        errors = json.dumps(rng.sample(ERRORS, rng.randint(1, 2)), ensure_ascii=False) if state == "rejected" \
            else "[]"
        received = f"{night:%Y%m%d}223000" if tx else ""
        docs.append((n + 1, f"{rng.getrandbits(256):064x}", f"/srv/clinic/sent/{ma_lk}.signed.xml", kind, standard,
                     facility, json.dumps([ma_lk]), "/api/qd130/guiHoSoXmlQD3176", seen, seen, state,
                     "200" if tx else "", tx, received, "Tiếp nhận thành công" if tx else "", errors,
                     received if state in ("accepted", "rejected") else ""))
        lks.append((n + 1, ma_lk))
        if state != "pending":
            attempts.append((n + 1, seen, seen, "/api/qd130/guiHoSoXmlQD3176",
                             "unavailable" if state == "failed" else "accepted", "200" if tx else "", tx, received))
        if len(docs) >= 50_000 or n == count - 1:
            db.executemany("INSERT INTO documents (id, sha256, path, kind, standard, facility, ma_lks, endpoint,"
                           " first_seen, updated_at, state, portal_code, transaction_id, received_at, message,"
                           " errors, processed_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", docs)
            db.executemany("INSERT INTO document_lks VALUES (?, ?)", lks)
            db.executemany("INSERT INTO attempts (document_id, started_at, finished_at, endpoint, outcome,"
                           " portal_code, transaction_id, received_at) VALUES (?,?,?,?,?,?,?,?)", attempts)
            docs, lks, attempts = [], [], []
        if n == count // 2:
            probe["ma_lk"], probe["id"] = ma_lk, str(n + 1)
    db.execute("COMMIT")
    db.execute("ANALYZE")
    db.close()
    probe["last"], probe["first"] = last.isoformat(), first.isoformat()
    probe["month_from"] = (last - dt.timedelta(days=29)).isoformat()
    return probe


@contextlib.contextmanager
def serving(home: Path) -> Iterator[tuple[str, int]]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "sohs_cli", "dashboard", "--home", str(home), "--port", str(port)],
                            cwd=home, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=os.environ | {"SOHS_LANG": "vi"})
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(base + "/static/dashboard.css", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        yield base, proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def peak_rss_mb(pid: int) -> tuple[float, float]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmHWM"].split()[0]) / 1024, int(fields["VmRSS"].split()[0]) / 1024


def timed(fn: Callable[[], object], rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--keep", metavar="DIR", help="generate into DIR (reused when it already holds a ledger)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sohs-dashboard-bench-") as tmp:
        home = Path(args.keep or tmp)
        home.mkdir(parents=True, exist_ok=True)
        probe_file = home / "bench-probe.json"
        if not (home / "ledger.sqlite3").exists() or not probe_file.exists():
            started = time.perf_counter()
            probe = generate(home, args.count)
            probe_file.write_text(json.dumps(probe))
            print(f"generated {args.count:,} documents in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        probe = json.loads(probe_file.read_text())
        size = (home / "ledger.sqlite3").stat().st_size / 1024 / 1024
        last, month = probe["last"], probe["month_from"]
        view = LedgerView(home)
        d = dt.date.fromisoformat

        def docs(filters: Filters, page: Page | None = None) -> Callable[[], object]:
            return lambda: view.documents(filters, page or Page())

        year = (d(last) - dt.timedelta(days=364)).isoformat()
        cases: list[tuple[str, str, Callable[[], object]]] = [
            ("nights page, last 30 nights (the first page)", "/",
             lambda: view.nights(d(last) - dt.timedelta(days=29), d(last))),
            ("documents, first page (50)", "/documents", docs(Filters())),
            ("documents, rejected", "/documents?state=rejected", docs(Filters(states=("rejected",)))),
            ("documents, facility 79002, 30 nights", f"/documents?facility=79002&from={month}&to={last}",
             docs(Filters(facility="79002", night_from=d(month), night_to=d(last)))),
            ("documents, one night, waiting + failed", f"/documents?state=pending&state=failed&from={last}&to={last}",
             docs(Filters(states=("pending", "failed"), night_from=d(last), night_to=d(last)))),
            ("documents, kind KHAMSUCKHOE, standard 2062", "/documents?kind=KHAMSUCKHOE&standard=2062",
             docs(Filters(kind="KHAMSUCKHOE", standard="2062"))),
            ("documents, MA_LK", f"/documents?ma_lk={probe['ma_lk']}", docs(Filters(ma_lk=probe["ma_lk"]))),
            ("documents, file name starts with (no match)", "/documents?name=nothing-like-it",
             docs(Filters(name="nothing-like-it"))),
            ("documents, file name starts with (10,000 match)", "/documents?name=LK00005",
             docs(Filters(name="LK00005"))),
            ("documents, rejected on field NGAY_RA", "/documents?field=NGAY_RA", docs(Filters(field="NGAY_RA"))),
            ("documents, sorted by state, oldest first", "/documents?sort=state&order=asc",
             docs(Filters(), Page(sort="state", descending=False))),
            ("documents, the page after the middle row", f"/documents?after={probe['id']}",
             docs(Filters(), Page(after=int(probe["id"])))),
            ("one document's page", f"/documents/{probe['id']}", lambda: view.document(int(probe["id"]))),
            ("what keeps failing, 30 nights", "/failing",
             lambda: view.failing(d(last) - dt.timedelta(days=29), d(last))),
            ("health", "/health", view.in_flight),
            ("API nights, one year", f"/api/nights?from={year}&to={last}", lambda: view.nights(d(year), d(last))),
            ("API nights, three years", f"/api/nights?from={probe['first']}&to={last}",
             lambda: view.nights(d(probe["first"]), d(last))),
        ]
        rows = []
        with serving(home) as (base, pid), httpx.Client(base_url=base, timeout=60) as client:
            for label, path, bare in cases:
                assert client.get(path).status_code == 200, path  # warm: the page cache, the templates
                ms = timed(lambda path=path: client.get(path), args.rounds)
                bare()
                baseline = statistics.median(timed(bare, args.rounds))
                rows.append((label, statistics.median(ms), min(ms), max(ms), baseline))
                print(f"{label}: median {statistics.median(ms):.1f} ms", file=sys.stderr)
            export_ms = timed(lambda: client.get(f"/export.csv?from={month}&to={last}"), 3)
            peak, now = peak_rss_mb(pid)
        view.close()
    table = [f"{args.count:,} documents over {NIGHTS:,} nights (ledger {size:,.0f} MB, WAL, every index of the "
             f"ledger's migrations), `sohs dashboard` under uvicorn on loopback, httpx as the browser; "
             f"{args.rounds} rounds after one warm-up. Baseline: the page's own ledger queries (rows and count; "
             "the nights' counts; the document's row) run bare in-process on the same file: the rest is HTTP, "
             "the template and the JSON.", "",
             "| request | median ms | best | worst | baseline query ms | ratio |", "|---|---:|---:|---:|---:|---:|"]
    for label, median, best, worst, baseline in rows:
        ratio = f"{median / baseline:.0f}×" if baseline >= 0.05 else "—"
        base_ms = f"{baseline:.1f}"
        table.append(f"| {label} | {median:.1f} | {best:.1f} | {worst:.1f} | {base_ms} | {ratio} |")
    table += ["", f"Export of 30 nights as CSV (~{args.count * 30 // NIGHTS:,} rows, streamed): "
              f"{statistics.median(export_ms):.0f} ms. Server memory after every request above: peak "
              f"{peak:.0f} MB (VmHWM), {now:.0f} MB resident at the end."]
    text = "\n".join(table)
    print(text)
    record("dashboard", text)


if __name__ == "__main__":
    main()
