"""`sohs run` parses each document once and verifies its signature once (issue 19 item 3): counted at
the hardened parser's one entry point and at the signature check, over a night against `sohs portal
serve`."""

from __future__ import annotations

import collections
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sohs_cli.cli.app import build_app
from sohs_cli.foundation import xmlsafe
from sohs_cli.signing import verification
from sohs_cli.signing.sign import FileSigner
from sohs_cli.signing.testpki import TestPki
from tests.portal_helpers import PASSWORD, USER, envelope, served, signed


def counting(monkeypatch: pytest.MonkeyPatch) -> collections.Counter[str]:
    """Wrap ``parse_bytes`` wherever a sohs module holds it (they import it by name) and
    ``verification._verify_one``; the counts by what was parsed."""
    counts: collections.Counter[str] = collections.Counter()
    real_parse, real_verify = xmlsafe.parse_bytes, verification._verify_one

    def parse_bytes(data: bytes, **kw: Any) -> Any:
        root = real_parse(data, **kw)
        tag = root.tag if isinstance(root.tag, str) else ""
        counts["document" if tag in ("GIAMDINHHS", "KHAMSUCKHOE") else
               "SignedInfo" if tag.endswith("}SignedInfo") else "table"] += 1
        return root

    def verify_one(*args: Any, **kw: Any) -> Any:
        counts["verification"] += 1
        return real_verify(*args, **kw)

    for name, module in list(sys.modules.items()):
        if name.startswith("sohs_cli") and getattr(module, "parse_bytes", None) is real_parse:
            monkeypatch.setattr(module, "parse_bytes", parse_bytes)
    monkeypatch.setattr(verification, "_verify_one", verify_one)
    return counts


@pytest.mark.parametrize("exported", ["signed", "unsigned"])
def test_a_night_parses_each_document_once(tmp_path: Path, pki: TestPki, clinic: FileSigner, exported: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import sohs_cli.submission.pipeline  # noqa: F401 - imported before counting: its parse_bytes is wrapped too

    with served(tmp_path, pki) as base:
        folder = tmp_path / "clinic"
        (folder / "outbox").mkdir(parents=True)
        for i in range(5):
            data = envelope(f"LKONCE{i:05d}")
            (folder / "outbox" / f"e{i}.xml").write_bytes(signed(clinic, f"LKONCE{i:05d}") if exported == "signed"
                                                          else data)
        (folder / "sohs.toml").write_text(
            f'facility = "79001"\n[portal]\nurl = "{base}"\nusername = "{USER}"\n[signing]\n'
            f'p12 = "{pki.clinic_p12}"\npassword_file = "{pki.password_file}"\n[run]\nsettle_seconds = 0\n',
            encoding="utf-8")
        monkeypatch.chdir(folder)
        monkeypatch.setenv("SOHS_PORTAL_PASSWORD", PASSWORD)
        monkeypatch.setenv("SOHS_HOME", str(tmp_path / "home"))
        counts = counting(monkeypatch)
        r = CliRunner().invoke(build_app(), ["run", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["delivered"] == 5
    if exported == "signed":  # read once; its signature verified once (not in the run and in the submission)
        assert (counts["document"], counts["verification"]) == (5, 5), counts
    else:  # the export once, the signer's proof of placement, the signed copy once; its signature once
        assert (counts["document"], counts["verification"]) == (15, 5), counts
    assert counts["table"] == 10, counts  # XML1 and XML13 of each envelope, once each (validation)
