"""`sohs run` on an outbox whose content names files (issue 16): MA_LK `../x`, absolute paths, `..`,
`sub/dir/X` and 300-byte values stay inside the folders; a group that cannot be packed is rejected
with its reason while the rest goes on; tables a dead run left in `outbox/.packed/` are recovered."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

from sohs_cli.documents import samples
from sohs_cli.signing.testpki import TestPki
from tests.e2e.test_run import setup, sohs
from tests.portal_helpers import served

HOSTILE_LKS = ["../escaped", "sub/dir/X", "..", "ạ" * 100, "ABSOLUTE", "LKSAME", "LKSAME."]


def tables(outbox: Path, lk: str, prefix: str) -> list[str]:
    base = samples.xml1_values("3176", lk, ma_loai_rv="2")
    (outbox / f"{prefix}_XML1.xml").write_bytes(samples.xml1("3176", lk, ma_loai_rv="2"))
    (outbox / f"{prefix}_XML13.xml").write_bytes(samples.xml13("3176", lk, base))
    return [f"{prefix}_XML1.xml", f"{prefix}_XML13.xml"]


def test_names_from_content_stay_inside_and_one_bad_group_stops_nothing(tmp_path: Path, pki: TestPki) -> None:
    with served(tmp_path, pki) as base:
        env = setup(tmp_path, pki, base)
        clinic = tmp_path / "clinic"
        outbox = clinic / "outbox"
        absolute = tmp_path / "abs-escape"  # an absolute path as MA_LK
        lks = [str(absolute) if lk == "ABSOLUTE" else lk for lk in HOSTILE_LKS]
        names = [n for i, lk in enumerate(lks) for n in tables(outbox, lk, f"h{i}")]
        # a re-export: two XML1 tables of one episode cannot be packed (a HOSO holds one of each)
        dup = tables(outbox, "LKDUP", "dup")
        (outbox / "dup_XML1_again.xml").write_bytes((outbox / "dup_XML1.xml").read_bytes())
        # tables a dead run had stashed, whose envelope is nowhere: they come back to the outbox …
        stash = outbox / ".packed" / "LKLOST"
        stash.mkdir(parents=True)
        lost = tables(stash, "LKLOST", "lost")
        # … and those whose envelope was filed under another name (sent/LKFILED-1.xml) follow it there
        filed = outbox / ".packed" / "LKFILED"
        filed.mkdir()
        (clinic / "sent" / "LKFILED-1.xml").write_bytes(b"<GIAMDINHHS/>")
        (filed / ".envelope.json").write_text(json.dumps({"envelope": "LKFILED.xml", "sha256": hashlib.sha256(
            b"<GIAMDINHHS/>").hexdigest()}))
        (filed / "f_XML1.xml").write_bytes(b"<TONG_HOP/>")
        run = sohs(clinic, env, "run", "--json")
        assert run.returncode == 1, run.stdout + run.stderr  # the duplicate group is rejected, nothing else
        report = json.loads(run.stdout)
        assert report["delivered"] == len(HOSTILE_LKS) + 1 and report["rejected"] == 3, report
        assert (clinic / "sent" / "LKFILED-1.tables" / "f_XML1.xml").exists()
        rejected = {f["file"]: f["message"] for f in report["files"] if f["folder"] == "rejected"}
        assert set(rejected) == {*dup, "dup_XML1_again.xml"} and all("two XML1" in m for m in rejected.values())
        assert not list(tmp_path.glob("abs-escape*"))
        assert sorted(p.name for p in clinic.iterdir()) == ["failed", "outbox", "rejected", "sent", "sohs.toml"]
        assert not [p for p in (clinic / "sent").rglob("*") if p.is_dir() and not p.name.endswith(".tables")]
        for name in [*names, *lost]:
            assert len(list((clinic / "sent").rglob(name))) == 1, name
        assert not [p for p in outbox.rglob("*") if p.is_file()], list(outbox.rglob("*"))
        again = sohs(clinic, env, "run", "--json")  # the next night: nothing left over, nothing crashes
        assert again.returncode == 0 and json.loads(again.stdout)["picked"] == 0, again.stdout + again.stderr
        db = sqlite3.connect(tmp_path / "home" / "ledger.sqlite3")
        paths = [Path(p) for (p,) in db.execute("SELECT path FROM documents WHERE state != 'rejected'")]
        assert paths and all(p.exists() and p.parent == clinic / "sent" for p in paths)
