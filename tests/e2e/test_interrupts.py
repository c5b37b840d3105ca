"""Ctrl-C in the middle of a batch that runs in worker processes: exit 130, one line, no traceback
from any process, nothing half-written left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sohs_cli.testpki import TestPki

ROOT = Path(__file__).resolve().parents[2]
SOHS = [sys.executable, "-m", "sohs_cli"]


def interrupt_when(proc: subprocess.Popen[bytes], marker: bytes, count: int) -> str:
    """Read stdout until ``marker`` was seen ``count`` times (work is under way), then do what Ctrl-C
    in a terminal does: SIGINT to the whole process group. Returns stderr."""
    assert proc.stdout is not None
    seen = 0
    while seen < count:
        line = proc.stdout.readline()
        assert line, "the run ended before it could be interrupted"
        seen += marker in line
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    return err.decode()


def assert_clean_interrupt(proc: subprocess.Popen[bytes], err: str) -> None:
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert "Traceback" not in err and "ForkPoolWorker" not in err, err


def test_ctrl_c_during_parallel_validation(tmp_path: Path) -> None:
    slip = (ROOT / "examples/tables/XML13_referral_3176.xml").read_bytes()
    for i in range(6000):
        (tmp_path / f"s{i:04d}.xml").write_bytes(slip)
    proc = subprocess.Popen([*SOHS, "validate", "--format", "json", "--jobs", "2", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    assert_clean_interrupt(proc, interrupt_when(proc, b'"path"', 300))


def test_ctrl_c_during_parallel_signing(tmp_path: Path, pki: TestPki) -> None:
    inbox, out = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    envelope = (ROOT / "examples/referral_episode_3176.xml").read_bytes()
    for i in range(1500):
        (inbox / f"e{i:04d}.xml").write_bytes(envelope)
    proc = subprocess.Popen([*SOHS, "sign", str(inbox), "--p12", str(pki.clinic_p12), "--password-file",
                             str(pki.password_file), "--out-dir", str(out), "--jobs", "2", "--no-validate"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    # sign reports when the batch is done; wait for the first signed files on disk instead
    while len(list(out.glob("*.xml"))) < 50 if out.exists() else True:
        assert proc.poll() is None, "the run ended before it could be interrupted"
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert_clean_interrupt(proc, err.decode())
    leftovers = [p.name for p in out.iterdir() if not p.name.endswith(".xml")]
    assert leftovers == [], "a file being written was left half-done"
    signed = list(out.glob("*.xml"))
    assert signed and all(p.read_bytes().rstrip().endswith(b"</GIAMDINHHS>") and b"</Signature>" in p.read_bytes()
                          for p in signed)  # every file written whole
    assert sorted(p.name for p in inbox.iterdir()) == sorted(f"e{i:04d}.xml" for i in range(1500))
