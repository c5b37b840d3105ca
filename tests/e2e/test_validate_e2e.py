"""The installed `sohs` as a user runs it, and xmllint as an independent judge of the schemas."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

ROOT = Path(__file__).resolve().parents[2]
SOHS = [sys.executable, "-m", "sohs_cli"]
IN_CI = os.environ.get("CI") == "true"


def xmllint() -> str:
    path = shutil.which("xmllint")
    if path is None:
        if IN_CI:
            pytest.fail("xmllint is required in CI (.ci/run installs libxml2-utils)")
        pytest.skip("xmllint not installed")
    return path


def test_sohs_validate_examples_exit_code(tmp_path: Path) -> None:
    proc = subprocess.run([*SOHS, "validate", "examples/"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "19 file(s): 10 valid, 9 invalid" in proc.stdout
    proc = subprocess.run([*SOHS, "validate", "examples/referral_episode_3176.xml", "examples/checkup_adult_2062.xml"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0


def test_version_is_fast_path() -> None:
    proc = subprocess.run([*SOHS, "--version"], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPROFILEIMPORTTIME": "1"})
    assert proc.returncode == 0 and proc.stdout.startswith("sohs ")
    imported = proc.stderr
    for heavy in ("typer", "rich", "lxml", "httpx", "cryptography"):
        assert f" {heavy}\n" not in imported and f" {heavy}." not in imported, heavy


def test_validate_json_imports_only_what_it_needs(tmp_path: Path) -> None:
    """Start-up is most of a small run: `validate --format json` loads its own command only, and
    neither typer (its command line is read without it: cli/validating.parse_quick) nor rich nor the
    portal, signing or ledger code, nor (for a BHYT envelope) the checkup record's modules and rules."""
    listing = tmp_path / "modules.txt"
    # validate leaves through os._exit (no interpreter teardown, so no atexit): list the modules there
    script = ("import os, sys\n"
              "leave = os._exit\n"
              f"os._exit = lambda code: (open({str(listing)!r}, 'w').write('\\n'.join(sys.modules)), leave(code))\n"
              "sys.argv = ['sohs', 'validate', '--format', 'json', 'examples/referral_episode_3176.xml']\n"
              "from sohs_cli.cli.app import main\n"
              "main()\n")
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    imported = set(listing.read_text().split("\n"))
    assert {"sohs_cli.cli.validating", "lxml.etree"} <= imported
    for unwanted in ("typer", "sohs_cli.cli.validate", "rich", "pydantic", "httpx", "cryptography", "signxml",
                     "sqlite3", "sohs_cli.cli.sign",
                     "sohs_cli.cli.run", "sohs_cli.signing.sign", "sohs_cli.submission.ledger",
                     "sohs_cli.validation.checkup", "sohs_cli.validation.checkup_fast",
                     "sohs_cli.validation.checkup_rules", "sohs_cli.documents.kskforms"):
        assert unwanted not in imported, unwanted


@pytest.mark.parametrize("fmt", ["json", "human", "sarif"])
def test_the_quick_reading_and_typer_give_the_same_run(examples: Path, fmt: str) -> None:
    """The same validation through the quick command line (``-f json``) and through typer (``-fjson``,
    a spelling the quick reading leaves to it): the same report, byte for byte, the same exit code;
    only the second imports typer."""
    files = [str(p) for p in sorted(examples.glob("*.xml"))]
    runs = []
    for spelled in (["-f", fmt], [f"-f{fmt}"]):
        proc = subprocess.run([*SOHS, "validate", *spelled, "--jobs", "1", *files], capture_output=True, timeout=120,
                              env={**os.environ, "PYTHONPROFILEIMPORTTIME": "1", "NO_COLOR": "1"})
        runs.append((proc.returncode, proc.stdout, " typer\n" in proc.stderr.decode()))
    (quick_code, quick_out, quick_typer), (typer_code, typer_out, typer_typer) = runs
    assert quick_code == typer_code == 1  # the examples hold invalid records
    assert quick_out == typer_out and len(quick_out) > 1000
    assert (quick_typer, typer_typer) == (False, True)


def inner_documents(envelope: Path) -> list[tuple[str, bytes]]:
    root = etree.parse(str(envelope)).getroot()
    return [(f.findtext("LOAIHOSO") or "", base64.b64decode(f.findtext("NOIDUNGFILE") or ""))
            for f in root.iter("FILEHOSO")]


@pytest.mark.parametrize("name,std", [("referral_episode_3176.xml", "3176"), ("appointment_episode_4750.xml", "4750")])
def test_xmllint_agrees_with_our_schemas(tmp_path: Path, name: str, std: str) -> None:
    lint = xmllint()
    env = ROOT / "examples" / name
    r = subprocess.run([lint, "--noout", "--schema", str(ROOT / "xsd/bhxh" / std / "GIAMDINHHS.xsd"), str(env)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for loai, data in inner_documents(env):
        f = tmp_path / f"{loai}.xml"
        f.write_bytes(data)
        r = subprocess.run([lint, "--noout", "--schema", str(ROOT / "xsd/bhxh" / std / f"{loai}.xsd"), str(f)],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        # and a broken copy fails for xmllint too: the schema has teeth
        f.write_bytes(data.replace(b"<MA_LK>", b"<MA_LK>" + b"X" * 250))
        r = subprocess.run([lint, "--noout", "--schema", str(ROOT / "xsd/bhxh" / std / f"{loai}.xsd"), str(f)],
                           capture_output=True, text=True)
        assert r.returncode != 0 and "length" in r.stderr, r.stderr


def test_schemas_ship_in_the_wheel(tmp_path: Path) -> None:
    pytest.importorskip("hatchling")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w",
                           str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    import zipfile

    wheel = next(tmp_path.glob("sohs_cli-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "sohs_cli/xsd/bhxh/3176/XML13.xsd" in names
    assert "sohs_cli/xsd/ksk/2062/KHAMSUCKHOE.xsd" in names
    assert "sohs_cli/xsd/tables/xml13_3176.csv" in names


@pytest.mark.parametrize("jobs", [[], ["--jobs", "2"]])
def test_reports_from_worker_processes_are_whole_and_in_order(tmp_path: Path, jobs: list[str]) -> None:
    """300 files: --jobs auto forks workers (from 256 files on a machine with 2 CPUs or more), --jobs 2
    always does. The report must come out once, whole, in input order."""
    slips = tmp_path / "slips"
    slips.mkdir()
    good = (ROOT / "examples/tables/XML13_referral_3176.xml").read_bytes()
    bad = good.replace(b"<MA_THE_BHYT>", b"<MA_THE_BHYT>X", 1)
    for i in range(300):
        (slips / f"slip_{i:03d}.xml").write_bytes(bad if i % 50 == 7 else good)
    proc = subprocess.run([*SOHS, "validate", "--format", "json", *jobs, str(slips)], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    paths = [f["path"] for f in report["files"]]
    assert paths == sorted(str(p) for p in slips.iterdir())
    assert report["summary"] == {"files": 300, "valid": 294, "invalid": 6, "skipped": 0}
    assert [f["valid"] for f in report["files"]] == [i % 50 != 7 for i in range(300)]
    human = subprocess.run([*SOHS, "validate", *jobs, str(slips)], capture_output=True, text=True, timeout=300)
    assert human.returncode == 1
    assert human.stdout.count("300 file(s): 294 valid, 6 invalid") == 1
    assert human.stdout.count("FAIL ") == 6 and human.stdout.count("PASS ") == 294


@pytest.mark.parametrize(("env", "coloured"), [({"FORCE_COLOR": "1"}, True), ({"NO_COLOR": "1"}, False)])
def test_human_report_is_coloured_only_where_colour_is_wanted(env: dict[str, str], coloured: bool) -> None:
    clean = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR", "TERM")}
    proc = subprocess.run([*SOHS, "validate", "examples/referral_episode_3176.xml",
                           "examples/invalid_card_length_3176.xml"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env=clean | env)
    assert proc.returncode == 1
    assert ("\x1b[32mPASS\x1b[0m" in proc.stdout and "\x1b[31mFAIL\x1b[0m" in proc.stdout) is coloured
    assert ("\x1b[" in proc.stdout) is coloured
    plain = proc.stdout if not coloured else re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout)
    assert "PASS examples/referral_episode_3176.xml (GIAMDINHHS, standard 3176, 2 table(s) checked)" in plain
    assert "2 file(s): 1 valid, 1 invalid" in plain


def test_a_real_process_leaves_every_report_whole(tmp_path: Path) -> None:
    """validate ends with os._exit (no interpreter teardown): each format, written to a file or to a
    pipe, arrives whole, and the exit code is the contract's."""
    files = ["examples/referral_episode_3176.xml", "examples/invalid_card_length_3176.xml"]
    for fmt in ("json", "sarif", "junit", "human"):
        target = tmp_path / f"report.{fmt}"
        to_file = subprocess.run([*SOHS, "validate", "--format", fmt, "-o", str(target), *files], cwd=ROOT,
                                 capture_output=True, text=True, timeout=120)
        piped = subprocess.run([*SOHS, "validate", "--format", fmt, *files], cwd=ROOT, capture_output=True,
                               text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"})
        assert to_file.returncode == piped.returncode == 1, (fmt, to_file.stderr, piped.stderr)
        written = target.read_text(encoding="utf-8")
        if fmt in ("json", "sarif"):
            assert json.loads(written) and json.loads(piped.stdout)
        elif fmt == "junit":
            assert etree.fromstring(written.encode()).get("failures") == "1"
            assert etree.fromstring(piped.stdout.encode()).get("failures") == "1"
        else:
            assert written.endswith("2 file(s): 1 valid, 1 invalid\n")
            assert piped.stdout.endswith("2 file(s): 1 valid, 1 invalid\n")
    stdin = subprocess.run([*SOHS, "validate", "--format", "json", "-"], cwd=ROOT, capture_output=True,
                           timeout=120, input=(ROOT / files[0]).read_bytes())
    assert stdin.returncode == 0 and json.loads(stdin.stdout)["summary"]["valid"] == 1
    usage = subprocess.run([*SOHS, "validate", "--jobs", "lots", files[0]], cwd=ROOT, capture_output=True,
                           text=True, timeout=120)
    assert usage.returncode == 2 and "--jobs lots" in usage.stderr
