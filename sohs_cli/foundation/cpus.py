"""How many CPUs this process may really use: its affinity, and a container's CPU quota.

``os.cpu_count()`` counts the host's CPUs. A CI job in a container limited to 2 CPUs on a 64-core
host would start 64 workers and run slower for it, so the quota of the process's cgroup counts too
(cgroup v2 ``cpu.max``, or v1 ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``), read where a container
sees its own cgroup: at the root of ``/sys/fs/cgroup``.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")


def quota(root: Path = CGROUP) -> float | None:
    """The CPUs a cgroup quota allows (1.5 for "150000 100000"), or None when there is none."""
    try:
        limit, period = (root / "cpu.max").read_text().split()[:2]
        return None if limit == "max" else int(limit) / int(period)
    except (OSError, ValueError):
        pass
    for folder in ("cpu", "cpu,cpuacct"):
        try:
            limit_us = int((root / folder / "cpu.cfs_quota_us").read_text())
            period_us = int((root / folder / "cpu.cfs_period_us").read_text())
        except (OSError, ValueError):
            continue
        return limit_us / period_us if limit_us > 0 and period_us > 0 else None
    return None


def usable(root: Path = CGROUP) -> int:
    """CPUs this process may run on (affinity), capped by a container's quota; at least 1."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cpus = os.cpu_count() or 1
    allowed = quota(root)
    if allowed is not None:
        cpus = min(cpus, math.ceil(allowed))
    return max(1, cpus)
