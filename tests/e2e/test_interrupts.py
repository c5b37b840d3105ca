"""Ctrl-C in the middle of a batch that runs in worker processes: exit 130, one line, no traceback
from any process, nothing half-written left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sohs_cli.signing.testpki import TestPki

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


def test_sigterm_during_submit_answers_what_is_in_flight_records_it_and_exits_143(tmp_path: Path,
                                                                                    pki: TestPki) -> None:
    """systemd stopping `sohs submit`: the requests in flight get their answers and the ledger records
    them (no attempt is left `sending`); nothing more is read or sent; one line, exit 143. The next
    submit sends the rest, and the portal holds every document once."""
    import sqlite3

    import httpx

    from sohs_cli.foundation.credentials import SecretSource
    from sohs_cli.signing.certs import load_key_material
    from sohs_cli.signing.sign import FileSigner
    from tests.portal_helpers import PASSWORD, USER, served, signed

    signer = FileSigner(load_key_material(p12=pki.clinic_p12, password=SecretSource("p", "-", pki.password_file)))
    folder = tmp_path / "signed"
    folder.mkdir()
    for i in range(120):
        (folder / f"h{i:03d}.xml").write_bytes(signed(signer, f"LKSTOP{i:05d}"))
    with served(tmp_path, pki, "--latency", "0.1") as base:
        env = os.environ | {"SOHS_HOME": str(tmp_path / "home"), "SOHS_PORTAL_URL": base, "SOHS_LANG": "en",
                            "SOHS_PORTAL_USERNAME": USER, "SOHS_PORTAL_PASSWORD": PASSWORD,
                            "SOHS_VERIFY_CA_BUNDLE": pki.ca_cert}
        command = [*SOHS, "submit", str(folder), "--concurrency", "2"]
        proc = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        assert proc.stdout is not None
        delivered = 0
        while delivered < 4:  # sending is under way: answers are coming back
            line = proc.stdout.readline()
            assert line, "submit ended before SIGTERM"
            delivered += line.startswith(b"delivered ")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
        text = err.decode()
        assert proc.returncode == 143, text
        assert "Traceback" not in text and [line for line in text.splitlines() if "SIGTERM" in line] == \
            [line for line in text.splitlines() if line.strip()], text  # one line, about SIGTERM
        summary = out.splitlines()[-1]
        assert b"not-sent" in summary or b"not taken" in summary  # the summary names what was left
        portal = httpx.get(f"{base}/_mock/submissions").json()
        with sqlite3.connect(tmp_path / "home" / "ledger.sqlite3") as db:
            open_attempts = db.execute("SELECT count(*) FROM attempts WHERE outcome = 'sending'").fetchone()[0]
            receipts = {r[0] for r in db.execute("SELECT transaction_id FROM attempts WHERE outcome = 'accepted'")}
        assert open_attempts == 0  # what was in flight was answered and recorded
        assert receipts == {s["maGiaoDich"] for s in portal}  # every receipt the portal gave, and no other
        assert 4 <= len(portal) < 120  # stopped: the rest was not sent
        again = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=300)
        assert again.returncode == 0, again.stderr.decode()
        portal = httpx.get(f"{base}/_mock/submissions").json()
        assert len(portal) == 120 and all(s["times_received"] == 1 for s in portal)


def test_sigterm_during_a_retry_wait_stops_at_once_with_143(tmp_path: Path, pki: TestPki) -> None:
    """systemd stopping `sohs submit` while it waits to retry (a portal that says "come back in two
    minutes", Retry-After: 120): the wait ends within a slice, nothing more is sent, the summary line
    and exit 143, not a stop of two minutes that systemd would end with SIGKILL (TimeoutStopSec, 90 s)."""
    import http.server
    import threading

    from sohs_cli.foundation.credentials import SecretSource
    from sohs_cli.signing.certs import load_key_material
    from sohs_cli.signing.sign import FileSigner
    from tests.portal_helpers import PASSWORD, USER, signed

    requests: list[str] = []

    class Busy(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            requests.append(self.path)
            self.send_response(429)
            self.send_header("Retry-After", "120")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Busy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    signer = FileSigner(load_key_material(p12=pki.clinic_p12, password=SecretSource("p", "-", pki.password_file)))
    folder = tmp_path / "signed"
    folder.mkdir()
    (folder / "h.xml").write_bytes(signed(signer, "LKWAIT00001"))
    env = os.environ | {"SOHS_HOME": str(tmp_path / "home"), "SOHS_PORTAL_URL": f"http://127.0.0.1:{server.server_port}",
                        "SOHS_PORTAL_USERNAME": USER, "SOHS_PORTAL_PASSWORD": PASSWORD, "SOHS_LANG": "en",
                        "SOHS_VERIFY_CA_BUNDLE": pki.ca_cert}
    try:
        proc = subprocess.Popen([*SOHS, "submit", str(folder)], env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stderr is not None
        line = proc.stderr.readline()  # the retry notice: the wait has begun
        assert b"retry 1/" in line and b"120.0 s" in line, line
        proc.send_signal(signal.SIGTERM)
        try:
            _, err = proc.communicate(timeout=30)  # the wait was 120 s
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise AssertionError("SIGTERM did not cut the 120 s retry wait short") from None
    finally:
        server.shutdown()
        server.server_close()
    text = err.decode()
    assert proc.returncode == 143, text
    assert "Traceback" not in text and "SIGTERM" in text, text
    assert len(requests) == 1  # the wait was not followed by a retry
