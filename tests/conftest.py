"""Isolation for every test: no real home, fixed language, examples at hand."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SOHS_HOME", str(tmp_path / "sohs-home"))
    monkeypatch.setenv("SOHS_LANG", "en")
    for var in ("SOHS_P12_PASSWORD", "SOHS_PORTAL_PASSWORD", "SOHS_PKCS11_PIN"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def examples() -> Path:
    return EXAMPLES
