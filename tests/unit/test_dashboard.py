"""The dashboard's API and pages, in-process: every filter, nights in Vietnam time, keyset paging, the
token rule, read-only access, headers, escaping, and exports shaped like `sohs status`."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sohs_cli.cli.app import build_app
from sohs_cli.dashboard.store import LedgerView, night_of, night_start
from sohs_cli.foundation.errors import ConfigError, UsageError
from tests.dashboard_helpers import CARD_ERROR, DATE_ERROR, Doc, api, app, call, fill, get

NIGHT1, NIGHT2 = "2026-11-30", "2026-12-01"
DOCS = [
    # night of 30 Nov: from 30 Nov 05:00Z (12:00 Vietnam time) to 1 Dec 05:00Z
    Doc("a1.signed.xml", "accepted", "2026-11-30T05:00:00Z", ma_lks=("LK1",)),
    Doc("a2.signed.xml", "rejected", "2026-11-30T16:00:00Z", ma_lks=("LK2",), errors=[CARD_ERROR]),
    Doc("a3.signed.xml", "rejected", "2026-12-01T04:59:59Z", facility="01001", ma_lks=("LK3",),
        errors=[CARD_ERROR, DATE_ERROR]),
    # night of 1 Dec
    Doc("b1.signed.xml", "accepted", "2026-12-01T05:00:00Z", kind="CHECKIN", standard="4750", ma_lks=("LK4",)),
    Doc("b2_50%.signed.xml", "sent", "2026-12-01T15:00:00Z", ma_lks=("LK5", "LK6")),
    Doc("b3.signed.xml", "failed", "2026-12-01T15:30:00Z", ma_lks=("LK7",)),
    Doc("b4.signed.xml", "pending", "2026-12-01T16:00:00Z", ma_lks=("LK8",)),
    Doc("b5.signed.xml", "rejected", "2026-12-01T16:30:00Z", ma_lks=("LK9",), code="125",
        message="Chữ ký số không hợp lệ"),
    # the night before: 30 Nov 04:59Z is 11:59 Vietnam time on 30 Nov
    Doc("z0.signed.xml", "accepted", "2026-11-30T04:59:59Z", ma_lks=("LK0",)),
]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    fill(tmp_path / "home", DOCS, tmp_path / "clinic" / "sent")
    return tmp_path / "home"


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same ledger for the tests that only read it."""
    base = tmp_path_factory.mktemp("dashboard")
    fill(base / "home", DOCS, base / "clinic" / "sent")
    return base / "home"


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Path:
    states = ("accepted", "rejected", "sent", "failed", "pending")
    docs = [Doc(f"d{i:03d}.xml", states[i % 5], f"2026-12-01T{10 + i // 60:02d}:{i % 60:02d}:00Z",
                ma_lks=(f"LK{i}",)) for i in range(130)]
    docs += [Doc(f"tie{i}.xml", "accepted", "2026-12-01T09:00:00Z") for i in range(30)]  # equal keys
    home = tmp_path_factory.mktemp("many") / "home"
    fill(home, docs)
    return home


def names(answer: dict[str, object]) -> set[str]:
    return {Path(str(d["path"])).name for d in answer["documents"]}  # type: ignore[attr-defined]


def test_a_night_runs_from_noon_to_noon_vietnam_time() -> None:
    assert night_of("2026-11-30T04:59:59Z") == dt.date(2026, 11, 29)
    assert night_of("2026-11-30T05:00:00Z") == dt.date(2026, 11, 30)  # 12:00 in Hanoi
    assert night_of("2026-11-30T16:30:00Z") == dt.date(2026, 11, 30)  # 23:30 in Hanoi
    assert night_of("2026-11-30T21:00:00Z") == dt.date(2026, 11, 30)  # 04:00 on 1 Dec in Hanoi
    assert night_start(dt.date(2026, 12, 1)) == "2026-12-01T05:00:00Z"


def test_nights_count_each_state_per_night(home: Path) -> None:
    data = api(app(home), f"/api/nights?from=2026-11-29&to={NIGHT2}")
    by_night = {n["night"]: n for n in data["nights"]}
    assert list(by_night) == ["2026-11-29", NIGHT1, NIGHT2]  # every night, even an empty one
    assert {k: by_night[NIGHT1][k] for k in ("accepted", "rejected", "total")} == {"accepted": 1, "rejected": 2,
                                                                                 "total": 3}
    assert {k: by_night[NIGHT2][k] for k in ("accepted", "sent", "failed", "pending", "rejected", "total")} == \
        {"accepted": 1, "sent": 1, "failed": 1, "pending": 1, "rejected": 1, "total": 5}
    assert by_night["2026-11-29"]["total"] == 1 and data["total"] == 9
    default = api(app(home), "/api/nights")  # the last 30 nights, ending tonight
    assert len(default["nights"]) == 30
    assert default["to"] == (dt.datetime.now(dt.UTC) + dt.timedelta(hours=7 - 12)).date().isoformat()


@pytest.mark.parametrize(("query", "expected"), [
    ("state=rejected", {"a2.signed.xml", "a3.signed.xml", "b5.signed.xml"}),
    ("state=sent&state=failed", {"b2_50%.signed.xml", "b3.signed.xml"}),
    ("state=pending,accepted", {"a1.signed.xml", "b1.signed.xml", "b4.signed.xml", "z0.signed.xml"}),
    (f"from={NIGHT1}&to={NIGHT1}", {"a1.signed.xml", "a2.signed.xml", "a3.signed.xml"}),
    (f"from={NIGHT2}", {"b1.signed.xml", "b2_50%.signed.xml", "b3.signed.xml", "b4.signed.xml", "b5.signed.xml"}),
    ("to=2026-11-29", {"z0.signed.xml"}),
    ("facility=01001", {"a3.signed.xml"}),
    ("kind=CHECKIN", {"b1.signed.xml"}),
    ("standard=4750", {"b1.signed.xml"}),
    ("ma_lk=LK6", {"b2_50%.signed.xml"}),
    ("name=b2", {"b2_50%.signed.xml"}),  # the start of the file name
    ("name=B2_50%25", {"b2_50%.signed.xml"}),  # whatever the case; % and _ are letters here, not wildcards
    ("name=b_", set()),
    ("name=signed", set()),  # not the middle of a name
    ("name=sent", set()),  # nor its folder
    ("name=a", {"a1.signed.xml", "a2.signed.xml", "a3.signed.xml"}),
    ("field=NGAY_RA", {"a3.signed.xml"}),
    ("field=MA_THE_BHYT&facility=79001", {"a2.signed.xml"}),
    ("rule=card-length", {"a2.signed.xml", "a3.signed.xml"}),
    ("rule=125", {"b5.signed.xml"}),
    ("field=NGAY_RA&state=accepted", set()),
    ("state=rejected&from=2026-12-01&ma_lk=LK9", {"b5.signed.xml"}),
    ("ma_lk=NOPE", set()),
])
def test_every_filter_narrows_the_documents(shared: Path, query: str, expected: set[str]) -> None:
    answer = api(app(shared), f"/api/documents?{query}")
    assert names(answer) == expected
    assert answer["total"] == len(expected)


@pytest.mark.parametrize("query", ["state=nonsense", "state=rejected,sen", "from=yesterday", "to=2026-13-01",
                                   "sort=path", "order=up", "size=1000", "after=x"])
def test_a_parameter_it_cannot_take_is_refused_by_name(shared: Path, query: str) -> None:
    dashboard = app(shared)
    for path in ("/api/documents", "/api/export.json", "/documents", "/export.csv"):
        r = get(dashboard, f"{path}?{query}")
        assert r.status_code == 400, (path, query)
        assert query.split("=")[0] + "=" in r.text
    if query.startswith(("from", "to")):
        assert get(dashboard, f"/api/nights?{query}").status_code == 400
        assert get(dashboard, f"/failing?{query}").status_code == 400


@pytest.mark.parametrize("sort", ["seen", "updated", "state"])
@pytest.mark.parametrize("order", ["desc", "asc"])
def test_keyset_pages_walk_every_document_once_in_order(many: Path, sort: str, order: str) -> None:
    dashboard = app(many)
    seen: list[int] = []
    pages: list[list[int]] = []
    after = ""
    while True:
        page = api(dashboard, f"/api/documents?sort={sort}&order={order}&size=25{after}")
        pages.append([d["id"] for d in page["documents"]])
        seen += pages[-1]
        assert (page["page"]["prev_before"] is None) == (after == "")
        if page["page"]["next_after"] is None:
            break
        after = f"&after={page['page']['next_after']}"
    # and back, page by page, from the last one to the first
    back = [pages[-1]]
    before = page["page"]["prev_before"]
    while before is not None:
        page = api(dashboard, f"/api/documents?sort={sort}&order={order}&size=25&before={before}")
        back.append([d["id"] for d in page["documents"]])
        assert page["page"]["next_after"] == back[-1][-1]
        before = page["page"]["prev_before"]
    assert back[::-1] == pages
    db = sqlite3.connect(many / "ledger.sqlite3")
    columns = {"seen": "first_seen, id", "updated": "updated_at, id", "state": "state, first_seen, id"}[sort]
    direction = " DESC" if order == "desc" else ""
    expected = [r[0] for r in db.execute(
        f"SELECT id FROM documents ORDER BY {', '.join(c + direction for c in columns.split(', '))}")]
    assert seen == expected and len(set(seen)) == 160


@pytest.mark.parametrize("plan", ["few", "walk", "sort-all"])
@pytest.mark.parametrize("sort", ["seen", "updated", "state"])
@pytest.mark.parametrize("order", ["desc", "asc"])
def test_every_plan_pages_a_filtered_view_alike(many: Path, monkeypatch: pytest.MonkeyPatch, plan: str, sort: str,
                                                 order: str) -> None:
    """The three ways a filtered page is read (few matches sorted; the sort's index walked; every match
    sorted, when the walk runs out) give the same pages, forward and back."""
    from sohs_cli.dashboard import store

    if plan != "few":
        monkeypatch.setattr(store, "FEW", 0)
    if plan == "sort-all":
        monkeypatch.setattr(store, "WALK", 3)  # too few entries to find a page in: every match is sorted
    view = LedgerView(many)
    db = sqlite3.connect(many / "ledger.sqlite3")
    columns = {"seen": "first_seen, id", "updated": "updated_at, id", "state": "state, first_seen, id"}[sort]
    direction = " DESC" if order == "desc" else ""
    ordering = ", ".join(c + direction for c in columns.split(", "))
    for filters, sql in [(store.Filters(states=("rejected", "sent")), "state IN ('rejected', 'sent')"),
                         (store.Filters(name="D00"), "path LIKE '%/d00%'"),  # bunched: the ten oldest
                         (store.Filters(name="tie"), "path LIKE '%/tie%'"),
                         (store.Filters(kind="GIAMDINHHS", night_from=dt.date(2026, 11, 30)), "kind = 'GIAMDINHHS'"),
                         (store.Filters(field="NGAY_RA"), "0")]:
        expected = [r[0] for r in db.execute(f"SELECT id FROM documents WHERE {sql} ORDER BY {ordering}")]
        pages: list[list[int]] = []
        edge = None
        while True:
            result = view.documents(filters, store.Page(sort=sort, descending=order == "desc", size=4, after=edge))
            pages.append([int(r["id"]) for r in result.rows])
            assert result.total == len(expected) or (result.total == -1 and not pages[-1])
            if result.next_after is None:
                break
            edge = result.next_after
        assert [i for page in pages for i in page] == expected, (plan, filters)
        back = [pages[-1]]
        before = result.prev_before
        while before is not None:
            result = view.documents(filters, store.Page(sort=sort, descending=order == "desc", size=4, before=before))
            back.append([int(r["id"]) for r in result.rows])
            before = result.prev_before
        assert back[::-1] == pages, (plan, filters)
    view.close()


QUERIES = ["", "state=rejected", "state=sent&state=failed", f"from={NIGHT1}&to={NIGHT2}", "facility=01001",
           "kind=CHECKIN", "standard=4750", "ma_lk=LK6", "name=b2", "field=NGAY_RA", "rule=125",
           "sort=updated&order=asc", "sort=state", "after=3", "sort=state&after=3&state=rejected",
           "facility=79001&kind=GIAMDINHHS&from=2026-12-01"]


@pytest.mark.parametrize("query", QUERIES)
def test_no_page_scans_the_documents_table(shared: Path, query: str) -> None:
    """Every statement a page runs is served by an index of the ledger (migrations 2 and 3): a scan of
    a million documents takes half a second (bench/dashboard_bench.py)."""
    dashboard = app(shared)
    db = dashboard.views.ledger.db
    statements: list[str] = []
    db.set_trace_callback(statements.append)
    api(dashboard, f"/api/documents?{query}")
    api(dashboard, f"/api/nights?from={NIGHT1}&to={NIGHT2}")
    api(dashboard, "/api/health")
    db.set_trace_callback(None)
    for sql in statements:
        if sql.startswith("SELECT"):
            plan = [r[3] for r in db.execute("EXPLAIN QUERY PLAN " + sql)]
            assert not [p for p in plan if p in ("SCAN documents", "SCAN attempts")], (sql, plan)


def test_an_old_ledger_is_refused_with_what_to_do(tmp_path: Path) -> None:
    from sohs_cli.dashboard.store import MIN_SCHEMA
    from sohs_cli.submission.ledger import Ledger

    Ledger(tmp_path / "home").close()
    db = sqlite3.connect(tmp_path / "home" / "ledger.sqlite3")
    db.execute(f"PRAGMA user_version = {MIN_SCHEMA - 1}")
    db.commit()
    db.close()
    with pytest.raises(ConfigError, match="older than this sohs") as caught:
        app(tmp_path / "home")
    assert "sohs status" in caught.value.hint


def test_the_ledger_is_opened_read_only_and_a_write_is_refused(home: Path) -> None:
    before = hashlib.sha256((home / "ledger.sqlite3").read_bytes()).hexdigest()
    view = LedgerView(home)
    with pytest.raises(sqlite3.OperationalError, match=r"readonly|read-only|query_only"):
        view.db.execute("UPDATE documents SET state = 'accepted'")
    with pytest.raises(sqlite3.OperationalError):
        view.db.execute("CREATE TABLE x(y)")
    view.db.execute("PRAGMA query_only = OFF")  # even without the pragma, mode=ro refuses
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        view.db.execute("DELETE FROM documents")
    view.close()
    dashboard = app(home)
    for path in ("/", "/documents", "/documents/2", "/failing", "/health", "/api/nights", "/export.csv"):
        assert get(dashboard, path).status_code == 200, path
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        assert call(dashboard, method, "/api/documents/1").status_code == 405
    dashboard.views.ledger.close()
    assert hashlib.sha256((home / "ledger.sqlite3").read_bytes()).hexdigest() == before
    assert LedgerView(home).db.execute("SELECT count(*) FROM documents WHERE state = 'accepted'").fetchone()[0] == 3


def test_no_ledger_yet_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no ledger in"):
        app(tmp_path / "empty")
    assert not (tmp_path / "empty" / "ledger.sqlite3").exists()  # and none is created


PATHS = ("/", "/nights?from=2026-11-01", "/documents?state=rejected", "/documents/2", "/documents/999", "/failing",
         "/health", "/api/nights", "/api/documents", "/api/documents/2", "/api/documents/999", "/api/failing",
         "/api/health", "/export.csv", "/export.json", "/static/dashboard.css", "/static/dashboard.js", "/nope",
         "/login", "/lang?to=en&next=/documents")


def assert_not_cacheable(r: object) -> None:
    headers = r.headers  # type: ignore[attr-defined]
    assert headers["cache-control"] == "no-store"
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp and "http" not in csp
    assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"


def test_every_answer_is_no_store_with_security_headers(home: Path, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("s3cret-token-for-the-dashboard\n")
    for dashboard, headers in ((app(home), {}),
                               (app(home, token_file=str(token)), {}),  # 401s and redirects too
                               (app(home, token_file=str(token)),
                                {"authorization": "Bearer s3cret-token-for-the-dashboard"})):
        for path in PATHS:
            assert_not_cacheable(get(dashboard, path, headers=headers))
        assert_not_cacheable(call(dashboard, "POST", "/login", data={"token": "wrong-token-0000000"}))


def test_the_token_rule(home: Path, tmp_path: Path) -> None:
    secret = "s3cret-token-for-the-dashboard"
    (tmp_path / "token").write_text(secret + "\nsecond line ignored\n")
    dashboard = app(home, token_file=str(tmp_path / "token"), host="0.0.0.0")
    assert get(dashboard, "/api/documents").status_code == 401
    assert get(dashboard, "/export.csv").status_code in (303, 401)
    assert get(dashboard, "/api/documents", headers={"authorization": "Bearer wrong"}).status_code == 401
    assert get(dashboard, "/api/documents", headers={"authorization": f"Bearer {secret}x"}).status_code == 401
    assert get(dashboard, "/api/documents", headers={"authorization": f"Bearer {secret}"}).status_code == 200
    page = get(dashboard, "/documents?state=rejected")
    assert page.status_code == 303 and page.headers["location"].startswith("/login?next=")
    form = get(dashboard, page.headers["location"])
    assert form.status_code == 200 and 'name="token"' in form.text
    wrong = call(dashboard, "POST", "/login?next=/documents", data={"token": "not-it"})
    assert wrong.status_code == 401 and "set-cookie" not in wrong.headers
    right = call(dashboard, "POST", "/login?next=/documents%3Fstate%3Drejected", data={"token": secret})
    assert right.status_code == 303 and right.headers["location"] == "/documents?state=rejected"
    cookie = right.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and secret not in cookie
    session = cookie.split(";")[0]
    assert get(dashboard, "/documents", headers={"cookie": session}).status_code == 200
    assert get(dashboard, "/api/health", headers={"cookie": session}).status_code == 200
    assert get(dashboard, "/documents", headers={"cookie": session + "0"}).status_code == 303
    assert get(dashboard, "/documents", headers={"cookie": f"sohs_session={secret}"}).status_code == 303
    # a redirect after login stays on this server
    away = call(dashboard, "POST", "/login?next=//evil.example/", data={"token": secret})
    assert away.headers["location"] == "/"
    # any Host is fine with a token (it guards every request); none of the answers holds it
    answers = [get(dashboard, p, headers={"authorization": f"Bearer {secret}", "host": "clinic.lan"}) for p in PATHS]
    assert all(secret not in r.text and secret not in str(r.headers) for r in answers)


def test_wrong_tokens_from_one_address_wait_out_the_window(home: Path, tmp_path: Path) -> None:
    from sohs_cli.dashboard.web import LOGIN_TRIES, LOGIN_WINDOW

    secret = "s3cret-token-for-the-dashboard"
    (tmp_path / "token").write_text(secret)
    dashboard = app(home, token_file=str(tmp_path / "token"), host="0.0.0.0")
    now = [1000.0]
    dashboard.clock = lambda: now[0]
    for i in range(LOGIN_TRIES):
        if i % 2:
            wrong = call(dashboard, "POST", "/login", data={"token": f"guess-{i}"}, client="10.0.0.9")
        else:
            wrong = get(dashboard, "/api/health", headers={"authorization": f"Bearer guess-{i}"}, client="10.0.0.9")
        assert wrong.status_code == 401
    # that address now waits, even with the right token; another address does not
    held = call(dashboard, "POST", "/login", data={"token": secret}, client="10.0.0.9")
    assert held.status_code == 429 and int(held.headers["retry-after"]) == LOGIN_WINDOW
    assert "set-cookie" not in held.headers and 'id="login-wait"' in held.text and "5 phút" in held.text
    api_held = get(dashboard, "/api/health", headers={"authorization": f"Bearer {secret}"}, client="10.0.0.9")
    assert api_held.status_code == 429 and "try again" in api_held.json()["error"]
    assert get(dashboard, "/api/health", headers={"authorization": f"Bearer {secret}"},
               client="10.0.0.10").status_code == 200
    assert secret not in held.text + api_held.text
    now[0] += LOGIN_WINDOW - 1
    assert call(dashboard, "POST", "/login", data={"token": secret}, client="10.0.0.9").status_code == 429
    now[0] += 1.5  # the first wrong token has left the window
    assert call(dashboard, "POST", "/login", data={"token": secret}, client="10.0.0.9").status_code == 303


def test_the_session_cookie_is_secure_over_https_only(home: Path, tmp_path: Path) -> None:
    secret = "s3cret-token-for-the-dashboard"
    (tmp_path / "token").write_text(secret)
    dashboard = app(home, token_file=str(tmp_path / "token"), host="0.0.0.0")
    over_https = call(dashboard, "POST", "/login", data={"token": secret}, scheme="https")
    assert over_https.status_code == 303 and "; Secure" in over_https.headers["set-cookie"]
    over_http = call(dashboard, "POST", "/login", data={"token": secret})
    assert "Secure" not in over_http.headers["set-cookie"]  # never sent back over http: no sign-in would hold
    lang = get(dashboard, "/lang?to=en", scheme="https", headers={"authorization": f"Bearer {secret}"})
    assert "; Secure" in lang.headers["set-cookie"]


def test_without_a_token_only_loopback_is_served(home: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"--host 0\.0\.0\.0"):
        app(home, host="0.0.0.0")
    with pytest.raises(UsageError):
        app(home, host="192.168.1.20")
    for loop in ("127.0.0.1", "::1", "localhost", "127.0.0.2"):
        app(home, host=loop).views.ledger.close()
    dashboard = app(home)
    for host in ("127.0.0.1:8765", "localhost:8765", "[::1]:8765", "localhost"):
        assert get(dashboard, "/api/health", headers={"host": host}).status_code == 200, host
    for host in ("evil.example", "evil.example:8765", "127.0.0.1.evil.example"):  # DNS rebinding
        assert get(dashboard, "/api/health", headers={"host": host}).status_code == 421, host
    (tmp_path / "short").write_text("tooshort\n")
    with pytest.raises(ConfigError, match="at least 16 characters"):
        app(home, token_file=str(tmp_path / "short"))
    with pytest.raises(ConfigError, match="cannot be read"):
        app(home, token_file=str(tmp_path / "missing"))


def test_the_cli_refuses_another_address_without_a_token(home: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(build_app(["dashboard"]), ["dashboard", "--home", str(home), "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "--token-file" in result.output
    (tmp_path / "weak").write_text("abc\n")
    result = runner.invoke(build_app(["dashboard"]), ["dashboard", "--home", str(home), "--host", "0.0.0.0"],
                           env={"SOHS_DASHBOARD_TOKEN_FILE": str(tmp_path / "weak")})
    assert result.exit_code == 3 and "abc" not in result.output
    result = runner.invoke(build_app(["dashboard"]), ["dashboard", "--home", str(tmp_path / "nothing")])
    assert result.exit_code == 3 and "no ledger" in result.output


def test_nothing_secret_leaves(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    portal_password, key_password = "portal-Pa55word-xyz", "p12-Pa55word-abc"
    (tmp_path / "p12pass").write_text(key_password + "\n")
    os.chmod(tmp_path / "p12pass", 0o600)
    (tmp_path / "sohs.toml").write_text(
        f'[portal]\nurl = "http://127.0.0.1:9"\n[signing]\np12 = "clinic.p12"\npassword_file = '
        f'"{tmp_path / "p12pass"}"\n', encoding="utf-8")
    monkeypatch.setenv("SOHS_PORTAL_PASSWORD", portal_password)
    dashboard = app(home, config=str(tmp_path / "sohs.toml"))
    for path in PATHS:
        r = get(dashboard, path)
        assert portal_password not in r.text and key_password not in r.text, path
        assert "p12pass" not in r.text, path  # not even where a secret lives


def test_data_is_escaped_everywhere(tmp_path: Path) -> None:
    evil = "<script>alert(1)</script>"
    fill(tmp_path / "home", [Doc(f"x{evil}.xml", "rejected", "2026-12-01T16:00:00Z", ma_lks=(f"LK{evil}",),
                                 errors=[{"truong": evil, "nhan": "<img src=x onerror=alert(2)>", "moTa": evil,
                                          "maLoi": evil}])])
    dashboard = app(tmp_path / "home")
    for path in ("/documents", "/documents/1", "/failing?from=2026-11-01&to=2026-12-02", "/?from=2026-12-01"):
        html = get(dashboard, path).text
        assert "<script>alert" not in html and "<img src=x" not in html, path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in get(dashboard, "/documents/1").text


def test_a_document_page_shows_receipt_attempts_errors_and_errors_json(home: Path, tmp_path: Path) -> None:
    sent = tmp_path / "clinic" / "sent"
    sent.mkdir(parents=True)
    (sent / "a2.signed.xml").write_bytes(b"<GIAMDINHHS/>")
    (sent / "a2.xml.errors.json").write_text(json.dumps({"file": "a2.xml", "outcome": "rejected", "errors": [
        CARD_ERROR]}, ensure_ascii=False), encoding="utf-8")
    dashboard = app(home)
    doc = api(dashboard, "/api/documents/2")
    assert doc["state"] == "rejected" and doc["transaction_id"] == "7900120261201000000001"
    assert doc["file_exists"] and doc["errors_json"]["content"]["errors"][0]["nhan"] == "Mã thẻ BHYT"
    assert [a["outcome"] for a in doc["attempts"]] == ["accepted"]
    html = get(dashboard, "/documents/2").text
    assert "Mã thẻ BHYT" in html and "MA_THE_BHYT" in html and "mỗi thẻ cần 15" in html
    assert "7900120261201000000001" in html
    assert "01/12/2026 22:30:00" in html and "giờ Việt Nam (UTC+7)" in html  # the portal's stamp, Vietnam time
    english = get(dashboard, "/documents/2", headers={"cookie": "sohs_lang=en"}).text
    assert "Vietnam time (UTC+7)" in english and "Mã thẻ BHYT" in english and "each card needs 15" in english
    assert get(dashboard, "/documents/999").status_code == 404


def test_what_keeps_failing(home: Path, tmp_path: Path) -> None:
    finding = {"code": "xsd:length", "severity": "error", "element": "MA_THE_BHYT", "label": "Mã thẻ BHYT",
               "message_en": "14 characters", "message_vi": "14 ký tự", "line": 17}
    # files refused before sending, as sohs run records them in the ledger (no receipt, local findings)
    fill(tmp_path / "local", [Doc(f"l{i}.xml", "refused", "2026-12-01T16:00:00Z", message="not sent (invalid)",
                                  errors=[finding, finding]) for i in range(2)] + DOCS)
    dashboard = app(tmp_path / "local")
    today = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=5)).date().isoformat()
    data = api(dashboard, f"/api/failing?from={NIGHT1}&to={today}")
    top = data["fields"][0]
    assert (top["field"], top["label"], top["rule"], top["documents"], top["errors"]) == \
        ("MA_THE_BHYT", "Mã thẻ BHYT", "card-length", 2, 2)
    assert [(c["code"], c["documents"]) for c in data["codes"]] == [("125", 1)]
    assert [(f["field"], f["label"], f["rule"], f["documents"], f["errors"]) for f in data["local"]] == \
        [("MA_THE_BHYT", "Mã thẻ BHYT", "xsd:length", 2, 4)]
    only_first = api(dashboard, f"/api/failing?from={NIGHT1}&to={NIGHT1}")
    assert [(f["field"], f["documents"]) for f in only_first["fields"]] == [("MA_THE_BHYT", 2), ("NGAY_RA", 1)]
    assert only_first["local"] == []
    html = get(dashboard, f"/failing?from={NIGHT1}&to={NIGHT1}").text
    link = f"/documents?state=rejected&amp;field=NGAY_RA&amp;rule=ngay-ra-before-ngay-vao&amp;from={NIGHT1}"
    assert link in html and "Ngày ra viện" in html
    local = get(dashboard, f"/failing?from={NIGHT2}&to={NIGHT2}").text
    assert "14 ký tự" in local and "/documents?state=rejected&amp;field=MA_THE_BHYT&amp;rule=xsd%3Alength" in local
    # the link narrows the documents to those two files (a local finding's element is a field too)
    assert names(api(dashboard, "/api/documents?field=MA_THE_BHYT&rule=xsd:length")) == {"l0.xml", "l1.xml"}
    page = get(dashboard, "/documents/1").text  # a refused file: no receipt, its findings with their labels
    assert "Chưa có biên nhận." in page and "<td class=\"label\">Mã thẻ BHYT</td>" in page and "14 ký tự" in page


def test_health_reads_the_log_outbox_and_lock_without_locking(home: Path, tmp_path: Path) -> None:
    clinic = tmp_path / "clinic"
    (clinic / "outbox").mkdir(parents=True)
    (clinic / "sohs.toml").write_text("")
    log = [{"time": "2026-12-01T22:00:00+0700", "level": "info", "event": "start", "pid": 1},
           {"time": "2026-12-01T22:00:01+0700", "level": "info", "event": "waiting", "file": "w.xml",
            "message": "portal unavailable: HTTP 503"},
           {"time": "2026-12-01T22:00:02+0700", "level": "info", "event": "end", "picked": 3, "exit_code": 4}]
    (home / "sohs.log").write_text("garbage line\n" + "\n".join(json.dumps(e) for e in log) + "\n")
    (clinic / "outbox" / "w.xml").write_text("<x/>")
    (clinic / "outbox" / "new.xml").write_text("<x/>")
    (clinic / "outbox" / "half.xml.part").write_text("<x")
    os.utime(clinic / "outbox" / "w.xml", (1764600000, 1764600000))  # before the run started
    (home / "run.lock.owner").write_text(f"pid {os.getpid()}, sohs run since 2026-12-01T15:00:00Z")
    dashboard = app(home, config=str(clinic / "sohs.toml"))
    data = api(dashboard, "/api/health")
    assert data["last_run"]["exit_code"] == 4 and data["last_run"]["end"]["picked"] == 3
    assert data["running"] == {"pid": os.getpid(), "command": "run", "since": "2026-12-01T15:00:00Z"}
    reasons = {f["file"]: (f["reason"], f["message"]) for f in data["outbox"]["files"]}
    assert reasons == {"w.xml": ("waiting", "portal unavailable: HTTP 503"), "new.xml": ("new", "")}
    html = get(dashboard, "/health").text
    assert "<th>tệp nhận</th>" in html and "cổng không phản hồi, tệp còn trong outbox" in html  # exit 4
    assert "cổng không phản hồi" in html and f"sohs run (tiến trình {os.getpid()})" in html
    (home / "run.lock.owner").write_text("")  # the run ended
    assert api(dashboard, "/api/health")["running"] is None


def test_exports_match_sohs_status(home: Path) -> None:
    dashboard = app(home)
    runner = CliRunner()
    status_json = json.loads(runner.invoke(build_app(["status"]), ["status", "--home", str(home), "--json"]).stdout)
    export = json.loads(get(dashboard, "/export.json?sort=seen&order=asc").text)
    assert export["documents"] == status_json["documents"]
    assert export["summary"] == status_json["summary"]
    assert export.keys() == status_json.keys() and export["schema"] == status_json["schema"]
    import jsonschema

    schema = json.loads((Path(__file__).resolve().parents[2] / "sohs_cli" / "schemas" / "status-1.schema.json")
                        .read_text(encoding="utf-8"))
    jsonschema.validate(export, schema)
    status_csv = runner.invoke(build_app(["status"]), ["status", "--home", str(home), "--csv"]).stdout
    raw = get(dashboard, "/export.csv?sort=seen&order=asc")
    assert raw.content.startswith("\ufeff".encode()) and raw.headers["content-type"].startswith("text/csv")
    ours = list(csv.reader(io.StringIO(raw.content.decode("utf-8").removeprefix("\ufeff"))))
    theirs = list(csv.reader(io.StringIO(status_csv.removeprefix("\ufeff"))))
    assert ours == theirs and len(ours) == len(DOCS) + 1
    # the export is the current view: the same filters
    rejected = json.loads(get(dashboard, "/export.json?state=rejected&facility=79001").text)
    assert [Path(d["path"]).name for d in rejected["documents"]] == ["b5.signed.xml", "a2.signed.xml"]
    assert rejected["summary"] == {"rejected": 2}


def test_pages_speak_vietnamese_by_default_and_english_by_choice(home: Path) -> None:
    dashboard = app(home)
    page = get(dashboard, f"/?from={NIGHT1}&to={NIGHT2}").text
    assert 'lang="vi"' in page and "Hồ sơ theo đêm" in page and 'data-night="2026-12-01" data-total="5"' in page
    # the latest night's refusals and why, on the first page
    assert "Bị từ chối trong đêm gần nhất (1) và lý do" in page and "Chữ ký số không hợp lệ" in page
    first_night = get(dashboard, f"/?from={NIGHT1}&to={NIGHT1}").text
    assert "(2) và lý do" in first_night and "<b>Mã thẻ BHYT</b>: thẻ &#39;GD479792000001&#39;" in first_night
    assert "<b>Ngày ra viện</b>" in first_night
    switch = get(dashboard, "/lang?to=en&next=/documents")
    assert switch.status_code == 303 and switch.headers["location"] == "/documents"
    assert "sohs_lang=en" in switch.headers["set-cookie"]
    english = get(dashboard, "/documents", headers={"cookie": "sohs_lang=en"}).text
    assert 'lang="en"' in english and "Export CSV" in english
    assert 'lang="en"' in get(app(home, lang="en"), "/").text


def test_other_commands_do_not_load_the_dashboard() -> None:
    """Start-up: the dashboard's modules (and jinja2) load only when its command runs."""
    import subprocess
    import sys

    code = ("import sys; from sohs_cli.cli.app import build_app; build_app(['--help']); build_app(['validate']); "
            "print(sorted(m for m in sys.modules if m.startswith(('jinja2', 'sohs_cli.dashboard', 'uvicorn'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_dashboard_core_imports_neither_typer_nor_rich(shared: Path) -> None:
    """STYLE.md principle 1: only sohs_cli/cli imports typer or rich; the dashboard is core."""
    import subprocess
    import sys

    code = ("import sys, pkgutil, importlib, sohs_cli.dashboard as d; "
            "[importlib.import_module('sohs_cli.dashboard.' + m.name) for m in pkgutil.iter_modules(d.__path__)]; "
            "from sohs_cli.foundation.config import resolve; from sohs_cli.dashboard import serve; "
            f"serve.build(resolve({{'home': {str(shared)!r}}}), host='127.0.0.1', token_file=None, lang='vi'); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('typer', 'rich', 'click')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
