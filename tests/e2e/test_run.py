"""`sohs run`, `sohs doctor` against `sohs portal serve`: the lock, the folders, kill -9 in the middle."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx

from sohs_cli.signing.sign import FileSigner
from sohs_cli.signing.testpki import TestPki
from tests.portal_helpers import PASSWORD, USER, envelope, served

ROOT = Path(__file__).resolve().parents[2]


def setup(tmp_path: Path, pki: TestPki, base: str) -> dict[str, str]:
    """A clinic folder: sohs.toml, the four folders, and the environment cron would give."""
    clinic = tmp_path / "clinic"
    for folder in ("outbox", "sent", "rejected", "failed"):
        (clinic / folder).mkdir(parents=True, exist_ok=True)
    (clinic / "sohs.toml").write_text(
        f'facility = "79001"\n[portal]\nurl = "{base}"\nusername = "{USER}"\nconcurrency = 4\n'
        f'[signing]\np12 = "{pki.clinic_p12}"\npassword_file = "{pki.password_file}"\n'
        f'[run]\nsettle_seconds = 0\n', encoding="utf-8")
    return os.environ | {"SOHS_HOME": str(tmp_path / "home"), "SOHS_PORTAL_PASSWORD": PASSWORD, "SOHS_LANG": "en"}


def sohs(clinic: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sohs_cli", *args], cwd=clinic, env=env, capture_output=True,
                          text=True, timeout=300)


def fill_outbox(outbox: Path, examples: Path, count: int, prefix: str) -> list[str]:
    names = []
    for i in range(count):
        name = f"{prefix}_{i:03d}.xml"
        (outbox / name).write_bytes(envelope(f"LK{prefix}{i:05d}"))
        names.append(name)
    shutil.copy(examples / "tables" / "XML1_referral_3176.xml", outbox / f"{prefix}_XML1.xml")
    shutil.copy(examples / "tables" / "XML13_referral_3176.xml", outbox / f"{prefix}_XML13.xml")
    return [*names, f"{prefix}_XML1.xml", f"{prefix}_XML13.xml"]


def where(clinic: Path, name: str) -> list[str]:
    """The folders an original outbox file is in (packed tables travel inside NAME.tables/)."""
    found = [f for f in ("outbox", "sent", "rejected", "failed") if (clinic / f / name).exists()]
    found += [f"{f}/tables" for f in ("sent", "rejected") for t in (clinic / f).glob("*.tables") if (t / name).exists()]
    found += ["outbox/.packed" for t in (clinic / "outbox" / ".packed").glob("*") if (t / name).exists()]
    return found


def test_run_files_every_document_and_a_second_run_exits_5(tmp_path: Path, pki: TestPki, examples: Path) -> None:
    with served(tmp_path, pki) as base:
        env = setup(tmp_path, pki, base)
        clinic = tmp_path / "clinic"
        names = fill_outbox(clinic / "outbox", examples, 3, "A")
        shutil.copy(examples / "invalid_card_length_3176.xml", clinic / "outbox")
        (clinic / "outbox" / "broken.xml").write_text("not xml at all")
        (clinic / "outbox" / "still-writing.xml.part").write_text("<GIAMDINHHS>")
        holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from pathlib import Path; "
                                   "from sohs_cli.foundation.datalock import DataLock; "
                                   "lock = DataLock(Path(sys.argv[1]), 'run').acquire(); "
                                   "print('held', flush=True); time.sleep(60)", str(tmp_path / "home")],
                                  stdout=subprocess.PIPE, text=True)
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        before = sorted(p.name for p in (clinic / "outbox").iterdir())
        second = sohs(clinic, env, "run")
        assert second.returncode == 5 and "another sohs command holds the lock" in second.stderr
        assert "sohs run since" in second.stderr  # who holds it
        assert sorted(p.name for p in (clinic / "outbox").iterdir()) == before  # nothing changed
        holder.send_signal(signal.SIGKILL)  # the holder dies: its lock goes with it
        holder.wait()
        done = sohs(clinic, env, "run", "--json")
        assert done.returncode == 1, done.stdout + done.stderr  # one document is invalid: fix the data
        report = json.loads(done.stdout)
        assert (report["delivered"], report["packed"], report["rejected"], report["failed"]) == (4, 1, 1, 1)
        for name in names:
            assert where(clinic, name) in (["sent"], ["sent/tables"]), name
        assert (clinic / "rejected" / "invalid_card_length_3176.xml.errors.json").exists()
        errors = json.loads((clinic / "rejected" / "invalid_card_length_3176.xml.errors.json").read_text())
        assert errors["errors"][0]["label"] == "Mã thẻ BHYT"
        assert (clinic / "failed" / "broken.xml").exists()
        assert (clinic / "outbox" / "still-writing.xml.part").exists()
        log = [json.loads(line) for line in (tmp_path / "home" / "sohs.log").read_text().splitlines()]
        assert log[0]["event"] == "end" and log[0]["exit_code"] == 5  # the run refused by the lock says so
        assert log[1]["event"] == "start" and log[-1]["event"] == "end" and log[-1]["exit_code"] == 1
        assert PASSWORD not in (tmp_path / "home" / "sohs.log").read_text()
        again = sohs(clinic, env, "run", "--json")
        assert again.returncode == 0 and json.loads(again.stdout)["picked"] == 0
        # the ledger follows the files it sent …
        ledger = sqlite3.connect(tmp_path / "home" / "ledger.sqlite3")
        paths = [Path(p) for (p,) in ledger.execute("SELECT path FROM documents WHERE transaction_id != ''")]
        assert paths and all(p.exists() and p.parent == clinic / "sent" for p in paths)
        # … and knows what sohs refused itself, where it is and why (issue 16: they never reached it)
        refused = {Path(p): m for p, m in ledger.execute("SELECT path, message FROM documents WHERE state = "
                                                         "'rejected'")}
        assert set(refused) == {clinic / "failed" / "broken.xml", clinic / "rejected" / "invalid_card_length_3176.xml"}
        assert all(m.startswith("not sent (") for m in refused.values())
        status = sohs(clinic, env, "status", "--state", "rejected", "--json")
        assert status.returncode == 1 and len(json.loads(status.stdout)["documents"]) == 2
        # … and a document the portal refuses while processing it leaves sent/ for rejected/
        victim = next(p for p in paths if p.name == "A_000.signed.xml")
        ledger.execute("UPDATE documents SET state = 'rejected', errors = ? WHERE path = ?",
                       (json.dumps([{"truong": "MA_THE_BHYT", "nhan": "Mã thẻ BHYT", "moTa": "sai"}]), str(victim)))
        ledger.commit()
        after = sohs(clinic, env, "run", "--json")
        assert after.returncode == 1 and json.loads(after.stdout)["rejected"] == 1
        assert not (clinic / "sent" / "A_000.xml").exists() and not victim.exists()
        assert (clinic / "rejected" / "A_000.xml").exists() and (clinic / "rejected" / "A_000.signed.xml").exists()
        moved = json.loads((clinic / "rejected" / "A_000.xml.errors.json").read_text())
        assert moved["errors"][0]["nhan"] == "Mã thẻ BHYT" and "after processing" in moved["message"]
        (now_at,) = ledger.execute("SELECT path FROM documents WHERE state = 'rejected' AND transaction_id != ''"
                                   ).fetchone()
        assert now_at == str(clinic / "rejected" / "A_000.signed.xml")
        ledger.close()


#: ``sohs run`` that dies (``os._exit``, as ``kill -9``: no cleanup) right after the first file lands in sent/
DIE_IN_SENT = """
import os, sys
from sohs_cli.submission import pipeline
real = pipeline.move
def move(src, dst):
    real(src, dst)
    if os.path.basename(os.path.dirname(dst)) == "sent":
        os._exit(137)
pipeline.move = move
sys.argv = ["sohs", "run"]
from sohs_cli.cli.app import main
main()
"""


def test_killed_between_filing_an_envelope_and_its_signed_copy(tmp_path: Path, pki: TestPki) -> None:
    """A run killed while it files a delivered envelope (two moves: the original, its signed copy)
    loses neither: the next run finds each envelope in sent/ beside its signed copy, and nothing left
    in the work folder. Filing the original first left the delivered bytes in SOHS_HOME/work, out of
    sent/ for good (test_kill_9_during_a_run counted 400 signed copies of 401 once in CI)."""
    with served(tmp_path, pki) as base:
        env = setup(tmp_path, pki, base)
        folder = tmp_path / "clinic"
        names = [f"K_{i}.xml" for i in range(3)]
        for i, name in enumerate(names):
            (folder / "outbox" / name).write_bytes(envelope(f"LKKILL{i:05d}"))
        died = subprocess.run([sys.executable, "-c", DIE_IN_SENT], cwd=folder, env=env, capture_output=True,
                              text=True, timeout=300)
        assert died.returncode == 137, died.stderr[-2000:]
        rerun = sohs(folder, env, "run")
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        portal = {s["sha256"]: s for s in httpx.get(f"{base}/_mock/submissions").json()}
    sent = folder / "sent"
    for name in names:
        assert (sent / name).exists() and (sent / name.replace(".xml", ".signed.xml")).exists(), sorted(
            p.name for p in sent.iterdir())
    signed = [p for p in sent.glob("*.signed.xml")]
    assert len(signed) == 3  # no second copy of the one whose filing was cut short
    assert all(portal[hashlib.sha256(p.read_bytes()).hexdigest()]["times_received"] == 1 for p in signed)
    assert not list((tmp_path / "home" / "work").glob("*.xml"))  # nothing delivered is left behind


def test_kill_9_during_a_run(tmp_path: Path, pki: TestPki, examples: Path, clinic: FileSigner) -> None:
    rng = random.Random(7)
    killed = 0
    with served(tmp_path, pki) as base:
        env = setup(tmp_path, pki, base)
        folder = tmp_path / "clinic"
        # Kill moments are drawn within the time a whole run takes on this machine: calibrate first.
        fill_outbox(folder / "outbox", examples, 80, "C")
        started = time.perf_counter()
        assert sohs(folder, env, "run").returncode == 0
        duration = time.perf_counter() - started
        for trial in range(4):
            names = fill_outbox(folder / "outbox", examples, 80, f"T{trial}")
            proc = subprocess.Popen([sys.executable, "-m", "sohs_cli", "run"], cwd=folder, env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.1, 0.9) * duration)
            killed += proc.poll() is None
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            rerun = sohs(folder, env, "run")
            assert rerun.returncode == 0, rerun.stdout + rerun.stderr
            for name in names:  # every outbox file ends in exactly one folder
                assert len(where(folder, name)) == 1 and where(folder, name)[0].startswith("sent"), (trial, name)
        portal = httpx.get(f"{base}/_mock/submissions").json()
    signed = {hashlib.sha256(p.read_bytes()).hexdigest() for p in (folder / "sent").glob("*.signed.xml")}
    on_portal = [s for s in portal if s["sha256"] in signed]
    # 80 envelopes per run (the calibration and four trials), and the packed example tables: the same
    # envelope every run (same bytes, recognised by the ledger as delivered and only filed again)
    assert len(on_portal) == len(signed) == 5 * 80 + 1
    assert all(s["times_received"] == 1 for s in on_portal)  # each on the portal at most once
    assert killed >= 2, "the kills mostly missed the runs"


def test_doctor(tmp_path: Path, pki: TestPki) -> None:
    with served(tmp_path, pki) as base:
        env = setup(tmp_path, pki, base)
        ok = sohs(tmp_path / "clinic", env, "doctor")
        assert ok.returncode == 0, ok.stdout
        for check in ("settings", "certificate", "key matches", "expiry", "data folder", "ledger",
                      "portal reachable", "login", "clock"):
            assert f"ok   {check}" in ok.stdout, check
        bad = sohs(tmp_path / "clinic", env | {"SOHS_PORTAL_PASSWORD": "wrong-pw-7x"}, "doctor")
        assert bad.returncode == 3 and "FAIL login" in bad.stdout and "wrong-pw-7x" not in bad.stdout
