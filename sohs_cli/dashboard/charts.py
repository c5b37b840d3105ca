"""The nights chart as geometry for a server-rendered SVG: one bar per night, stacked by state (per
week or month over a long range: :func:`sohs_cli.dashboard.views.periods`).

No JavaScript draws it: the page holds ``<rect>`` elements made from these numbers, so the chart
is there with scripts off, prints, and reads the same in every browser. The bars and the nights'
table are written here, not by the template: three years are 1,096 bars, and a template spends
half a second on their 60,000 values where a join of strings spends a tenth of it. Every text in
them is escaped here (numbers, ISO dates and the translated state names).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from html import escape
from typing import Any

from markupsafe import Markup

#: bottom to top; the chart's colours are in dashboard.css (.s-accepted …)
STACK = ("accepted", "sent", "rejected", "failed", "pending")
HEIGHT = 240  # plot height in SVG units
TOP = 22  # room above the highest bar for its total
AXIS = 34  # room below for the night's label
LEFT = 40  # room for the y-axis ticks


def nice_max(value: int) -> int:
    """A round top for the y axis (1, 2, 5 × 10^n) at or above ``value``."""
    if value <= 5:
        return 5
    power: int = 10 ** int(math.log10(value))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= value)


def bars(nights: list[dict[str, Any]], unit: str = "night") -> dict[str, Any]:
    """The bars of ``nights`` (each a night, or with ``unit`` a week or month: a period ``from``..``to``)."""
    top = nice_max(max((n["total"] for n in nights), default=0))
    slot = max(6.0, min(48.0, 900.0 / max(1, len(nights))))
    width = LEFT + slot * len(nights) + 8
    scale = HEIGHT / top
    label_every = max(1, math.ceil(len(nights) / 15))
    out = []
    for i, night in enumerate(nights):
        start = night.get("from", night.get("night", ""))
        x = LEFT + i * slot + slot * 0.12
        y = TOP + HEIGHT
        segments = []
        for state in STACK:
            count = night[state]
            if count:
                h = count * scale
                y -= h
                segments.append({"state": state, "y": round(y, 2), "h": round(h, 2), "count": count})
        label = start[5:7] + "/" + start[:4] if unit == "month" else start[8:10] + "/" + start[5:7]
        out.append({"night": start, "to": night.get("to", start), "x": round(x, 2), "w": round(slot * 0.76, 2),
                    "segments": segments, "total": night["total"], "total_y": round(y - 5, 2),
                    "cx": round(x + slot * 0.38, 2), "label": label if i % label_every == 0 else "",
                    "counts": {s: night[s] for s in STACK}})
    steps = 4 if top % 4 == 0 else 5 if top % 5 == 0 else 2 if top % 2 == 0 else 1
    ticks = [{"value": top * i // steps, "y": round(TOP + HEIGHT - top * i / steps * scale, 2)}
             for i in range(steps + 1)]
    return {"bars": out, "width": round(width, 2), "height": TOP + HEIGHT + AXIS, "base": TOP + HEIGHT,
            "left": LEFT, "ticks": ticks, "show_totals": slot >= 14, "unit": unit}


def bars_markup(chart: dict[str, Any], short: Callable[[str], str], ddmm: Callable[[str], str]) -> Markup:
    """The chart's bars: one link per night to its documents (per week or month: to the chart of its
    nights), its counts as ``data-*`` and a title."""
    names = {s: escape(short(s)) for s in STACK}
    base, totals = chart["base"], chart["show_totals"]
    out = []
    for bar in chart["bars"]:
        night, to = escape(bar["night"]), escape(bar["to"])
        counts = bar["counts"]
        data = "".join(f' data-{s}="{counts[s]}"' for s in STACK)
        title = ", ".join(f"{names[s]} {counts[s]}" for s in STACK)
        if chart["unit"] == "night":
            link = f'href="/documents?from={night}&amp;to={night}" class="bar" data-night="{night}"'
            when = escape(ddmm(bar["night"]))
        else:
            link = f'href="/?from={night}&amp;to={to}" class="bar" data-from="{night}" data-to="{to}"'
            when = f'{escape(ddmm(bar["night"]))} – {escape(ddmm(bar["to"]))}'
        out.append(f'<a {link} data-total="{bar["total"]}"{data}>\n<title>{when}: {bar["total"]} —'
                   f' {title}</title>\n<rect class="hit" x="{bar["x"]}" y="0" width="{bar["w"]}" height="{base}">'
                   f'</rect>\n')
        out += [f'<rect class="s-{seg["state"]}" x="{bar["x"]}" y="{seg["y"]}" width="{bar["w"]}" height="{seg["h"]}">'
                f'</rect>\n' for seg in bar["segments"]]
        if bar["total"] and totals:
            out.append(f'<text class="total" x="{bar["cx"]}" y="{bar["total_y"]}" text-anchor="middle">{bar["total"]}'
                       f'</text>\n')
        if bar["label"]:
            out.append(f'<text class="day" x="{bar["cx"]}" y="{base + 16}" text-anchor="middle">{escape(bar["label"])}'
                       f'</text>\n')
        out.append("</a>\n")
    return Markup("".join(out))


def periods_markup(periods: list[dict[str, Any]], ddmm: Callable[[str], str]) -> Markup:
    """The table of a long range, a row per week or month with documents, newest first: each opens
    the chart of its nights, and its total the period's documents."""
    out = []
    for p in reversed(periods):
        if not p["total"]:
            continue
        start, end = escape(p["from"]), escape(p["to"])
        cells = "".join(f'<td class="{"s-" + s if p[s] else ""}" data-state="{s}">{p[s]}</td>' for s in STACK)
        out.append(f'<tr data-from="{start}" data-to="{end}"><td><a href="/?from={start}&amp;to={end}">'
                   f'{escape(ddmm(p["from"]))} – {escape(ddmm(p["to"]))}</a></td>{cells}<td data-state="total">'
                   f'<a href="/documents?from={start}&amp;to={end}"><b>{p["total"]}</b></a></td></tr>\n')
    return Markup("".join(out))


def table_markup(nights: list[dict[str, Any]], ddmm: Callable[[str], str]) -> Markup:
    """The nights' table body, newest first, nights without a document left out."""
    out = []
    for n in reversed(nights):
        if not n["total"]:
            continue
        night = escape(n["night"])
        cells = "".join(f'<td class="{"s-" + s if n[s] else ""}" data-state="{s}">{n[s]}</td>' for s in STACK)
        out.append(f'<tr data-night="{night}"><td><a href="/documents?from={night}&amp;to={night}">'
                   f'{escape(ddmm(n["night"]))}</a></td>{cells}<td data-state="total"><b>{n["total"]}</b></td></tr>\n')
    return Markup("".join(out))
