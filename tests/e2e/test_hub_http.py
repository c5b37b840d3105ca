"""`sohs submit` and `sohs status` with a checkup envelope against `sohs portal serve` over real HTTP on
loopback: the QĐ 2062 PL02 login and push, the issued message key, one clear line when it is wrong."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from sohs_cli.signing.sign import FileSigner, sign_document
from sohs_cli.signing.testpki import TestPki
from tests.e2e.test_submit_http import sohs, sohs_env
from tests.portal_helpers import GLN, PASSWORD, USER, served


def hub_env(home: Path, base: str, pki: TestPki, **extra: str) -> dict[str, str]:
    return sohs_env(home, base, **({"SOHS_HUB_URL": base, "SOHS_HUB_GLN": GLN, "SOHS_HUB_USERNAME": USER,
                                    "SOHS_HUB_PASSWORD": PASSWORD, "SOHS_HUB_MESSAGE_KEY": pki.hub_key,
                                    "SOHS_VERIFY_CA_BUNDLE": pki.ca_cert} | extra))


def test_a_checkup_record_is_pushed_with_the_issued_key_and_accepted(tmp_path: Path, pki: TestPki, examples: Path,
                                                                     clinic: FileSigner, doctor: FileSigner) -> None:
    raw = (examples / "checkup_adult_2062.xml").read_bytes()
    (tmp_path / "out").mkdir()
    record = tmp_path / "out" / "ksk.xml"
    record.write_bytes(sign_document(sign_document(raw, doctor, role="doctor"), clinic))
    with served(tmp_path, pki) as base:
        # the facility's signing key is not the Ministry-issued message key: refused, exit 3, one line
        wrong = sohs("submit", str(record), env=hub_env(tmp_path / "home-wrong", base, pki,
                                                        SOHS_HUB_MESSAGE_KEY=pki.clinic_key))
        assert wrong.returncode == 3, wrong.stdout + wrong.stderr
        assert "PS_DS_RSA_SIGNATURE_INVALID" in wrong.stderr and "hub.message_key" in wrong.stderr
        assert "Traceback" not in wrong.stderr
        env = hub_env(tmp_path / "home", base, pki)
        done = sohs("submit", str(record), env=env)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "1 delivered" in done.stdout
        status = sohs("status", "--json", env=env)
        docs = json.loads(status.stdout)["documents"]
        assert [d["state"] for d in docs] == ["accepted"], docs  # the hub's answer is final: no lookup API
        assert docs[0]["transaction_id"].startswith(f"DS-{GLN}-")
        on_hub = [s for s in httpx.get(f"{base}/_mock/submissions", timeout=30).json() if s["service"] == "ksk"]
        assert len(on_hub) == 1 and on_hub[0]["maGiaoDich"] == docs[0]["transaction_id"]


def test_sohs_run_signs_both_slots_pushes_with_the_issued_key_and_status_shows_accepted(
        tmp_path: Path, pki: TestPki, examples: Path) -> None:
    """Issue 13's "done when": a checkup record in the outbox is signed by the doctor (signing.doctor_p12)
    and then by the facility, pushed to the simulated hub with hub.message_key, accepted in sohs status;
    the hub's signed reply verified with hub.reply_key."""
    import shutil
    import subprocess
    import sys

    clinic = tmp_path / "clinic"
    for folder in ("outbox", "sent", "rejected", "failed"):
        (clinic / folder).mkdir(parents=True)
    shutil.copy(examples / "checkup_adult_2062.xml", clinic / "outbox")
    with served(tmp_path, pki, "--hub-key", pki.hub_own_key) as base:  # the hub signs its replies (PL02 §4)
        (clinic / "sohs.toml").write_text(
            f'[portal]\nurl = "{base}"\nusername = "{USER}"\n'
            f'[hub]\nurl = "{base}"\ngln = "{GLN}"\nmessage_key = "{pki.hub_key}"\n'
            f'reply_key = "{pki.hub_own_key_public}"\n'
            f'[signing]\np12 = "{pki.clinic_p12}"\npassword_file = "{pki.password_file}"\n'
            f'doctor_p12 = "{pki.doctor_p12}"\ndoctor_password_file = "{pki.password_file}"\n'
            f'[run]\nsettle_seconds = 0\n', encoding="utf-8")
        env = hub_env(tmp_path / "home", base, pki)
        for key in ("SOHS_HUB_URL", "SOHS_HUB_GLN", "SOHS_HUB_MESSAGE_KEY", "SOHS_PORTAL_URL", "SOHS_VERIFY_CA_BUNDLE"):
            env.pop(key, None)  # from sohs.toml, as cron would have it

        def sohs_in_clinic(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([sys.executable, "-m", "sohs_cli", *args], cwd=clinic, env=env,
                                  capture_output=True, text=True, timeout=300)

        done = sohs_in_clinic("run")
        assert done.returncode == 0, done.stdout + done.stderr
        assert (clinic / "sent" / "checkup_adult_2062.xml").exists()
        status = sohs_in_clinic("status", "--json")
        docs = json.loads(status.stdout)["documents"]
        assert [(d["kind"], d["state"]) for d in docs] == [("KHAMSUCKHOE", "accepted")], docs
        on_hub = [s for s in httpx.get(f"{base}/_mock/submissions", timeout=30).json() if s["service"] == "ksk"]
        assert len(on_hub) == 1 and on_hub[0]["maGiaoDich"] == docs[0]["transaction_id"]
