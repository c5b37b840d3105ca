"""Honest packaging (issue 17): a declared runtime dependency is one the code imports; the floors are
those .ci/lowest installs; the licence is in the repository."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
#: distribution -> the module the code imports
MODULES = {"typer": "typer", "rich": "rich", "lxml": "lxml", "httpx": "httpx", "cryptography": "cryptography",
           "uvicorn": "uvicorn", "filelock": "filelock", "jinja2": "jinja2", "brotli": "brotli",
           "asn1crypto": "asn1crypto", "sniffio": "sniffio", "pybase64": "pybase64"}
#: declared without an import of ours, each for a reason written beside it in pyproject.toml
INDIRECT = {"sniffio"}


def names(requirements: list[str]) -> list[str]:
    return [re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0].lower() for r in requirements]


def test_every_runtime_dependency_is_imported_by_the_code() -> None:
    code = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "sohs_cli").rglob("*.py"))
    for dist in names(PROJECT["dependencies"]):
        module = MODULES[dist]  # a new dependency: add it here with the module it provides
        imported = re.search(rf"^\s*(import|from) {module}\b", code, re.M)
        assert imported or dist in INDIRECT, f"{dist} is declared but sohs_cli never imports {module}"
    for peer in ("signxml", "xmlschema"):  # interop peers of the tests, not runtime dependencies
        assert peer not in names(PROJECT["dependencies"])
        assert not re.search(rf"^\s*(import|from) {peer}\b", code, re.M)


def test_every_dependency_has_a_floor_for_the_lowest_versions_step() -> None:
    for requirement in PROJECT["dependencies"]:
        assert ">=" in requirement, requirement


def test_licence() -> None:
    assert PROJECT["license"] == "Apache-2.0" and PROJECT["license-files"] == ["LICENSE"]
    assert "Apache License" in (ROOT / "LICENSE").read_text(encoding="utf-8")


def test_compiled_catalog_is_readable_by_every_user(tmp_path: Path) -> None:
    """A catalog compiled by root for a service user: 0600 (mkstemp's mode) made every message English
    for the clinic's `sohs` account; it takes the umask's mode, as any file the build writes."""
    import os
    import shutil

    from hatch_build import compile_catalogs

    po = tmp_path / "vi" / "LC_MESSAGES" / "sohs.po"
    po.parent.mkdir(parents=True)
    shutil.copy(ROOT / "sohs_cli/locale/vi/LC_MESSAGES/sohs.po", po)
    old = os.umask(0o022)
    try:
        (mo,) = compile_catalogs(tmp_path)
    finally:
        os.umask(old)
    assert mo.stat().st_mode & 0o777 == 0o644
