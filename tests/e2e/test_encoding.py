"""Output with Vietnamese text through a stream that cannot encode it (issue 17): a redirected Windows
console, PYTHONIOENCODING=cp1252. sohs writes UTF-8 whatever the stream's encoding; it exited 70."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sohs_cli.cli.app import utf8_streams

SOHS = [sys.executable, "-c", "from sohs_cli.cli.app import main; main()"]


@pytest.mark.parametrize(("args", "code", "expected"), [
    (["--lang", "vi", "validate", "invalid_card_length_3176.xml"], 1, "mỗi thẻ cần 15"),
    (["verify", "--integrity-only", "referral_episode_3176.xml"], 1, "✗ CHUKYDONVI (Chữ ký đơn vị)"),
    (["--lang", "vi", "validate", "--jobs", "x", "referral_episode_3176.xml"], 2, "lỗi: --jobs x"),
])
def test_cp1252_streams_get_utf8(examples: Path, args: list[str], code: int, expected: str) -> None:
    env = os.environ | {"PYTHONIOENCODING": "cp1252", "SOHS_LANG": "en"}
    done = subprocess.run(SOHS + args, cwd=examples, env=env, capture_output=True, timeout=60)
    assert done.returncode == code, done.stderr.decode("utf-8", "replace")
    assert expected.encode("utf-8") in done.stdout + done.stderr


def test_a_cp1252_stream_is_reconfigured(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="cp1252")
    monkeypatch.setattr(sys, "stdout", stream)
    utf8_streams()
    print("Mã thẻ BHYT ✓")
    stream.flush()
    assert raw.getvalue() == "Mã thẻ BHYT ✓\n".encode()
