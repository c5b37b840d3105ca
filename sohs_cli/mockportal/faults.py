"""Fault injection, reproducible with ``--seed``: what a real gateway does on a bad night.

Applies to ``/api/…`` only (never to ``/_mock/…``), in this order: rate limit (429 with
``Retry-After``), latency, a 5xx, a hang past the client's timeout. ``drop_after_accept`` is applied
by the submission endpoints themselves: the file is stored, then the connection is closed before the
reply, the case that tests a client's idempotency.
"""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass

from sohs_cli.foundation.errors import UsageError
from sohs_cli.foundation.i18n import _


@dataclass(frozen=True)
class Faults:
    latency: float = 0.0  # seconds added to every API request
    fail_rate: float = 0.0  # share of API requests answered 503
    timeout_rate: float = 0.0  # share of API requests that hang for hang_seconds
    hang_seconds: float = 120.0
    rate_limit: float = 0.0  # requests per second over all clients; 0 = unlimited
    drop_after_accept: float = 0.0  # share of accepted submissions whose reply is dropped
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in ("fail_rate", "timeout_rate", "drop_after_accept"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise UsageError(_("--{option} {value} is not a rate between 0 and 1", option=name.replace("_", "-"),
                                   value=value))


def parse_rate_limit(text: str) -> float:
    """``"50/s"`` or ``"50"`` -> 50.0 requests per second."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(?:/\s*s)?\s*", text)
    if not m:
        raise UsageError(_("--rate-limit {value}: expected N/s, e.g. 50/s", value=repr(text)))
    return float(m.group(1))


class FaultPlan:
    """The random draws (seeded) and the token bucket behind the faults."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.rng = random.Random(faults.seed)
        self.tokens = faults.rate_limit
        self.stamp = time.monotonic()

    def draw(self, rate: float) -> bool:
        return rate > 0 and self.rng.random() < rate

    def throttled(self) -> float:
        """Seconds to wait (for Retry-After) when over the rate limit, else 0."""
        limit = self.faults.rate_limit
        if limit <= 0:
            return 0.0
        now = time.monotonic()
        self.tokens = min(limit, self.tokens + (now - self.stamp) * limit)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / limit
