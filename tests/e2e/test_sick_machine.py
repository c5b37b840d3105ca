"""A sick machine is a setup problem (exit 3, one line naming the path and what to do), never
"internal error" (issue 16); and nothing is lost: every outbox file is where it was, or filed."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sohs_cli.signing.testpki import TestPki
from tests.e2e.test_run import setup
from tests.portal_helpers import envelope, served


def sohs(clinic: Path, env: dict[str, str], *args: str, fsize: int | None = None) -> subprocess.CompletedProcess[str]:
    def limit() -> None:
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return subprocess.run([sys.executable, "-m", "sohs_cli", *args], cwd=clinic, env=env, capture_output=True,
                          text=True, timeout=300, preexec_fn=limit)


def one_line_exit_3(done: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit 3, one error line (and its hint), naming what ``words`` say."""
    assert done.returncode == 3, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    error = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    hint = [line for line in done.stderr.splitlines() if line.startswith("hint:")]
    assert len(error) == 1 and len(hint) <= 1, done.stderr
    for word in words:
        assert word in error[0] + " " + "".join(hint), done.stderr


def fill(outbox: Path, count: int, prefix: str) -> list[str]:
    names = []
    for i in range(count):
        (outbox / f"{prefix}{i:03d}.xml").write_bytes(envelope(f"LK{prefix}{i:05d}"))
        names.append(f"{prefix}{i:03d}.xml")
    return names


@contextlib.contextmanager
def immutable(path: Path) -> Iterator[None]:
    """chattr +i: read-only even for root (the tests run as root, for whom chmod changes nothing)."""
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not supported on this filesystem")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_bad_data_folders_and_ledgers_are_exit_3(tmp_path: Path, pki: TestPki) -> None:
    env = setup(tmp_path, pki, "https://portal.invalid")
    clinic = tmp_path / "clinic"
    names = fill(clinic / "outbox", 2, "M")
    home = tmp_path / "home"
    home.mkdir()
    (home / "ledger.sqlite3").write_bytes(b"this is not an SQLite file at all, it is text" * 50)
    one_line_exit_3(sohs(clinic, env, "run"), "damaged", str(home / "ledger.sqlite3"))
    one_line_exit_3(sohs(clinic, env, "status"), "damaged")
    foreign = sqlite3.connect(home / "ledger.sqlite3.other")
    foreign.execute("CREATE TABLE documents(x)")
    foreign.commit()
    foreign.close()
    os.replace(home / "ledger.sqlite3.other", home / "ledger.sqlite3")
    one_line_exit_3(sohs(clinic, env, "run"), "not a sohs ledger")
    (tmp_path / "a-file").write_text("x")
    one_line_exit_3(sohs(clinic, env, "run", "--home", str(tmp_path / "a-file")), "a-file", "not a folder")
    one_line_exit_3(sohs(clinic, env, "status", "--home", str(tmp_path / "a-file")), "not a folder")
    one_line_exit_3(sohs(clinic, env, "run", "--home", "/sys/sohs-test-home"), "/sys/sohs-test-home")
    assert sorted(p.name for p in (clinic / "outbox").iterdir()) == names  # nothing moved


def test_a_portal_url_without_scheme_is_a_setting_mistake(tmp_path: Path, pki: TestPki) -> None:
    env = setup(tmp_path, pki, "egw.baohiemxahoi.gov.vn")
    clinic = tmp_path / "clinic"
    names = fill(clinic / "outbox", 1, "U")
    done = sohs(clinic, env, "run")
    one_line_exit_3(done, "egw.baohiemxahoi.gov.vn", "https://")
    assert "retry" not in done.stderr  # not retried as an outage
    assert sorted(p.name for p in (clinic / "outbox").iterdir()) == names


def test_read_only_data_folder(tmp_path: Path, pki: TestPki) -> None:
    with served(tmp_path, pki) as base:
        env = setup(tmp_path, pki, base)
        clinic = tmp_path / "clinic"
        assert sohs(clinic, env, "run").returncode == 0  # a ledger exists
        names = fill(clinic / "outbox", 2, "R")
        home = tmp_path / "home"
        with immutable(home):
            one_line_exit_3(sohs(clinic, env, "run"), str(home))
        assert sorted(p.name for p in (clinic / "outbox").iterdir()) == names
        assert httpx.get(f"{base}/_mock/submissions").json() == []
        done = sohs(clinic, env, "run", "--json")  # healed: everything goes
        assert done.returncode == 0 and json.loads(done.stdout)["delivered"] == 2, done.stdout + done.stderr


def test_file_size_limit_then_a_healthy_rerun_loses_and_repeats_nothing(tmp_path: Path, pki: TestPki) -> None:
    with served(tmp_path, pki) as base:
        env = setup(tmp_path, pki, base)
        clinic = tmp_path / "clinic"
        names = fill(clinic / "outbox", 30, "F")
        one_line_exit_3(sohs(clinic, env, "run", fsize=48 * 1024), "ulimit -f")
        done = sohs(clinic, env, "run", "--json")
        assert done.returncode == 0, done.stdout + done.stderr
        for name in names:
            assert (clinic / "sent" / name).exists(), name
        portal = httpx.get(f"{base}/_mock/submissions").json()
        assert len(portal) == 30 and all(s["times_received"] == 1 for s in portal)


def test_data_folder_on_another_filesystem(tmp_path: Path, pki: TestPki) -> None:
    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("no second filesystem at /dev/shm")
    with served(tmp_path, pki) as base:
        env = setup(tmp_path, pki, base)
        home = shm / f"sohs-test-{os.getpid()}-{tmp_path.name}"
        try:
            clinic = tmp_path / "clinic"
            names = fill(clinic / "outbox", 3, "X")
            done = sohs(clinic, env | {"SOHS_HOME": str(home)}, "run", "--json")
            assert done.returncode == 0, done.stdout + done.stderr
            for name in names:
                assert (clinic / "sent" / name).exists() and (clinic / "sent" / name.replace(".xml", ".signed.xml")
                                                               ).exists()
            assert not list((home / "work").iterdir())
        finally:
            subprocess.run(["rm", "-rf", str(home)], check=False)


def test_a_read_only_ledger_is_named_with_what_to_do(tmp_path: Path) -> None:
    from sohs_cli.submission.ledger import Ledger, ledger_trouble

    Ledger(tmp_path).close()
    ro = sqlite3.connect(f"file:{tmp_path / 'ledger.sqlite3'}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError) as real:
        ro.execute("DELETE FROM documents")
    error = ledger_trouble(tmp_path / "ledger.sqlite3", real.value)
    assert error.exit_code == 3 and "read-only" in error.message and "write access" in error.hint
