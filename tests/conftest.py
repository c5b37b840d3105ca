"""Isolation for every test: no real home, fixed language, examples at hand."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from hatch_build import compile_catalogs
from sohs_cli.foundation import i18n
from sohs_cli.foundation.credentials import SecretSource
from sohs_cli.portal.hubmessage import MessageKey, load_message_key
from sohs_cli.signing.certs import load_key_material
from sohs_cli.signing.sign import FileSigner
from sohs_cli.signing.testpki import TestPki, make_test_pki

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

# The catalogs the tests see are the .po files of this checkout (and what `sohs` run by an e2e test
# reads): compiled now when a .po changed since the last compile.
compile_catalogs()


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SOHS_HOME", str(tmp_path / "sohs-home"))
    monkeypatch.setenv("SOHS_LANG", "en")
    monkeypatch.setitem(i18n._state, "lang", "")  # each test decides its run's language afresh
    # no settings file of this machine or account is read: only a test's own
    monkeypatch.delenv("SOHS_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "user-config"))
    monkeypatch.setenv("APPDATA", str(tmp_path / "user-config"))
    monkeypatch.setattr("sohs_cli.foundation.settings_files._system_config_path",  # system_config_file() too
                        lambda: str(tmp_path / "system-config" / "sohs.toml"))
    for var in ("SOHS_P12_PASSWORD", "SOHS_PORTAL_PASSWORD", "SOHS_PKCS11_PIN"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def examples() -> Path:
    return EXAMPLES


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    """One TEST PKI (CA, clinic, doctor) for the whole session: RSA key generation is slow."""
    return make_test_pki(str(tmp_path_factory.mktemp("pki")), password=b"test-p12-secret")


@pytest.fixture(scope="session")
def clinic(pki: TestPki) -> FileSigner:
    return FileSigner(load_key_material(p12=pki.clinic_p12, password=SecretSource("p", "UNSET", pki.password_file)))


@pytest.fixture(scope="session")
def doctor(pki: TestPki) -> FileSigner:
    return FileSigner(load_key_material(p12=pki.doctor_p12, password=SecretSource("p", "UNSET", pki.password_file)))


def require_tool(name: str) -> str:
    """The path of an external peer; in CI a missing peer fails the test instead of skipping it."""
    path = shutil.which(name)
    if path is None:
        # SOHS_PEERS_OPTIONAL: the macOS and Windows jobs (.github/workflows/ci.yml), whose runners lack some
        # peers; the Linux gate (.ci/run) installs every one and fails without it
        if os.environ.get("CI") and not os.environ.get("SOHS_PEERS_OPTIONAL"):
            pytest.fail(f"{name} is required in CI (.ci/run installs it)")
        pytest.skip(f"{name} is not installed")
    return path


@pytest.fixture(scope="session")
def message_key(pki: TestPki) -> MessageKey:
    """The TEST stand-in for the checkup hub message key the Ministry issues (QĐ 2062 PL02 §4)."""
    return load_message_key(pki.hub_key, SecretSource("message key password", "UNSET"))
