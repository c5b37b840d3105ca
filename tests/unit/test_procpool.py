"""The ordered process pool behind ``validate --jobs`` and ``sign --jobs``."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time

import pytest

from sohs_cli.foundation.errors import WorkerLost
from sohs_cli.foundation.procpool import WorkerFailed, ordered_map

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="forked workers")
FORK = multiprocessing.get_context("fork")
_SETUP: list[int] = []


def _square(n: int) -> int:
    if n % 7 == 0:
        time.sleep(0.002)  # some chunks finish late: results arrive out of order
    return n * n


def _setup(marker: int) -> None:
    _SETUP.append(marker)


def _who(n: int) -> tuple[int, list[int]]:
    return os.getpid(), list(_SETUP)


def _raises_on_13(n: int) -> int:
    if n == 13:
        raise ValueError("thirteen is unlucky")
    return n


def _killed_on_13(n: int) -> int:
    if n == 13:
        os.kill(os.getpid(), signal.SIGKILL)
    return n


def _no_children_left() -> bool:
    deadline = time.monotonic() + 5
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.01)
    return not multiprocessing.active_children()


def test_results_come_back_in_input_order_across_small_chunks() -> None:
    items = list(range(500))
    out = list(ordered_map(_square, iter(items), jobs=3, context=FORK, chunk=4, pending=3))
    assert out == [n * n for n in items]
    assert _no_children_left()


def test_setup_runs_once_in_each_worker_and_never_in_the_parent() -> None:
    out = list(ordered_map(_who, range(200), jobs=2, context=FORK, setup=_setup, setup_args=(7,), chunk=5))
    assert {marks == [7] for _, marks in out} == {True}
    assert len({pid for pid, _ in out}) == 2
    assert os.getpid() not in {pid for pid, _ in out}
    assert _SETUP == []


def test_an_empty_input_starts_and_stops_cleanly() -> None:
    assert list(ordered_map(_square, [], jobs=2, context=FORK)) == []
    assert _no_children_left()


def test_an_exception_in_a_worker_is_raised_in_the_parent_with_its_traceback() -> None:
    with pytest.raises(WorkerFailed, match="ValueError: thirteen is unlucky") as caught:
        list(ordered_map(_raises_on_13, range(100), jobs=2, context=FORK, chunk=4))
    assert "_raises_on_13" in str(caught.value.__cause__)  # the worker's own traceback, for --debug
    assert _no_children_left()


def test_a_killed_worker_is_reported_at_once_instead_of_waited_for_forever() -> None:
    start = time.monotonic()
    with pytest.raises(WorkerLost, match="killed by signal 9"):
        list(ordered_map(_killed_on_13, range(100), jobs=2, context=FORK, chunk=4))
    assert time.monotonic() - start < 10
    assert _no_children_left()


def test_a_consumer_that_stops_early_leaves_no_worker_behind() -> None:
    results = ordered_map(_square, range(10_000), jobs=2, context=FORK, chunk=8)
    assert [next(results) for _ in range(3)] == [0, 1, 4]
    results.close()
    assert _no_children_left()


def _sockets_open(n: int) -> int:
    fds = os.listdir("/proc/self/fd")
    return sum(1 for fd in fds if os.path.exists(f"/proc/self/fd/{fd}")
               and os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"))


def test_a_forked_worker_holds_only_its_own_pipe() -> None:
    """Each worker closes the copies it inherited of the parent's pipes to the workers before it: when
    the parent is gone, every worker sees the end of its pipe at once."""
    counts = set(ordered_map(_sockets_open, range(60), jobs=3, context=FORK, chunk=1))
    assert len(counts) == 1, counts
