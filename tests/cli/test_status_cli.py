"""`sohs status` for people and scripts (issue 17): --limit/--sort, --csv with every --json column and
a BOM, --json against its schema, --explain in the run's language."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sohs_cli.cli.app import build_app
from tests.cli.schemas import assert_schema
from tests.dashboard_helpers import CARD_ERROR, DATE_ERROR, Doc, fill

runner = CliRunner()
DOCS = [
    Doc("c.xml", "accepted", "2026-11-30T05:00:00Z", ma_lks=("LK1",)),
    Doc("a.xml", "rejected", "2026-11-30T16:00:00Z", ma_lks=("LK2",), errors=[CARD_ERROR, DATE_ERROR]),
    Doc("b.xml", "pending", "2026-12-01T04:00:00Z", ma_lks=("LK3", "LK4")),
]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    fill(tmp_path / "home", DOCS, tmp_path / "sent")
    return tmp_path / "home"


def run(home: Path, *args: str) -> tuple[int, bytes, str]:
    argv = ["status", "--home", str(home), *args]
    result = runner.invoke(build_app(argv), argv)
    return result.exit_code, result.stdout_bytes, result.stderr


def names(out: bytes) -> list[str]:
    return [Path(d["path"]).name for d in json.loads(out)["documents"]]


def test_json_matches_its_schema(home: Path) -> None:
    code, out, _ = run(home, "--json")
    assert code == 1  # the selection holds a rejected document
    data = json.loads(out)
    assert_schema("status", data)
    assert data["schema"] == "sohs.status/1" and data["summary"] == {"accepted": 1, "rejected": 1, "pending": 1}


def test_sort_reverse_and_limit(home: Path) -> None:
    assert names(run(home, "--json")[1]) == ["c.xml", "a.xml", "b.xml"]  # first seen
    assert names(run(home, "--json", "--sort", "path")[1]) == ["a.xml", "b.xml", "c.xml"]
    assert names(run(home, "--json", "--sort", "path", "--reverse")[1]) == ["c.xml", "b.xml", "a.xml"]
    code, out, _ = run(home, "--json", "--limit", "1")
    assert code == 0 and names(out) == ["c.xml"]  # exit and summary follow what is shown
    assert json.loads(out)["summary"] == {"accepted": 1}
    assert names(run(home, "--json", "--sort", "state", "--limit", "2")[1]) == ["c.xml", "b.xml"]
    assert run(home, "--limit", "0")[0] == 2


def test_csv_has_a_bom_and_every_json_column(home: Path) -> None:
    code, out, _ = run(home, "--csv")
    assert code == 1
    assert out.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 (Vietnamese) only with the BOM
    rows = list(csv.DictReader(io.StringIO(out.decode("utf-8-sig"))))
    documents = json.loads(run(home, "--json")[1])["documents"]
    assert list(rows[0]) == list(documents[0])  # every --json field, in its order
    for row, doc in zip(rows, documents, strict=True):
        assert row["ma_lk"] == ";".join(doc["ma_lk"])
        assert json.loads(row["errors"]) == doc["errors"]
        assert row["processed_at"] == (doc["processed_at"] or "") and row["facility"] == doc["facility"]
    assert "Mã thẻ BHYT" in out.decode("utf-8-sig")


def test_csv_help_says_bom(home: Path) -> None:
    result = runner.invoke(build_app(["status", "--help"]), ["status", "--help"])
    assert "BOM" in result.stdout and "Excel" in result.stdout


def test_explain_shows_the_english_text_in_english_mode(home: Path) -> None:
    """The bug: `status --explain` showed the Vietnamese field errors in English mode though the
    English text is stored."""
    code, out, _ = run(home, "--explain", "LK2")
    assert code == 1
    text = out.decode()
    assert "card 'GD479792000001' has 14 characters, each card needs 15" in text
    assert "mỗi thẻ cần 15" not in text
    assert "MA_THE_BHYT (Mã thẻ BHYT)" in text  # the element with its Vietnamese label, in both modes
    argv = ["--lang", "vi", "status", "--home", str(home), "--explain", "LK2"]
    vi = runner.invoke(build_app(argv), argv).stdout
    assert "mỗi thẻ cần 15" in vi and "each card needs" not in vi and "MA_THE_BHYT (Mã thẻ BHYT)" in vi
    assert "trạng thái" in vi and "từ chối" in vi


def test_vietnamese_table_has_no_english_word(home: Path) -> None:
    argv = ["--lang", "vi", "status", "--home", str(home)]
    out = runner.invoke(build_app(argv), argv, env={"COLUMNS": "300"}).stdout
    for english in ("document(s)", "accepted", "rejected", "pending", "state", "received", "message",
                    "field error"):
        assert english not in out, english
    assert "3 hồ sơ" in out and "2 lỗi trường" in out
