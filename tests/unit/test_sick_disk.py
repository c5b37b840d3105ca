"""What a sick disk means for the user (issue 16): exit 3 naming the path and what to do, and no
temporary file left behind; moves cross filesystems."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from sohs_cli.foundation.errors import MachineError
from sohs_cli.foundation.fileio import atomic_write, move


@pytest.mark.parametrize(("code", "words"), [(errno.ENOSPC, "disk is full"), (errno.EFBIG, "ulimit -f"),
                                             (errno.EROFS, "read-only")])
def test_a_failing_flush_is_a_machine_error_and_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              code: int, words: str) -> None:
    def fail(fd: int) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(MachineError) as error:
        atomic_write(str(tmp_path / "out.xml"), b"<x/>")
    assert error.value.exit_code == 3 and str(tmp_path / "out.xml") in error.value.message
    assert words in error.value.message + " " + error.value.hint
    assert list(tmp_path.iterdir()) == []  # no .sohs-*.tmp, no partial file


def test_a_move_across_filesystems_copies_then_removes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.replace
    calls: list[str] = []

    def cross(src: str, dst: str) -> None:
        if not os.path.basename(src).startswith(".sohs-"):  # the first rename crosses: EXDEV
            calls.append(src)
            raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))
        real(src, dst)

    monkeypatch.setattr(os, "replace", cross)
    (tmp_path / "a.xml").write_bytes(b"<a/>")
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "t.xml").write_bytes(b"<t/>")
    move(str(tmp_path / "a.xml"), str(tmp_path / "b.xml"))
    move(str(tmp_path / "tables"), str(tmp_path / "b.tables"))
    assert calls and (tmp_path / "b.xml").read_bytes() == b"<a/>" and not (tmp_path / "a.xml").exists()
    assert (tmp_path / "b.tables" / "t.xml").read_bytes() == b"<t/>" and not (tmp_path / "tables").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.tables", "b.xml"]
