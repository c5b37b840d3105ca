"""What a handler may use of the portal: its settings and the :class:`PortalContext` it is given.

The portal object (:class:`sohs_cli.mockportal.app.Portal`) owns the routes and hands itself to each
handler as a :class:`PortalContext`; the handlers (:mod:`.gateway`, :mod:`.hub`) and the processing
know this protocol only, never the portal object, so the simulator's imports go one way (issue 19:
``app`` and ``gateway``/``hub``/``processing`` imported each other).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol

from sohs_cli.mockportal.accounts import Account
from sohs_cli.mockportal.faults import FaultPlan, Faults
from sohs_cli.mockportal.store import Store


@dataclass(frozen=True)
class PortalConfig:
    data_dir: str
    accounts: dict[str, Account]
    token_ttl: float = 3600.0
    processing_delay: float = 2.0
    max_body: int = 64 * 1024 * 1024
    #: bodies over 1 MB read and handled at once; more get 429 (memory bounded by it, issue 15)
    max_large_uploads: int = 2
    faults: Faults = field(default_factory=Faults)
    #: ``--realistic``: only what the BHXH gateway's guides describe (gateway.py): no status lookup
    #: (an unknown path answers a 404 web page), no same-bytes rule (a resend is a new receipt)
    realistic: bool = False
    #: ``--hub-key``: PEM private key the checkup hub signs its replies with (empty: a fresh one per process)
    hub_key: str = ""


class PortalContext(Protocol):
    """The part of the portal a request handler uses."""

    config: PortalConfig
    accounts: dict[str, Account]
    store: Store
    faults: FaultPlan

    def now(self) -> dt.datetime: ...
