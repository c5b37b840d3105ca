"""The nights chart over a long range: a bar (and a table row) per week beyond 92 nights, per month
beyond two years, each summing its nights and opening the chart of its nights, where each night opens
its documents: every night stays two clicks away, and three years are 37 bars, not 1,096."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from sohs_cli.dashboard.views import MONTHLY, WEEKLY, periods, unit_of
from sohs_cli.submission.ledger import STATES
from tests.dashboard_helpers import Doc, api, app, fill, get

LAST = dt.date(2026, 12, 1)
SPREAD = 800  # nights between the first document and the last


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    states = ("accepted", "rejected", "sent", "failed", "pending")
    docs = []
    for i in range(90):
        night = LAST - dt.timedelta(days=(i * 37) % SPREAD)
        docs.append(Doc(f"p{i:03d}.xml", states[i % 5], f"{night.isoformat()}T06:00:00Z", ma_lks=(f"LK{i}",)))
    base = tmp_path_factory.mktemp("periods")
    fill(base / "home", docs)
    return base / "home"


def test_the_unit_follows_the_length_of_the_range() -> None:
    assert [unit_of(n) for n in (1, 30, WEEKLY, WEEKLY + 1, MONTHLY, MONTHLY + 1, 1097)] == \
        ["night", "night", "night", "week", "week", "month", "month"]


@pytest.mark.parametrize("unit", ["night", "week", "month"])
def test_periods_cover_every_night_once_and_sum_it(unit: str) -> None:
    first = dt.date(2024, 2, 27)  # a Tuesday, across a leap day and a new year
    nights = [{"night": (first + dt.timedelta(days=i)).isoformat(), "total": i % 7,
               **{s: (i % 7 if s == "accepted" else 0) for s in STATES}} for i in range(400)]
    found = periods(nights, unit)
    covered: list[str] = []
    for p in found:
        start, end = dt.date.fromisoformat(p["from"]), dt.date.fromisoformat(p["to"])
        inside = [n for n in nights if p["from"] <= n["night"] <= p["to"]]
        covered += [n["night"] for n in inside]
        assert p["total"] == sum(n["total"] for n in inside) and p["accepted"] == p["total"]
        if unit == "week":
            assert (end - start).days <= 6 and (start.weekday() == 0 or start == first)
            assert end.weekday() == 6 or end == first + dt.timedelta(days=399)
        if unit == "month":
            assert (start.year, start.month) == (end.year, end.month)
            assert start.day == 1 or start == first
    assert covered == [n["night"] for n in nights]
    days = [first + dt.timedelta(days=i) for i in range(400)]
    assert len(found) == len({d if unit == "night" else d.isocalendar()[:2] if unit == "week" else d.replace(day=1)
                              for d in days})


def test_a_long_range_is_charted_by_month_and_every_night_stays_reachable(home: Path) -> None:
    dashboard = app(home)
    first = LAST - dt.timedelta(days=SPREAD)
    data = api(dashboard, f"/api/nights?from={first}&to={LAST}")
    assert data["unit"] == "month" and len(data["nights"]) == SPREAD + 1  # the API keeps every night
    assert sum(p["total"] for p in data["periods"]) == data["total"] == 90
    page = get(dashboard, f"/?from={first}&to={LAST}").text
    bars = re.findall(r'<a href="/\?from=([\d-]+)&amp;to=([\d-]+)" class="bar" data-from="[\d-]+" data-to="[\d-]+"'
                      r' data-total="(\d+)"', page)
    assert len(bars) == len(data["periods"]) == 28 and 'data-unit="month"' in page
    assert "data-night=" not in page.split('id="nights-chart"')[1].split("</svg>")[0]
    rows = re.findall(r'<tr data-from="([\d-]+)" data-to="([\d-]+)">', page)
    assert len(rows) == len([p for p in data["periods"] if p["total"]])
    assert "mỗi cột là một tháng" in page  # Vietnamese by default
    # a month's bar opens the chart of its nights; each night's bar opens its documents
    reached = 0
    for start, end, total in bars:
        if total == "0":
            continue
        nightly = get(dashboard, f"/?from={start}&to={end}").text
        assert 'data-unit="night"' in nightly
        counts = re.findall(r'<a href="/documents\?from=([\d-]+)&amp;to=\1" class="bar" data-night="\1"'
                            r' data-total="(\d+)"', nightly)
        assert sum(int(n) for _, n in counts) == int(total)
        for night, n in counts:
            if n != "0":
                listed = api(dashboard, f"/api/documents?from={night}&to={night}")
                assert listed["total"] == int(n)
                reached += int(n)
    assert reached == 90


def test_a_range_of_half_a_year_is_charted_by_week(home: Path) -> None:
    dashboard = app(home)
    first = LAST - dt.timedelta(days=181)
    data = api(dashboard, f"/api/nights?from={first}&to={LAST}")
    assert data["unit"] == "week"
    page = get(dashboard, f"/?from={first}&to={LAST}").text
    assert page.count('class="bar" data-from=') == len(data["periods"]) == 27  # 26 weeks and a part
    assert "<th>Tuần</th>" in page
    # the default 30 nights are still a bar per night, linked to its documents
    short = get(dashboard, "/").text
    assert 'data-unit="night"' in short and 'class="bar" data-night=' in short
