"""Every way the documents table is read (few matches sorted here; the sort's index walked; every
match sorted by SQLite; a file name's matches sorted from its index; a range of nights sorted by last
change, merged night by night from migration 6's index) gives the pages a brute-force filter and sort
in Python gives, forward and back, on a ledger of the current schema and on ones of schema 6 and 5
(read as they are: the dashboard never migrates). And migrations 6 and 7 keep every document and
count, and their indexes serve the plans they were made for (``EXPLAIN QUERY PLAN``)."""

from __future__ import annotations

import datetime as dt
import random
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from sohs_cli.dashboard import store
from sohs_cli.dashboard.store import Filters, LedgerView, Page, night_start
from sohs_cli.submission.ledger import MIGRATIONS, Ledger, statements

START = dt.date(2026, 10, 1)
NIGHTS = 40
STATES = ("accepted", "accepted", "accepted", "rejected", "sent", "failed", "pending")


def stamp(at: dt.datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def generate(home: Path, count: int = 420, seed: int = 6, schema: int = len(MIGRATIONS)) -> None:
    """``count`` documents over :data:`NIGHTS` nights, written with the ledger's schema ``schema``
    (its triggers keep the counts): names bunched by age (``OLD…`` the oldest tenth, ``MID…`` one in
    the middle), equal stamps, documents changed nights after they were first seen."""
    rng = random.Random(seed)
    home.mkdir(parents=True)
    db = sqlite3.connect(home / "ledger.sqlite3", isolation_level=None)
    for script in MIGRATIONS[:schema]:
        for statement in statements(script):
            db.execute(statement)
    db.execute(f"PRAGMA user_version = {schema}")
    rows = []
    for n in range(count):
        night = START + dt.timedelta(days=n * NIGHTS // count)
        seen_at = dt.datetime.fromisoformat(night_start(night).replace("Z", "+00:00")) + dt.timedelta(
            hours=rng.choice((0, 3, 3, 10, 23)), minutes=rng.choice((0, 0, 7)))
        later = rng.random()
        updated_at = seen_at + (dt.timedelta(days=rng.randint(1, NIGHTS)) if later < 0.15 else
                                dt.timedelta(0) if later < 0.4 else dt.timedelta(hours=rng.randint(1, 20)))
        prefix = "OLD" if n < count // 10 else "MID" if count // 2 <= n < count // 2 + count // 10 else "hs"
        folder = "C:\\clinic\\sent\\" if n % 7 == 3 else "/srv/clinic/sent/"
        state = rng.choice(STATES)
        rows.append((f"{n:064x}", f"{folder}{prefix}{n:05d}.xml", rng.choice(("GIAMDINHHS", "CHECKIN", "KHAMSUCKHOE")),
                     rng.choice(("3176", "4750")), rng.choice(("79001", "79002", "01001")), "[]", "/x",
                     stamp(seen_at), stamp(updated_at), state))
    db.executemany("INSERT INTO documents (sha256, path, kind, standard, facility, ma_lks, endpoint, first_seen,"
                   " updated_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.close()


@pytest.fixture(scope="module")
def ledgers(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    base = tmp_path_factory.mktemp("plans")
    generate(base / "now")
    generate(base / "6", schema=6)
    generate(base / "5", schema=5)  # the same documents, as a ledger last written before migration 6
    return {len(MIGRATIONS): base / "now", 6: base / "6", 5: base / "5"}


def everything(home: Path) -> list[dict[str, Any]]:
    db = sqlite3.connect(home / "ledger.sqlite3")
    db.row_factory = sqlite3.Row
    rows = [dict(r) for r in db.execute("SELECT * FROM documents")]
    db.close()
    return rows


def brute(rows: list[dict[str, Any]], f: Filters, sort: str, descending: bool) -> list[int]:
    """The view, by filtering and sorting every row in Python."""

    def keep(r: dict[str, Any]) -> bool:
        name = r["path"].replace("\\", "/").rsplit("/", 1)[-1]
        return ((not f.states or r["state"] in f.states)
                and (not f.night_from or r["first_seen"] >= night_start(f.night_from))
                and (not f.night_to or r["first_seen"] < night_start(f.night_to + dt.timedelta(days=1)))
                and all(not getattr(f, c) or r[c] == getattr(f, c) for c in ("facility", "kind", "standard"))
                and (not f.name or name.lower().startswith(f.name.lower())))

    matches = [r for r in rows if keep(r)]
    matches.sort(key=lambda r: tuple(r[c] for c in store.SORTS[sort]), reverse=descending)
    return [int(r["id"]) for r in matches]


def pages(view: LedgerView, f: Filters, sort: str, descending: bool) -> list[list[int]]:
    """Every page forward from the first, then checked page by page back from the last."""
    out: list[list[int]] = []
    edge = None
    while True:
        result = view.documents(f, Page(sort=sort, descending=descending, size=7, after=edge))
        out.append([int(r["id"]) for r in result.rows])
        if result.next_after is None:
            break
        edge = result.next_after
    back = [out[-1]]
    before = result.prev_before
    while before is not None:
        result = view.documents(f, Page(sort=sort, descending=descending, size=7, before=before))
        back.append([int(r["id"]) for r in result.rows])
        before = result.prev_before
    assert back[::-1] == out, (f, sort, descending)
    return out


FILTERS = [
    Filters(),
    Filters(night_from=START, night_to=START + dt.timedelta(days=9)),  # the oldest quarter
    Filters(night_from=START + dt.timedelta(days=15), night_to=START + dt.timedelta(days=24)),
    Filters(night_from=START + dt.timedelta(days=30)),  # open-ended: to the end
    Filters(night_to=START + dt.timedelta(days=3)),  # open-ended: from the start
    Filters(night_from=START + dt.timedelta(days=90)),  # no night of it holds a document
    Filters(name="old"),  # bunched: the oldest tenth, any case
    Filters(name="MID"),  # bunched in the middle
    Filters(name="hs0"),
    Filters(name="OLD000"),
    Filters(facility="01001", kind="CHECKIN", states=("failed",)),
    Filters(facility="79002", kind="GIAMDINHHS", states=("accepted", "sent"), standard="4750"),
    Filters(facility="79001", kind="KHAMSUCKHOE"),
    Filters(states=("rejected",), night_from=START + dt.timedelta(days=5), night_to=START + dt.timedelta(days=30)),
    Filters(name="MID", night_from=START + dt.timedelta(days=21)),
    Filters(facility="99999"),
]
PLANS = {
    "default": {},
    "no-few": {"FEW": 0},  # every filter takes the walk, the name sort or the nights' merge
    "no-name-sort": {"FEW": 0, "NAME_SORTED": 0},
    "sort-all": {"FEW": 0, "NAME_SORTED": 0, "WALK": 3},  # the walk runs out: every match sorted
}


@pytest.mark.parametrize("schema", [len(MIGRATIONS), 6, 5])
@pytest.mark.parametrize("plan", list(PLANS))
@pytest.mark.parametrize("sort", ["seen", "updated", "state"])
def test_every_plan_gives_the_brute_force_pages(ledgers: dict[int, Path], monkeypatch: pytest.MonkeyPatch,
                                               schema: int, plan: str, sort: str) -> None:
    for name, value in PLANS[plan].items():
        monkeypatch.setattr(store, name, value)
    home = ledgers[schema]
    rows = everything(home)
    view = LedgerView(home)
    assert view.nightly == (schema >= 6)
    for f in FILTERS:
        for descending in (True, False):
            expected = brute(rows, f, sort, descending)
            got = pages(view, f, sort, descending)
            assert [i for page in got for i in page] == expected, (plan, f, sort, descending)
            assert all(len(page) == 7 for page in got[:-1])
    view.close()


def test_the_nights_merge_is_what_a_range_sorted_by_last_change_takes(ledgers: dict[int, Path],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Proved by the statements run: each night's index seek, then the page's rows by id; no sort of
    every match."""
    monkeypatch.setattr(store, "FEW", 100)  # more match: as a year of a million-document ledger
    view = LedgerView(ledgers[len(MIGRATIONS)])
    seen: list[str] = []
    view.db.set_trace_callback(seen.append)
    f = Filters(night_from=START, night_to=START + dt.timedelta(days=20))
    view.documents(f, Page(sort="updated"))
    view.db.set_trace_callback(None)
    merged = [s for s in seen if "INDEXED BY documents_night_updated" in s]
    assert len(merged) == 21  # one per night of the range that holds documents
    assert not [s for s in seen if "ORDER BY +updated_at" in s and "id IN" not in s]
    for sql in merged[:2]:
        plan = " ".join(r[3] for r in view.db.execute("EXPLAIN QUERY PLAN " + sql))
        assert "USING INDEX documents_night_updated (<expr>=?" in plan and "TEMP B-TREE" not in plan, plan
    view.close()


def plan_of(db: sqlite3.Connection, sql: str, args: tuple[Any, ...] = ()) -> str:
    return " | ".join(r[3] for r in db.execute("EXPLAIN QUERY PLAN " + sql, args))


def test_migrations_6_and_7_keep_every_document_and_count_and_their_indexes_serve_their_plans(
        ledgers: dict[int, Path], tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(ledgers[5], home)
    db = sqlite3.connect(home / "ledger.sqlite3")
    before = {t: db.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall()
              for t in ("documents", "night_counts", "document_lks", "failing_counts", "refusal_counts")}
    db.close()
    view = LedgerView(home)  # read-only: a ledger of schema 5 is read as it is
    old_page = view.documents(Filters(night_from=START), Page(sort="updated")).rows
    view.close()
    Ledger(home).close()  # what a writing command does: migrations 6 and 7
    db = sqlite3.connect(home / "ledger.sqlite3")
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    after = {t: db.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in before}
    assert after == before
    # the filters by equality together: counted in the index the planner picks, no row read
    for where in ("state IN ('failed') AND facility = '01001' AND kind = 'CHECKIN' AND standard = '3176'",
                  "facility = '01001' AND kind = 'CHECKIN'", "kind = 'CHECKIN' AND standard = '4750'",
                  "facility = '79002' AND standard = '4750' AND kind = 'GIAMDINHHS'"):
        plan = plan_of(db, f"SELECT count(*) FROM documents WHERE {where}")
        assert plan.startswith("SEARCH documents USING COVERING INDEX documents_"), (where, plan)
    # and each in the page's order, (first_seen, id) whole: nothing sorted again
    for column in ("state", "facility", "kind", "standard"):
        plan = plan_of(db, f"SELECT * FROM documents WHERE {column} = 'x' AND (first_seen, id) < ('2026', 9)"
                           " ORDER BY first_seen DESC, id DESC LIMIT 51")
        assert f"INDEX documents_{column}_seen" in plan and "TEMP B-TREE" not in plan, plan
    # a night's documents by last change: one seek, in order
    assert "SEARCH documents USING INDEX documents_night_updated (<expr>=? AND updated_at>?)" in plan_of(
        db, "SELECT updated_at, id FROM documents INDEXED BY documents_night_updated WHERE"
            " date(first_seen, '-5 hours') = '2026-10-02' AND (updated_at, id) > ('2026', 1) ORDER BY updated_at, id")
    # the counts kept by the triggers stay true after a write on the migrated ledger
    db.execute("UPDATE documents SET state = 'accepted', updated_at = '2027-01-01T00:00:00Z' WHERE id = 1")
    db.commit()
    assert db.execute("SELECT * FROM night_counts ORDER BY 1, 2").fetchall() == db.execute(
        "SELECT date(first_seen, '-5 hours') AS n, state, count(*) FROM documents GROUP BY n, state ORDER BY 1, 2"
    ).fetchall()
    db.close()
    view = LedgerView(home)
    assert view.nightly
    assert view.documents(Filters(night_from=START), Page(sort="updated")).rows[0]["id"] == 1
    assert old_page and old_page[0]["id"] != 1
    view.close()


def test_a_ledger_of_schema_6_written_by_the_ledger_itself_reads_the_same(tmp_path: Path) -> None:
    """The real writer (record, attempts, results) on a fresh ledger: the nights' merge sees its changes."""
    from tests.dashboard_helpers import Doc, fill

    docs = [Doc(f"n{i}.xml", ("accepted", "rejected", "sent")[i % 3], stamp(
        dt.datetime(2026, 11, 1, 6, tzinfo=dt.UTC) + dt.timedelta(hours=7 * i))) for i in range(40)]
    fill(tmp_path / "home", docs)
    view = LedgerView(tmp_path / "home")
    f = Filters(night_from=dt.date(2026, 11, 1), night_to=dt.date(2026, 11, 9))
    rows = everything(tmp_path / "home")
    for descending in (True, False):
        assert [i for page in pages(view, f, "updated", descending) for i in page] == brute(rows, f, "updated",
                                                                                            descending)
    view.close()
