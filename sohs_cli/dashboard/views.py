"""The dashboard's views as plain data: each ``/api/NAME`` answer is one of these dicts, and each page
is the template rendering of the same dict (so the page shows exactly what its API says)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sohs_cli.dashboard import health as health_mod
from sohs_cli.dashboard.store import (
    COUNT_CAP,
    PAGE_SIZES,
    SORTS,
    Filters,
    LedgerView,
    Page,
    document_dict,
    night_of,
    parse_night,
    tonight,
)
from sohs_cli.submission.ledger import STATES

Query = Mapping[str, Sequence[str]]
DEFAULT_NIGHTS = 30
MAX_NIGHTS = 3 * 366 + 1  # three years of nights at most
WEEKLY = 92  # a longer range is charted a bar per week (at most 105) ...
MONTHLY = 731  # ... and beyond two years a bar per month (at most 37); each bar opens its nights
REFUSED_SHOWN = 10  # rejected documents of the latest night listed on the nights page
ERRORS_JSON_MAX = 1024 * 1024


def one(query: Query, name: str) -> str:
    values = query.get(name) or [""]
    return values[-1].strip()[:200]


class BadQuery(ValueError):
    """A parameter the API does not take as given (answered 400, naming it and what it takes)."""


def night(query: Query, name: str) -> dt.date | None:
    text = one(query, name)
    found = parse_night(text)
    if text and found is None:
        raise BadQuery(f"{name}={text}: a night is a date, YYYY-MM-DD")
    return found


def choice(query: Query, name: str, allowed: tuple[str, ...], default: str) -> str:
    text = one(query, name)
    if text and text not in allowed:
        raise BadQuery(f"{name}={text}: one of {', '.join(allowed)}")
    return text or default


def night_range(query: Query, today: dt.date) -> tuple[dt.date, dt.date, bool]:
    """``from``/``to`` nights (inclusive), default the last 30 nights; clamped to three years."""
    last = night(query, "to") or today
    first = night(query, "from") or last - dt.timedelta(days=DEFAULT_NIGHTS - 1)
    if first > last:
        first, last = last, first
    clamped = (last - first).days + 1 > MAX_NIGHTS
    if clamped:
        first = last - dt.timedelta(days=MAX_NIGHTS - 1)
    return first, last, clamped


def filters_of(query: Query) -> Filters:
    states = [s for v in query.get("state", []) for s in v.split(",") if s.strip()]
    unknown = [s for s in states if s not in STATES]
    if unknown:
        raise BadQuery(f"state={unknown[0]}: one of {', '.join(STATES)}")
    return Filters(states=tuple(dict.fromkeys(states)), night_from=night(query, "from"), night_to=night(query, "to"),
                   facility=one(query, "facility"), kind=one(query, "kind"), standard=one(query, "standard"),
                   ma_lk=one(query, "ma_lk"), name=one(query, "name"), field=one(query, "field"),
                   rule=one(query, "rule"))


def page_of(query: Query) -> Page:
    sort = choice(query, "sort", tuple(SORTS), "seen")
    order = choice(query, "order", ("desc", "asc"), "desc")
    size = choice(query, "size", tuple(str(n) for n in PAGE_SIZES), "50")
    after, before = one(query, "after"), one(query, "before")
    if after and not after.isdigit():
        raise BadQuery(f"after={after}: the next_after of the previous page")
    if before and not before.isdigit():
        raise BadQuery(f"before={before}: the prev_before of the next page")
    return Page(sort=sort, descending=order == "desc", size=int(size), after=int(after) if after else None,
                before=int(before) if before else None)


def filters_dict(f: Filters) -> dict[str, Any]:
    d = asdict(f)
    del d["listed"]  # how the ledger is read, not what the view shows
    d["states"] = list(f.states)
    d["night_from"] = f.night_from.isoformat() if f.night_from else ""
    d["night_to"] = f.night_to.isoformat() if f.night_to else ""
    return d


def unit_of(nights: int) -> str:
    """What one bar of the chart (and one row of its table) holds for a range of ``nights``."""
    return "night" if nights <= WEEKLY else "week" if nights <= MONTHLY else "month"


def periods(nights: list[dict[str, Any]], unit: str) -> list[dict[str, Any]]:
    """The nights summed by ``unit``: a week runs from Monday's night to Sunday's, a month is the
    calendar month of its nights; each period's ``from`` and ``to`` are its first and last night
    within the range (inclusive)."""
    out: list[dict[str, Any]] = []
    current: object = None
    for n in nights:
        day = dt.date.fromisoformat(n["night"])
        key = day if unit == "night" else day - dt.timedelta(days=day.weekday()) if unit == "week" else \
            day.replace(day=1)
        if key != current:
            current = key
            out.append({"from": n["night"], "to": n["night"], "total": 0, **{s: 0 for s in STATES}})
        period = out[-1]
        period["to"] = n["night"]
        for name in ("total", *STATES):
            period[name] += n[name]
    return out


class Views:
    def __init__(self, ledger: LedgerView, places: health_mod.Places,
                 clock: Callable[[], dt.datetime] | None = None) -> None:
        self.ledger, self.places = ledger, places
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def nights(self, query: Query) -> dict[str, Any]:
        first, last, clamped = night_range(query, tonight(self.clock()))
        nights = self.ledger.nights(first, last)
        # the latest night's refusals and why, the morning's second question, on the first page
        refused = self.ledger.documents(Filters(states=("rejected",), night_from=last, night_to=last),
                                        Page(size=REFUSED_SHOWN))
        unit = unit_of(len(nights))
        return {"from": first.isoformat(), "to": last.isoformat(), "clamped": clamped, "nights": nights,
                "unit": unit, "periods": periods(nights, unit), "total": sum(n["total"] for n in nights),
                "rejected": [self._row(r) for r in refused.rows], "rejected_total": refused.total}

    def documents(self, query: Query) -> dict[str, Any]:
        filters, page = filters_of(query), page_of(query)
        result = self.ledger.documents(filters, page)
        return {"filters": filters_dict(filters),
                "page": {"sort": page.sort, "order": "desc" if page.descending else "asc", "size": page.size,
                         "after": page.after, "before": page.before, "next_after": result.next_after,
                         "prev_before": result.prev_before},
                "total": result.total, "total_capped": result.total > COUNT_CAP,
                "documents": [self._row(r) for r in result.rows],
                "facilities": self.ledger.facilities()}

    @staticmethod
    def _row(row: Any) -> dict[str, Any]:
        return {"id": row["id"], "night": night_of(row["first_seen"]).isoformat(), "first_seen": row["first_seen"],
                **document_dict(row)}

    def document(self, doc_id: int) -> dict[str, Any] | None:
        row = self.ledger.document(doc_id)
        if row is None:
            return None
        attempts = [dict(a) for a in self.ledger.attempts(doc_id)]
        path = Path(row["path"])
        return {**self._row(row), "endpoint": row["endpoint"], "file_exists": path.is_file(),
                "attempts": attempts, "errors_json": errors_json(path)}

    def failing(self, query: Query) -> dict[str, Any]:
        first, last, clamped = night_range(query, tonight(self.clock()))
        found = self.ledger.failing(first, last)
        return {"from": first.isoformat(), "to": last.isoformat(), "clamped": clamped, **found}

    def health(self) -> dict[str, Any]:
        return health_mod.health(self.places, self.ledger.in_flight())


def errors_json(path: Path) -> dict[str, Any] | None:
    """The ``FILE.errors.json`` that ``sohs run`` wrote beside a refused file (for a signed copy,
    ``NAME.signed.xml``, beside its original ``NAME.xml``), parsed; None when there is none."""
    candidates = [Path(str(path) + ".errors.json")]
    if path.name.endswith(".signed.xml"):
        candidates.append(path.with_name(path.name.removesuffix(".signed.xml") + ".xml.errors.json"))
    for candidate in candidates:
        try:
            with open(candidate, "rb") as fh:
                data = fh.read(ERRORS_JSON_MAX + 1)
        except OSError:
            continue
        if len(data) > ERRORS_JSON_MAX:
            return {"path": str(candidate), "content": None, "too_large": True}
        try:
            content = json.loads(data.decode("utf-8"))
        except ValueError:
            content = None
        return {"path": str(candidate), "content": content, "too_large": False}
    return None
