"""Reading input files: whole, bounded by the limit, from pipes too, with one clear error."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from sohs_cli.foundation.errors import InputError
from sohs_cli.foundation.fileio import read_file


def test_a_regular_file_is_read_whole(tmp_path: Path) -> None:
    for size in (0, 1, 3000, 70_000):
        f = tmp_path / f"f{size}"
        f.write_bytes(os.urandom(size))
        assert read_file(str(f)) == f.read_bytes()
        assert read_file(str(f), limit=size) == f.read_bytes()


def test_a_file_over_the_limit_yields_one_byte_more_than_the_limit(tmp_path: Path) -> None:
    f = tmp_path / "big"
    f.write_bytes(b"x" * 10_000)
    assert read_file(str(f), limit=100) == b"x" * 101  # the caller can tell it is over


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_reports_size_0_and_is_read_to_its_end(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.xml"
    os.mkfifo(fifo)
    payload = b"<a>" + b"y" * 200_000 + b"</a>"

    def feed() -> None:
        with open(fifo, "wb") as fh:
            for i in range(0, len(payload), 4096):
                fh.write(payload[i:i + 4096])

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        assert read_file(str(fifo), limit=1_000_000) == payload
    finally:
        writer.join(timeout=10)


def test_what_cannot_be_read_is_one_clear_error(tmp_path: Path) -> None:
    for path in (tmp_path / "missing.xml", tmp_path):
        with pytest.raises(InputError) as caught:
            read_file(str(path))
        assert caught.value.code == "unreadable" and str(path) in caught.value.message
