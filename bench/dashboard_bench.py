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
from sohs_cli.submission.ledger import MIGRATIONS, DocumentInfo, Ledger  # noqa: E402

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


# what migrations 6 and 7 changed, undone inside a transaction that is rolled back (the ledger keeps
# its schema): the indexes of schema 5
BEFORE_6 = ("DROP INDEX documents_night_updated",
            *(f"DROP INDEX documents_{c}_seen; CREATE INDEX documents_{c}_seen ON documents({c}, first_seen)"
              for c in ("state", "facility", "kind", "standard")))


def write_cost(home: Path, docs: int = 1000, rounds: int = 5) -> dict[int, list[float]]:
    """CPU ms per document of a night's writes by the real ``Ledger`` (recorded, attempt begun and
    finished with a receipt, the result set), on the kept ledger with the indexes of migrations 6 and 7
    and with those of schema 5 instead, alternately, each night inside a transaction that is rolled
    back. No commit, so no fsync: what the indexes cost, not the disk's flush (the same for both)."""
    ledger = Ledger(home)
    endpoint = "/api/qd130/guiHoSoXmlQD3176"
    out: dict[int, list[float]] = {6: [], 5: []}
    for r in range(rounds):
        for schema in (6, 5) if r % 2 == 0 else (5, 6):
            ledger.db.execute("BEGIN IMMEDIATE")
            try:
                if schema == 5:
                    for statements in BEFORE_6:
                        for statement in statements.split("; "):
                            ledger.db.execute(statement)
                infos = [DocumentInfo(f"{r:02d}{schema}{i:061d}", f"/srv/clinic/outbox/W{r}{schema}{i:06d}.signed.xml",
                                      "GIAMDINHHS", "3176", "79001", (f"W{r}{schema}{i:06d}",), endpoint)
                         for i in range(docs)]
                started = time.process_time()
                for i, doc_id in enumerate(ledger.record_many(infos)):
                    attempt = ledger.begin_attempt(doc_id, endpoint)
                    ledger.finish_attempt(attempt, "accepted", code="200", transaction_id=f"TX{r}{schema}{i:08d}",
                                          received_at="20261201223000", message="Tiếp nhận thành công")
                    ledger.set_result(doc_id, "accepted", [], "20261201223500")
                out[schema].append((time.process_time() - started) * 1000 / docs)
            finally:
                ledger.db.execute("ROLLBACK")
    ledger.close()
    return out


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
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3, help="fresh servers, each measured --rounds times")
    parser.add_argument("--no-record", action="store_true", help="print the table, leave docs/performance.md")
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
        migrated = ""
        with sqlite3.connect(home / "ledger.sqlite3") as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
        if version < len(MIGRATIONS):  # a kept ledger of an older sohs: what a writing command does to it
            started = time.perf_counter()
            Ledger(home).close()
            migrated = (f" The kept ledger (schema {version}) was migrated to schema {len(MIGRATIONS)} in "
                        f"{time.perf_counter() - started:.1f} s.")
        size = (home / "ledger.sqlite3").stat().st_size / 1024 / 1024
        writes = write_cost(home)
        last, month = probe["last"], probe["month_from"]
        view = LedgerView(home)
        d = dt.date.fromisoformat

        def docs(filters: Filters, page: Page | None = None) -> Callable[[], object]:
            return lambda: view.documents(filters, page or Page())

        first, mid = probe["first"], int(probe["id"])
        old_year = (d(first) + dt.timedelta(days=364)).isoformat()
        half = (d(last) - dt.timedelta(days=181)).isoformat()
        cases: list[tuple[str, str, Callable[[], object]]] = [
            ("the first page: nights, last 30", "/", lambda: view.nights(d(last) - dt.timedelta(days=29), d(last))),
            ("nights page, three years (a bar a month)", f"/?from={first}&to={last}",
             lambda: view.nights(d(first), d(last))),
            ("nights page, half a year (a bar a week)", f"/?from={half}&to={last}",
             lambda: view.nights(d(half), d(last))),
            ("API nights, three years", f"/api/nights?from={first}&to={last}", lambda: view.nights(d(first), d(last))),
            ("documents, first page (50)", "/documents", docs(Filters())),
            ("state: rejected", "/documents?state=rejected", docs(Filters(states=("rejected",)))),
            ("state: waiting + failed", "/documents?state=pending&state=failed",
             docs(Filters(states=("pending", "failed")))),
            ("date range: last 30 nights", f"/documents?from={month}&to={last}",
             docs(Filters(night_from=d(month), night_to=d(last)))),
            ("date range: the first year", f"/documents?from={first}&to={old_year}",
             docs(Filters(night_from=d(first), night_to=d(old_year)))),
            ("facility 79002", "/documents?facility=79002", docs(Filters(facility="79002"))),
            ("facility that has none", "/documents?facility=99999", docs(Filters(facility="99999"))),
            ("kind KHAMSUCKHOE", "/documents?kind=KHAMSUCKHOE", docs(Filters(kind="KHAMSUCKHOE"))),
            ("standard 4750 (the oldest)", "/documents?standard=4750", docs(Filters(standard="4750"))),
            ("MA_LK", f"/documents?ma_lk={probe['ma_lk']}", docs(Filters(ma_lk=probe["ma_lk"]))),
            ("file name: no match", "/documents?name=nothing-like-it", docs(Filters(name="nothing-like-it"))),
            ("file name: 10,000 match", "/documents?name=LK000005", docs(Filters(name="LK000005"))),
            ("file name: 100,000 in the middle", "/documents?name=LK00005", docs(Filters(name="LK00005"))),
            ("file name: the oldest 100,000", "/documents?name=LK00000", docs(Filters(name="LK00000"))),
            ("file name: every document", "/documents?name=lk0", docs(Filters(name="lk0"))),
            ("field NGAY_RA (a failing link)", "/documents?field=NGAY_RA", docs(Filters(field="NGAY_RA"))),
            ("field no document has", "/documents?field=NOPE", docs(Filters(field="NOPE"))),
            ("facility + kind + state", "/documents?facility=01001&kind=CHECKIN&state=failed",
             docs(Filters(facility="01001", kind="CHECKIN", states=("failed",)))),
            ("facility + kind (6,060 match)", "/documents?facility=01001&kind=CHECKIN",
             docs(Filters(facility="01001", kind="CHECKIN"))),
            ("kind + standard", "/documents?kind=CHECKIN&standard=4750",
             docs(Filters(kind="CHECKIN", standard="4750"))),
            ("sorted by state, oldest first", "/documents?sort=state&order=asc",
             docs(Filters(), Page(sort="state", descending=False))),
            ("facility none, sorted by state", "/documents?facility=99999&sort=state",
             docs(Filters(facility="99999"), Page(sort="state"))),
            ("sorted by last change", "/documents?sort=updated", docs(Filters(), Page(sort="updated"))),
            ("rejected, sorted by last change", "/documents?state=rejected&sort=updated",
             docs(Filters(states=("rejected",)), Page(sort="updated"))),
            ("the first year, sorted by last change", f"/documents?from={first}&to={old_year}&sort=updated",
             docs(Filters(night_from=d(first), night_to=d(old_year)), Page(sort="updated"))),
            ("the first year, by last change, oldest first", f"/documents?from={first}&to={old_year}&sort=updated"
             "&order=asc", docs(Filters(night_from=d(first), night_to=d(old_year)), Page(sort="updated",
                                                                                    descending=False))),
            ("a far page (after the middle row)", f"/documents?after={mid}", docs(Filters(), Page(after=mid))),
            ("a far page back (before the middle row)", f"/documents?before={mid}", docs(Filters(), Page(before=mid))),
            ("a far page of rejected", f"/documents?state=rejected&after={mid}",
             docs(Filters(states=("rejected",)), Page(after=mid))),
            ("one document's page", f"/documents/{mid}", lambda: view.document(mid)),
            ("what keeps failing, 30 nights", "/failing",
             lambda: view.failing(d(last) - dt.timedelta(days=29), d(last))),
            ("what keeps failing, three years", f"/failing?from={first}&to={last}",
             lambda: view.failing(d(first), d(last))),
            ("health", "/health", view.in_flight),
            ("API documents, rejected", "/api/documents?state=rejected", docs(Filters(states=("rejected",)))),
        ]
        runs: list[dict[str, list[float]]] = []
        baselines: dict[str, float] = {}
        exports: list[tuple[float, float, float, float]] = []
        peaks: list[float] = []
        for run in range(args.runs):
            times: dict[str, list[float]] = {}
            with serving(home) as (base, pid), httpx.Client(base_url=base, timeout=120) as client:
                for label, path, bare in cases:
                    assert client.get(path).status_code == 200, path  # warm: the page cache, the templates
                    times[label] = timed(lambda path=path: client.get(path), args.rounds)
                    if run == 0:
                        bare()
                        baselines[label] = statistics.median(timed(bare, args.rounds))
                    print(f"run {run + 1} {label}: p50 {statistics.median(times[label]):.1f} ms", file=sys.stderr)
                exports.append((first_byte(client, f"/export.csv?from={month}&to={last}"),
                                whole(client, f"/export.csv?from={month}&to={last}"),
                                first_byte(client, "/export.json"), first_byte(client, "/export.csv")))
                peaks.append(peak_rss_mb(pid)[0])
            runs.append(times)
        view.close()
    load = os.getloadavg()
    table = [f"{args.count:,} documents over {NIGHTS:,} nights (ledger {size:,.0f} MB, WAL, schema "
             f"{len(MIGRATIONS)}), `sohs dashboard` under uvicorn on loopback, httpx as the browser. {args.runs} "
             f"runs (a fresh server each), {args.rounds} requests per page per run after one warm-up; p50 and "
             f"p95 per run, shown as the range over the runs. Baseline: the page's own ledger queries run bare "
             f"in-process on the same file (what the page costs beyond its query: HTTP, the template, the JSON). "
             f"Load average at the end {load[0]:.1f} on 2 CPUs (other sessions' tests and benches run beside).", "",
             "| request | p50 ms | p95 ms | baseline query ms | p50 / baseline |", "|---|---:|---:|---:|---:|"]
    for label, _, _ in cases:
        p50 = [statistics.median(r[label]) for r in runs]
        p95 = [percentile(r[label], 95) for r in runs]
        baseline = baselines[label]
        ratio = f"{min(p50) / baseline:.0f}×" if baseline >= 0.05 else "—"
        table.append(f"| {label} | {span(p50)} | {span(p95)} | {baseline:.1f} | {ratio} |")
    table += ["", "Exports (streamed): the CSV of the last 30 nights (~"
              f"{args.count * 30 // NIGHTS:,} rows) answers its first bytes in {span([e[0] for e in exports])} ms, "
              f"the whole file in {span([e[1] for e in exports])} ms; the JSON and the CSV of the whole ledger "
              f"({args.count:,} rows) answer their first bytes in {span([e[2] for e in exports])} ms and "
              f"{span([e[3] for e in exports])} ms. Server memory after every request of a run (VmHWM): "
              f"{span(peaks, 0)} MB.{migrated}", "",
              f"A night's writes by the ledger on this ledger (record, attempt begun and finished, result; "
              f"CPU per document, no fsync, {len(writes[6])} alternate rounds of 1,000): "
              f"{span(writes[6], 2)} ms with the indexes of schema {len(MIGRATIONS)}, {span(writes[5], 2)} ms with "
              f"those of schema 5 "
              f"(medians {statistics.median(writes[6]):.2f} and {statistics.median(writes[5]):.2f} ms)."]
    text = "\n".join(table)
    print(text)
    if not args.no_record:
        record("dashboard", text)


def percentile(values: list[float], pct: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def span(values: list[float], digits: int = 1) -> str:
    low, high = min(values), max(values)
    return f"{low:.{digits}f}" if f"{low:.{digits}f}" == f"{high:.{digits}f}" else f"{low:.{digits}f}–{high:.{digits}f}"


def first_byte(client: httpx.Client, path: str) -> float:
    """Milliseconds until the first chunk of a streamed answer (the rest is read, not timed)."""
    started = time.perf_counter()
    with client.stream("GET", path) as answer:
        stream = answer.iter_raw()
        next(stream)
        at = (time.perf_counter() - started) * 1000
        for _ in stream:
            pass
    return at


def whole(client: httpx.Client, path: str) -> float:
    started = time.perf_counter()
    client.get(path)
    return (time.perf_counter() - started) * 1000


if __name__ == "__main__":
    main()
