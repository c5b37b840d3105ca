"""Names built from content stay inside their folder, bounded and unique (issue 16)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sohs_cli.foundation.filenames import MAX_STEM_BYTES, NameBook, safe_stem

HOSTILE = ["../x", "../../etc/cron.d/x", "/etc/passwd", "..", ".", "sub/dir/X", "a\\b", "C:evil", "ạ" * 100,
           "x" * 300, "CON", "nul.txt", ".hidden", "", " ", "a\x00b", "tab\there", "LK 01 "]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_hostile_value_becomes_one_bounded_name_inside_the_folder(tmp_path: Path, text: str) -> None:
    stem = safe_stem(text)
    assert stem and "/" not in stem and "\\" not in stem and "\x00" not in stem and ":" not in stem
    assert not stem.startswith(".") and stem.split(".")[0].upper() not in ("CON", "NUL")
    assert len(stem.encode("utf-8")) <= MAX_STEM_BYTES
    target = tmp_path / f"{stem}.signed.xml.errors.json"
    target.write_text("x")  # the filesystem takes it (a 300-byte name did not)
    assert target.resolve().parent == tmp_path.resolve()


def test_ordinary_values_keep_their_name() -> None:
    assert safe_stem("LK2025110001") == "LK2025110001"
    assert safe_stem("LK-2025_11.01") == "LK-2025_11.01"
    assert safe_stem("Mãliênkết") == "Mãliênkết"


def test_values_that_clean_up_alike_get_different_names() -> None:
    names = {safe_stem(t) for t in ("a/b", "a_b", "a:b", "a\\b", "ạ" * 100, "ạ" * 99 + "a")}
    assert len(names) == 6


def test_a_name_book_never_hands_out_a_name_twice_nor_an_existing_file(tmp_path: Path) -> None:
    (tmp_path / "X.xml").write_text("there")
    book = NameBook(tmp_path)
    first, second, third = book.claim("X"), book.claim("X"), book.claim("x")
    assert [p.name for p in (first, second, third)] == ["X-1.xml", "X-2.xml", "x.xml"]
    (tmp_path / "Y.tables").mkdir()
    assert book.claim("Y", also=(".tables",)).name == "Y-1.xml"
    assert [p.name for p in (NameBook().claim("a"), )] == ["a.xml"]
