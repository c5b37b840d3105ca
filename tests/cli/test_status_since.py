"""`sohs status --since` (issue 16): ISO dates, dd/mm/yyyy, relative forms; anything else exit 2
(`zzz` selected nothing and `0` everything, without a word)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sohs_cli.cli.app import build_app
from sohs_cli.cli.status import parse_since
from sohs_cli.submission.ledger import DocumentInfo, Ledger

runner = CliRunner()
NOW = dt.datetime(2026, 12, 2, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=7)))  # Hà Nội morning


@pytest.mark.parametrize(("text", "utc"), [
    ("2026-12-01", "2026-11-30T17:00:00Z"), ("01/12/2026", "2026-11-30T17:00:00Z"),
    ("today", "2026-12-01T17:00:00Z"), ("yesterday", "2026-11-30T17:00:00Z"), ("hôm qua", "2026-11-30T17:00:00Z"),
    ("7d", "2026-11-25T03:30:00Z"), ("12h", "2026-12-01T15:30:00Z"), ("2w", "2026-11-18T03:30:00Z"),
    ("2026-12-01T08:00", "2026-12-01T08:00:00Z"), ("2026-12-01T08:00+07:00", "2026-12-01T01:00:00Z")])
def test_accepted_forms(text: str, utc: str) -> None:
    assert parse_since(text, NOW) == utc


def test_other_text_is_a_usage_error_and_forms_select_what_they_say(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ledger = Ledger(home)
    for i, stamp in enumerate(("2026-11-01T00:00:00Z", dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))):
        ledger.record(DocumentInfo(f"{i:064d}", f"/x/{i}.xml", "GIAMDINHHS", "3176", "79001", (f"LK{i}",), "/e"))
        ledger.db.execute("UPDATE documents SET updated_at = ? WHERE sha256 = ?", (stamp, f"{i:064d}"))
    ledger.close()
    for bad in ("zzz", "0", "32/13/2026", "2026-13-01", "7x", ""):
        r = runner.invoke(build_app(), ["status", "--home", str(home), "--since", bad])
        assert r.exit_code == 2, (bad, r.output)
    for text, count in (("2026-10-31", 2), ("31/10/2026", 2), ("7d", 1), ("today", 1), ("2099-01-01", 0)):
        r = runner.invoke(build_app(), ["status", "--home", str(home), "--since", text, "--json"])
        assert r.exit_code == 0, r.output
        assert len(json.loads(r.stdout)["documents"]) == count, text
