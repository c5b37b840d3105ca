"""The README's two quick-start commands, verbatim, in a clean copy of the project and fresh venvs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INNER = "SOHS_QUICKSTART_INNER"  # set for the test suite the second command runs: no recursion


def quick_start() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def clean_copy(target: Path) -> None:
    """The project as a new user gets it: tracked files only (no venv, no caches)."""
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for name in files.splitlines():
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)


@pytest.mark.slow
@pytest.mark.skipif(bool(os.environ.get(INNER)), reason="this is the suite the quick start runs")
def test_readme_quick_start_commands(tmp_path: Path) -> None:
    commands = quick_start()
    assert len(commands) == 2 and "sohs demo" in commands[0] and "pytest" in commands[1]
    clean_copy(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOHS_", "VIRTUAL_ENV"))} | {INNER: "1"}
    first = subprocess.run(["bash", "-c", commands[0]], cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=900)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "6/6" in first.stdout and "accepted" in first.stdout
    shutil.rmtree(tmp_path / ".venv")
    second = subprocess.run(["bash", "-c", commands[1] + " -q -x"], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=1500)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert re.search(r"\d+ passed", second.stdout)
