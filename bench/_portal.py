"""Start `sohs portal serve` for a benchmark: a real server on a free loopback port, stopped with SIGTERM."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def serve(data_dir: str, accounts: str, *extra: str) -> Iterator[tuple[str, int]]:
    """``(base URL, port)`` of a running portal; waits until it answers, stops it afterwards."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "sohs_cli", "portal", "serve", "--port", str(port), "--data-dir",
                             data_dir, "--accounts", accounts, "--log-level", "warning", *extra],
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                httpx.get(f"{base}/_mock/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base, port
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
