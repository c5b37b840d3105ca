"""The nights chart as geometry for a server-rendered SVG: one bar per night, stacked by state.

No JavaScript draws it: the template writes ``<rect>`` elements from these numbers, so the chart
is there with scripts off, prints, and reads the same in every browser.
"""

from __future__ import annotations

import math
from typing import Any

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


def bars(nights: list[dict[str, Any]]) -> dict[str, Any]:
    top = nice_max(max((n["total"] for n in nights), default=0))
    slot = max(6.0, min(48.0, 900.0 / max(1, len(nights))))
    width = LEFT + slot * len(nights) + 8
    scale = HEIGHT / top
    label_every = max(1, math.ceil(len(nights) / 15))
    out = []
    for i, night in enumerate(nights):
        x = LEFT + i * slot + slot * 0.12
        y = TOP + HEIGHT
        segments = []
        for state in STACK:
            count = night[state]
            if count:
                h = count * scale
                y -= h
                segments.append({"state": state, "y": round(y, 2), "h": round(h, 2), "count": count})
        out.append({"night": night["night"], "x": round(x, 2), "w": round(slot * 0.76, 2), "segments": segments,
                    "total": night["total"], "total_y": round(y - 5, 2), "cx": round(x + slot * 0.38, 2),
                    "label": night["night"][8:10] + "/" + night["night"][5:7] if i % label_every == 0 else "",
                    "counts": {s: night[s] for s in STACK}})
    steps = 4 if top % 4 == 0 else 5 if top % 5 == 0 else 2 if top % 2 == 0 else 1
    ticks = [{"value": top * i // steps, "y": round(TOP + HEIGHT - top * i / steps * scale, 2)}
             for i in range(steps + 1)]
    return {"bars": out, "width": round(width, 2), "height": TOP + HEIGHT + AXIS, "base": TOP + HEIGHT,
            "left": LEFT, "ticks": ticks, "show_totals": slot >= 14}
