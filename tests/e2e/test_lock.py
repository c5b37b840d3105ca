"""One lock per data folder for every command that sends: `sohs submit` and `sohs run` exclude each
other (issue 16: both at once sent every document twice), on every platform (filelock, not fcntl)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from sohs_cli.signing.sign import FileSigner
from sohs_cli.signing.testpki import TestPki
from tests.e2e.test_run import setup, sohs
from tests.e2e.test_submit_http import write_batch
from tests.portal_helpers import served

HOLD = ("import sys, time, filelock; lock = filelock.FileLock(sys.argv[1], timeout=0); lock.acquire(); "
        "print('held', flush=True); time.sleep(120)")


def test_submit_and_run_exit_5_while_another_sender_holds_the_data_folder(tmp_path: Path, pki: TestPki,
                                                                          clinic: FileSigner) -> None:
    with served(tmp_path, pki) as base:
        env = setup(tmp_path, pki, base)
        folder = tmp_path / "clinic"
        write_batch(folder / "outbox", clinic, 3, "LKLOCK")
        (tmp_path / "home").mkdir()
        holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / "home" / "run.lock")],
                                  stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
            submit = sohs(folder, env, "submit", "outbox")
            assert submit.returncode == 5, submit.stdout + submit.stderr
            assert "holds the lock" in submit.stderr and "Traceback" not in submit.stderr
            run = sohs(folder, env, "run", "--json")
            assert run.returncode == 5, run.stdout + run.stderr
            assert httpx.get(f"{base}/_mock/submissions").json() == []  # nothing left while it was held
        finally:
            holder.kill()
            holder.wait()
        done = sohs(folder, env, "submit", "outbox")
        assert done.returncode == 0, done.stdout + done.stderr
        assert len(httpx.get(f"{base}/_mock/submissions").json()) == 3


def test_the_nightly_run_needs_no_fcntl(tmp_path: Path) -> None:
    """Windows has no fcntl: importing the run and the lock without it must work (it exited 70)."""
    code = ("import sys; sys.modules['fcntl'] = None\n"
            "import sohs_cli.submission.pipeline, sohs_cli.foundation.datalock, sohs_cli.cli.run, sohs_cli.cli.submit\n"
            "print('ok')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
