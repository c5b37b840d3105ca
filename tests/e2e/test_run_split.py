"""`sohs run` delivers what is deliverable (issue 14): against `sohs portal serve`, an export with one bad
episode has its other episodes delivered and the bad one filed with its errors; an export without
CHUKYDONVI is signed and delivered."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from sohs_cli.documents import samples
from sohs_cli.signing.testpki import TestPki
from tests.e2e.test_run import setup, sohs
from tests.portal_helpers import served


def test_run_splits_an_export_and_signs_one_without_chukydonvi(tmp_path: Path, pki: TestPki) -> None:
    episodes = [samples.hospital_episode(f"LK20251100010{i}", drugs=2, services=2, results=2, notes=1,
                                         **({"MA_THE_BHYT": "GD479792000001"} if i == 2 else {}))
                for i in range(1, 5)]
    with served(tmp_path, pki) as base:
        env = setup(tmp_path, pki, base)
        clinic = tmp_path / "clinic"
        (clinic / "outbox" / "export.xml").write_bytes(samples.export(episodes))
        slotless = samples.export(episodes[:1]).replace(b"  <CHUKYDONVI></CHUKYDONVI>\r\n", b"")
        (clinic / "outbox" / "no_slot.xml").write_bytes(slotless)
        done = sohs(clinic, env, "run", "--json")
        assert done.returncode == 1, done.stdout + done.stderr  # one episode is invalid: fix it
        report = json.loads(done.stdout)
        assert (report["delivered"], report["rejected"], report["failed"]) == (2, 1, 0), report
        where = {(e["ma_lk"], e["folder"]) for e in report["episodes"]}
        # where each episode went: the valid ones were delivered with their part (sent/), not left in the outbox
        assert where == {("LK202511000101", "sent"), ("LK202511000102", "rejected"),
                         ("LK202511000103", "sent"), ("LK202511000104", "sent")}
        sent = sorted(p.name for p in (clinic / "sent").iterdir())
        assert sent == ["export.valid.signed.xml", "export.valid.xml", "no_slot.signed.xml", "no_slot.xml"]
        rejected = sorted(p.name for p in (clinic / "rejected").iterdir())
        assert rejected == ["export.invalid.original.xml", "export.invalid.xml", "export.invalid.xml.errors.json"]
        errors = json.loads((clinic / "rejected" / "export.invalid.xml.errors.json").read_text(encoding="utf-8"))
        assert [e["ma_lk"] for e in errors["invalid_episodes"]] == ["LK202511000102"]
        assert errors["errors"][0]["code"] == "card-length" and errors["errors"][0]["ma_lk"] == "LK202511000102"
        assert errors["valid_part"] == "export.valid.xml"
        assert (clinic / "rejected" / "export.invalid.original.xml").read_bytes() == samples.export(episodes)
        assert b"<CHUKYDONVI><Signature" in (clinic / "sent" / "no_slot.signed.xml").read_bytes()
        ledger = sqlite3.connect(tmp_path / "home" / "ledger.sqlite3")
        lks = {(state, lk) for state, lk in ledger.execute(
            "SELECT d.state, l.ma_lk FROM document_lks l JOIN documents d ON d.id = l.document_id")}
        (path, message, found) = ledger.execute(
            "SELECT path, message, errors FROM documents WHERE state = 'rejected'").fetchone()
        ledger.close()
        assert {lk for state, lk in lks if state != "rejected"} == {
            "LK202511000101", "LK202511000103", "LK202511000104"}  # the valid ones, sent
        assert {lk for state, lk in lks if state == "rejected"} == {"LK202511000102"}  # and the invalid one
        assert path == str(clinic / "rejected" / "export.invalid.xml") and "not sent" in message
        assert json.loads(found)[0]["code"] == "card-length"
