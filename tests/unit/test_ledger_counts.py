"""The counts the ledger keeps per night (migration 5) for the dashboard's chart and "what keeps
failing": true after every kind of write the ledger makes (new documents, attempts, resends, results,
refusals, a state changed by hand, a deletion), filled in when an older ledger is migrated, and the
dashboard's answers from them equal the answers counted from the documents themselves."""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from sohs_cli.dashboard.store import COUNTED_SCHEMA, Filters, LedgerView, Page, night_of
from sohs_cli.submission.ledger import MIGRATIONS, DocumentInfo, Ledger, statements
from tests.dashboard_helpers import CARD_ERROR, DATE_ERROR

LOCAL = {"code": "xsd:length", "severity": "error", "element": "MA_THE_BHYT", "label": "Mã thẻ BHYT",
         "message_en": "14 characters", "message_vi": "14 ký tự", "line": 17}
NO_FIELD = {"maLoi": "signature", "moTa": "chữ ký không hợp lệ"}  # an error without a field
FIRST, LAST = dt.date(2026, 11, 25), dt.date(2026, 12, 3)
FIELD_QUERIES = [("MA_THE_BHYT", ""), ("NGAY_RA", ""), ("", "card-length"), ("", "125"), ("", "xsd:length"),
                 ("MA_THE_BHYT", "xsd:length"), ("NOPE", ""), ("", "signature")]


def truth(db: sqlite3.Connection) -> tuple[dict[Any, int], dict[Any, tuple[int, int]], dict[Any, int]]:
    """The three counts computed in Python from the documents, independently of the SQL."""
    nights: dict[Any, int] = {}
    failing: dict[Any, tuple[int, int]] = {}
    refusals: dict[Any, int] = {}
    for seen, state, tx, errors, code in db.execute(
            "SELECT first_seen, state, transaction_id, errors, portal_code FROM documents"):
        night = night_of(seen).isoformat()
        nights[night, state] = nights.get((night, state), 0) + 1
        if state != "rejected":
            continue
        if errors == "[]":
            refusals[night, code] = refusals.get((night, code), 0) + 1
        per: dict[tuple[str, str], int] = {}
        for e in parsed(errors):
            key = (str(e.get("truong", e.get("element", ""))), str(e.get("maLoi", e.get("code", ""))))
            per[key] = per.get(key, 0) + 1
        for (field, rule), n in per.items():
            errs, docs = failing.get((night, int(bool(tx)), field, rule), (0, 0))
            failing[night, int(bool(tx)), field, rule] = (errs + n, docs + 1)
    return nights, failing, refusals


def parsed(errors: str) -> list[dict[str, Any]]:
    try:
        value = json.loads(errors)
    except ValueError:
        return []
    return [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []


def listed_truth(db: sqlite3.Connection) -> set[tuple[int, str, str]]:
    """Each document's (id, field, rule) for every field error it holds, whatever its state."""
    out = set()
    for doc_id, errors in db.execute("SELECT id, errors FROM documents"):
        for e in parsed(errors):
            out.add((doc_id, str(e.get("truong", e.get("element", ""))), str(e.get("maLoi", e.get("code", "")))))
    return out


def listed(db: sqlite3.Connection) -> set[tuple[int, str, str]]:
    return {tuple(r) for r in db.execute("SELECT document_id, field, rule FROM document_errors")}  # type: ignore[misc]


def kept(db: sqlite3.Connection) -> tuple[dict[Any, int], dict[Any, tuple[int, int]], dict[Any, int]]:
    nights = {(n, s): c for n, s, c in db.execute("SELECT night, state, documents FROM night_counts")}
    failing = {(n, s, f, r): (e, d) for n, s, f, r, e, d in
               db.execute("SELECT night, sent, field, rule, errors, documents FROM failing_counts")}
    refusals = {(n, c): d for n, c, d in db.execute("SELECT night, code, documents FROM refusal_counts")}
    return nights, failing, refusals


def stamp(rng: random.Random) -> str:
    at = dt.datetime(2026, 11, 25, tzinfo=dt.UTC) + dt.timedelta(seconds=rng.randrange(9 * 86400))
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_at_random(ledger: Ledger, rng: random.Random, steps: int) -> None:
    """What sohs run, submit, status and a person do to a ledger, in a random order."""
    ids: list[int] = []
    for step in range(steps):
        roll = rng.random()
        if roll < 0.25 or not ids:
            info = DocumentInfo(f"{rng.getrandbits(128):064x}", f"/c/d{step}.xml", "GIAMDINHHS", "3176", "79001",
                                (f"LK{step}",), "/api/qd130/guiHoSoXmlQD3176")
            ids.append(ledger.record(info))
            ledger.db.execute("UPDATE documents SET first_seen = ? WHERE id = ?", (stamp(rng), ids[-1]))
            continue
        doc = rng.choice(ids)
        if roll < 0.32:
            ledger.record_refused(f"{rng.getrandbits(128):064x}", f"/c/r{step}.xml", "79001", "not sent",
                                  rng.sample([LOCAL, LOCAL, NO_FIELD], rng.randint(0, 3)))
            continue
        if roll < 0.75:  # an attempt (a resend of a delivered one too), as submission makes it
            attempt = ledger.begin_attempt(doc, "/api/qd130/guiHoSoXmlQD3176")
            outcome = rng.choice(["accepted", "rejected", "unavailable", "ambiguous", "interrupted"])
            tx = f"TX{rng.getrandbits(32)}" if outcome == "accepted" else ""
            ledger.finish_attempt(attempt, outcome, code="200" if tx else rng.choice(["125", "503", ""]),
                                  transaction_id=tx, message=rng.choice(["", "Chữ ký số không hợp lệ"]))
        elif roll < 0.9:  # the portal's result
            state = rng.choice(["accepted", "rejected"])
            errors = rng.sample([CARD_ERROR, DATE_ERROR, NO_FIELD, CARD_ERROR], rng.randint(0, 3)) \
                if state == "rejected" else []
            ledger.set_result(doc, state, errors, "20261201223500", message=rng.choice(["", "Có lỗi"]))
        elif roll < 0.95:  # moved in time or in state by hand (sqlite3 on the ledger)
            ledger.db.execute("UPDATE documents SET first_seen = ?, state = ? WHERE id = ?",
                              (stamp(rng), rng.choice(["pending", "rejected", "sent"]), doc))
        else:
            ledger.db.execute("DELETE FROM attempts WHERE document_id = ?", (doc,))
            ledger.db.execute("DELETE FROM document_lks WHERE document_id = ?", (doc,))
            ledger.db.execute("DELETE FROM documents WHERE id = ?", (doc,))
            ids.remove(doc)


@pytest.mark.parametrize("seed", range(4))
def test_the_counts_stay_true_after_every_write(tmp_path: Path, seed: int) -> None:
    ledger = Ledger(tmp_path / "home")
    write_at_random(ledger, random.Random(seed), 400)
    assert kept(ledger.db) == truth(ledger.db)
    assert listed(ledger.db) == listed_truth(ledger.db)
    assert ledger.db.execute("SELECT count(*) FROM night_counts WHERE documents <= 0").fetchone()[0] == 0
    ledger.close()
    same_answers(tmp_path / "home")


def same_answers(home: Path) -> None:
    """The dashboard answers alike from the kept counts and from counting the documents."""
    view = LedgerView(home)
    assert view.counted
    counted = view.nights(FIRST, LAST), view.failing(FIRST, LAST), view.failing(LAST, LAST)
    by_errors = [[r["id"] for r in view.documents(Filters(field=f, rule=r), Page(size=200)).rows]
                 for f, r in FIELD_QUERIES]
    view.counted = False
    counted_again = view.nights(FIRST, LAST), view.failing(FIRST, LAST), view.failing(LAST, LAST)
    assert by_errors == [[r["id"] for r in view.documents(Filters(field=f, rule=r), Page(size=200)).rows]
                         for f, r in FIELD_QUERIES]
    assert any(by_errors)
    view.close()
    for fast, slow in zip(counted, counted_again, strict=True):
        if isinstance(fast, dict):  # examples may differ (any one of the messages); the counts may not
            for key in fast:
                assert [without_examples(r) for r in fast[key]] == [without_examples(r) for r in slow[key]], key
        else:
            assert fast == slow
    assert sum(n["total"] for n in counted[0]) > 0


def without_examples(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in ("example", "example_vi", "example_en")}


def older_ledger(home: Path) -> None:
    """A ledger as sohs wrote it before migration 5 (schema 4), with documents of every kind."""
    home.mkdir(parents=True)
    db = sqlite3.connect(home / "ledger.sqlite3", isolation_level=None)
    for script in MIGRATIONS[:COUNTED_SCHEMA - 1]:
        for statement in statements(script):
            db.execute(statement)
    db.execute(f"PRAGMA user_version = {COUNTED_SCHEMA - 1}")
    rows = [("accepted", "2026-11-30T05:00:00Z", "TX1", "[]", "200", ""),
            ("rejected", "2026-11-30T16:00:00Z", "TX2", json.dumps([CARD_ERROR, DATE_ERROR]), "200", ""),
            ("rejected", "2026-12-01T04:59:59Z", "TX3", json.dumps([CARD_ERROR, CARD_ERROR]), "200", ""),
            ("rejected", "2026-12-01T16:30:00Z", "", "[]", "125", "Chữ ký số không hợp lệ"),
            ("rejected", "2026-12-01T17:00:00Z", "", json.dumps([LOCAL, NO_FIELD]), "", "not sent"),
            ("rejected", "2026-12-01T17:00:01Z", "", "not json", "", "a hand-edited row"),
            ("pending", "2026-12-02T01:00:00Z", "", "[]", "", ""),
            ("failed", "2026-11-29T10:00:00Z", "", "[]", "", "HTTP 503")]
    for i, (state, seen, tx, errors, code, message) in enumerate(rows):
        db.execute("INSERT INTO documents (sha256, path, kind, standard, facility, ma_lks, endpoint, first_seen,"
                   " updated_at, state, portal_code, transaction_id, message, errors)"
                   " VALUES (?, ?, 'GIAMDINHHS', '3176', '79001', '[]', '/x', ?, ?, ?, ?, ?, ?, ?)",
                   (f"{i:064x}", f"/c/{i}.xml", seen, seen, state, code, tx, message, errors))
    db.close()


def test_an_older_ledger_is_read_by_counting_then_migrated_with_its_counts_filled(tmp_path: Path) -> None:
    home = tmp_path / "home"
    older_ledger(home)
    view = LedgerView(home)  # read-only: it does not migrate, it counts from the documents
    assert not view.counted
    before = view.nights(FIRST, LAST), view.failing(FIRST, LAST)
    view.close()
    assert {n["night"]: n["rejected"] for n in before[0] if n["rejected"]} == {"2026-11-30": 2, "2026-12-01": 3}
    ledger = Ledger(home)  # a writing command migrates, filling the counts from the documents there
    assert ledger.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    db = ledger.db
    nights, failing, refusals = kept(db)
    malformed = db.execute("SELECT first_seen FROM documents WHERE errors = 'not json'").fetchone()[0]
    assert nights == truth(db)[0]
    assert listed(db) == listed_truth(db)
    assert refusals == truth(db)[2]
    assert failing[night_of(malformed).isoformat(), 0, "MA_THE_BHYT", "xsd:length"] == (1, 1)
    assert failing["2026-11-30", 1, "MA_THE_BHYT", "card-length"] == (3, 2)  # two errors in one document
    ledger.close()
    view = LedgerView(home)
    assert view.counted
    after = view.nights(FIRST, LAST), view.failing(FIRST, LAST)
    view.close()
    assert after[0] == before[0]
    assert [without_examples(r) for r in after[1]["fields"]] == [without_examples(r) for r in before[1]["fields"]]
    same_answers(home)


def test_a_malformed_errors_value_never_fails_a_write(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "home")
    doc = ledger.record(DocumentInfo("a" * 64, "/c/a.xml", "GIAMDINHHS", "3176", "79001", ("LK1",), "/x"))
    ledger.db.execute("UPDATE documents SET state = 'rejected', errors = '{broken' WHERE id = ?", (doc,))
    ledger.db.execute("UPDATE documents SET errors = '[\"text\", 3, null]' WHERE id = ?", (doc,))
    ledger.set_result(doc, "accepted", [], "20261201223500")
    assert kept(ledger.db) == truth(ledger.db)
    assert listed(ledger.db) == listed_truth(ledger.db) == set()
    ledger.close()
