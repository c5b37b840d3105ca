"""The hostile corpus (tests/hostile_corpus.py) through every command that reads input and through the
simulated portal (issue 15). For every case: the documented exit code, messages of one line, no
traceback, originals byte-identical, nothing fetched from the local listener every reference points
at; for the folder runs in real processes: peak memory under a bound."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sohs_cli.cli.app import build_app
from sohs_cli.foundation.errors import SohsError
from sohs_cli.mockportal.app import Portal, PortalConfig
from sohs_cli.signing.sign import FileSigner, sign_document
from sohs_cli.signing.testpki import TestPki
from tests.hostile_corpus import Case, write_corpus
from tests.portal_helpers import InProcess, accounts

runner = CliRunner()
MEMORY_BOUND_MB = 400  # a folder run of the whole corpus, in one process (the 11 MB inner table is the most)
PASSWORD = "test-p12-secret"  # the session PKI's (tests/conftest.py)


class Listener:
    """A TCP listener on a free loopback port that counts every connection made to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.connections = 0
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    lst = Listener()
    try:
        yield lst
    finally:
        lst.close()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _regular(corpus: list[tuple[Case, Path]]) -> list[tuple[Case, Path]]:
    return [(c, p) for c, p in corpus if c.kind in ("file", "sparse")]


def _clean(case: Case, text: str) -> None:
    assert "Traceback" not in text and "internal error" not in text, (case.name, text[-3000:])
    assert "\x1b" not in text and "\x07" not in text, case.name  # control characters written out
    longest = max((len(line) for line in text.splitlines()), default=0)
    assert longest < 3000, (case.name, longest)  # no dump of a 5,000-digit value or a whole file


def test_every_case_through_every_reading_command(tmp_path: Path, pki: TestPki, clinic: FileSigner,
                                                  listener: Listener, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = write_corpus(tmp_path / "corpus", listener.address, clinic)
    before = {p: _digest(p) for c, p in _regular(corpus) if c.kind == "file"}
    monkeypatch.setenv("SOHS_P12_PASSWORD", PASSWORD)
    for case, path in _regular(corpus):
        r = runner.invoke(build_app(), ["validate", str(path)])
        assert r.exit_code == case.validate, (case.name, r.output[-2000:])
        _clean(case, r.output)
        r = runner.invoke(build_app(), ["validate", str(path), "-f", "json"])
        assert r.exit_code == case.validate, case.name
        r = runner.invoke(build_app(), ["verify", str(path), "--integrity-only"])
        assert r.exit_code == case.verify, (case.name, r.output[-2000:])
        _clean(case, r.output)
        r = runner.invoke(build_app(), ["verify", str(path), "--ca-bundle", pki.ca_cert])
        assert r.exit_code == (0 if case.name == "signed-good.xml" else 1), (case.name, r.output[-2000:])
        if case.heavy:
            continue
        out = tmp_path / "signed" / "x.xml"
        r = runner.invoke(build_app(), ["sign", str(path), "--p12", pki.clinic_p12, "-o", str(out)])
        assert r.exit_code in (0, 1), (case.name, r.output[-2000:])
        _clean(case, r.output)
        r = runner.invoke(build_app(), ["unpack", str(path), "-d", str(tmp_path / "unpacked" / case.name[:20])])
        assert r.exit_code in (0, 1), (case.name, r.output[-2000:])
        _clean(case, r.output)
        r = runner.invoke(build_app(), ["pack", str(path), "--facility", "79001", "-o", str(tmp_path / "p.xml")])
        assert r.exit_code in (0, 1), (case.name, r.output[-2000:])
        _clean(case, r.output)
    assert {p: _digest(p) for p in before} == before  # no original was changed
    assert listener.connections == 0  # no DTD, entity, XInclude or schema was ever fetched


#: Runs a command and writes its exit code and peak memory to a file. A small process of its own:
#: Linux counts the memory a process had when it forked into its child's peak (ru_maxrss survives
#: exec), so a command started by a grown pytest would report pytest's size, not its own.
LAUNCH = ("import json, os, subprocess, sys\n"
          "p = subprocess.Popen(sys.argv[3:], cwd=sys.argv[2] or None)\n"
          "_, status, usage = os.wait4(p.pid, 0)\n"
          "scale = 1024 * 1024 if sys.platform == 'darwin' else 1024\n"
          "open(sys.argv[1], 'w').write(json.dumps([os.waitstatus_to_exitcode(status), usage.ru_maxrss // scale]))\n")


def _run(args: list[str], env: dict[str, str], cwd: Path | None = None) -> tuple[int, str, int]:
    """Exit code, output and peak memory (MB) of ``sohs ARGS`` in its own process."""
    import json
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
        result = fh.name
    try:
        done = subprocess.run([sys.executable, "-c", LAUNCH, result, str(cwd or ""), sys.executable, "-m", "sohs_cli",
                               *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, timeout=600)
        code, peak = json.loads(Path(result).read_text())
    finally:
        os.unlink(result)
    return int(code), done.stdout.decode("utf-8", "replace"), int(peak)


@pytest.mark.skipif(not hasattr(os, "wait4"), reason="peak memory of a child through wait4 (POSIX)")
def test_folder_runs_finish_the_batch_in_bounded_memory(tmp_path: Path, pki: TestPki, clinic: FileSigner,
                                                        listener: Listener) -> None:
    corpus = write_corpus(tmp_path / "corpus", listener.address, clinic)
    names = [c.name for c, _ in corpus if c.kind in ("file", "sparse")]
    env = dict(os.environ, SOHS_HOME=str(tmp_path / "home"), SOHS_LANG="en", SOHS_P12_PASSWORD=PASSWORD,
               SOHS_VERIFY_CA_BUNDLE=pki.ca_cert, SOHS_PORTAL_URL=f"http://{listener.address}",
               SOHS_PORTAL_USERNAME="79001_BV", SOHS_PORTAL_PASSWORD="x", COLUMNS="200")
    folder = str(tmp_path / "corpus")
    runs = {
        "validate": ["validate", folder, "--jobs", "1"],
        "validate-json": ["validate", folder, "-f", "json", "--jobs", "1"],
        "verify": ["verify", folder, "--integrity-only"],
        "sign": ["sign", folder, "--p12", pki.clinic_p12, "--out-dir", str(tmp_path / "signed"), "--jobs", "1"],
        "submit-dry-run": ["submit", folder, "--dry-run"],
    }
    for what, args in runs.items():
        code, out, peak = _run(args, env)
        assert code == 1, (what, out[-3000:])  # the worst of the batch: findings, never 70, never a hang
        assert "Traceback" not in out and "internal error" not in out, (what, out[-3000:])
        assert peak < MEMORY_BOUND_MB, (what, peak)
        if what != "validate-json":
            assert "fifo.xml" in out and "link-out.xml" in out, what  # each skip said, on one line
            assert "named pipe" in out and "symbolic link, not followed" in out, what
        seen = sum(1 for n in names if n.encode("unicode_escape").decode().replace("\\x", "\\\\x")[:12] in out
                   or n[:12] in out)
        assert seen >= len(names) - 2, (what, seen, len(names))  # every file had its line
    assert listener.connections == 0


def test_the_portal_keeps_answering_through_the_corpus(tmp_path: Path, pki: TestPki, clinic: FileSigner,
                                                       listener: Listener) -> None:
    corpus = write_corpus(tmp_path / "corpus", listener.address, clinic)
    now = [dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)]
    config = PortalConfig(data_dir=str(tmp_path / "data"), accounts=accounts(tmp_path, pki))

    async def go(portal: Portal, scenario: Any) -> Any:
        client = InProcess(portal)
        try:
            return await scenario(client)
        finally:
            await client.client.aclose()
            await portal.stop()

    async def send_all(c: InProcess) -> list[str]:
        token = (await c.token())["APIKey"]
        codes = []
        for case, path in corpus:
            if not case.portal:
                continue
            data = path.read_bytes()
            variants = [data]
            with contextlib.suppress(SohsError):  # what cannot be signed is sent as it is
                variants.append(sign_document(data, clinic))
            for body in variants:
                answer = await c.submit(token, body)  # HTTP 200 asserted inside: never a 500
                assert answer["maKetQua"] in ("200", "123", "124", "125", "205", "1001"), (case.name, answer)
                codes.append(answer["maKetQua"])
            assert (await c.client.get("/_mock/health")).status_code == 200, case.name
        now[0] += dt.timedelta(seconds=10)
        listing = await c.client.get("/_mock/submissions")
        assert listing.status_code == 200
        for sub in listing.json():
            found = await c.lookup(token, maGiaoDich=sub["maGiaoDich"])
            assert found["maKetQua"] in ("200", "404"), found
        return codes

    codes = asyncio.run(go(Portal(config, clock=lambda: now[0]), send_all))
    assert "200" in codes and "123" in codes and "125" in codes

    async def after_restart(c: InProcess) -> int:
        return (await c.client.get("/_mock/submissions")).status_code

    assert asyncio.run(go(Portal(config, clock=lambda: now[0]), after_restart)) == 200
    assert listener.connections == 0


@pytest.mark.skipif(not hasattr(os, "wait4"), reason="peak memory of a child through wait4 (POSIX)")
def test_the_nightly_run_takes_the_corpus_from_its_outbox(tmp_path: Path, pki: TestPki, clinic: FileSigner,
                                                          listener: Listener) -> None:
    from tests.e2e.test_run import setup
    from tests.portal_helpers import served

    with served(tmp_path, pki) as base:
        env = setup(tmp_path, pki, base)
        outbox = tmp_path / "clinic" / "outbox"
        outside = tmp_path / "outside.xml"
        corpus = write_corpus(outbox, listener.address, clinic, outside=outside)
        kept = outside.read_bytes()
        code, out, peak = _run(["run"], env, tmp_path / "clinic")
    assert code in (0, 1), out[-3000:]  # delivered and rejected: never 70, never a hang
    assert "Traceback" not in out and peak < MEMORY_BOUND_MB, (peak, out[-3000:])
    left = {p.name for p in outbox.iterdir()}
    regular = {c.name for c, _ in corpus if c.kind in ("file", "sparse")}
    assert not regular & left, regular & left  # every plain file was taken: sent, rejected or failed
    assert {"fifo.xml", "link-out.xml"} <= left  # neither opened nor followed: left where they are
    assert outside.read_bytes() == kept and listener.connections == 0
