"""`sohs validate` through the real CLI entry point: exit codes, formats, messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree
from typer.testing import CliRunner

from sohs_cli.cli.app import build_app

runner = CliRunner()


def run(*args: str, input: bytes | None = None) -> tuple[int, str, str]:
    result = runner.invoke(build_app(), list(args), input=input)
    return result.exit_code, result.stdout, result.stderr


def test_valid_file_exits_0(examples: Path) -> None:
    code, out, _ = run("validate", str(examples / "referral_episode_3176.xml"))
    assert code == 0
    assert "PASS" in out and "GIAMDINHHS" in out and "3176" in out


def test_an_envelope_says_how_many_tables_were_checked(examples: Path) -> None:
    """A new user sees every table of a hospital export checked, not only the envelope (issue 14)."""
    code, out, _ = run("validate", str(examples / "hospital_export_3176.xml"))
    assert code == 0 and "(GIAMDINHHS, standard 3176, 18 table(s) checked)" in out  # 3 episodes × 6 tables
    code, out, _ = run("validate", "--lang", "vi", str(examples / "hospital_export_3176.xml"))
    assert "đã kiểm tra 18 bảng" in out


def test_invalid_file_exits_1_with_located_message(examples: Path) -> None:
    code, out, _ = run("validate", str(examples / "invalid_card_length_3176.xml"))
    assert code == 1
    assert "HOSO 1 › XML13 MA_THE_BHYT (Mã thẻ BHYT), line 17" in out
    assert "14 characters, each card needs 15" in out


def test_vietnamese_messages(examples: Path) -> None:
    code, out, _ = run("validate", "--lang", "vi", str(examples / "invalid_card_length_3176.xml"))
    assert code == 1 and "mỗi thẻ cần 15" in out and "lỗi" in out


def test_json_report_shape(examples: Path) -> None:
    code, out, _ = run("validate", "--format", "json", str(examples))
    assert code == 1
    data = json.loads(out)
    assert set(data) == {"schema", "files", "summary"} and data["schema"] == "sohs.validate/1"
    from tests.cli.schemas import assert_schema

    assert_schema("validate", data)
    assert data["summary"]["files"] == len(data["files"]) == data["summary"]["valid"] + data["summary"]["invalid"]
    paths = [f["path"] for f in data["files"]]
    assert paths == sorted(paths)  # deterministic order
    bad = next(f for f in data["files"] if f["path"].endswith("invalid_appointment_before_discharge_3176.xml"))
    assert bad["valid"] is False and bad["kind"] == "GIAMDINHHS" and bad["standard"] == "3176"
    err = bad["errors"][0]
    assert {"code", "severity", "message", "element", "line"} <= set(err)
    assert err["code"] == "ngay-hen-kl-before-ngay-ra" and err["element"] == "NGAY_HEN_KL"


def test_sarif_and_junit_to_file(examples: Path, tmp_path: Path) -> None:
    sarif = tmp_path / "out.sarif"
    code, out, _ = run("validate", "--format", "sarif", "-o", str(sarif), str(examples))
    assert code == 1 and out == ""
    doc = json.loads(sarif.read_text(encoding="utf-8"))
    assert doc["version"] == "2.1.0"
    run_ = doc["runs"][0]
    rule_ids = {r["id"] for r in run_["tool"]["driver"]["rules"]}
    assert {r["ruleId"] for r in run_["results"]} <= rule_ids
    assert any(r["ruleId"] == "card-length" for r in run_["results"])
    junit = tmp_path / "out.xml"
    code, _, _ = run("validate", "--format", "junit", "-o", str(junit), str(examples))
    suite = etree.parse(str(junit)).getroot()[0]
    assert code == 1 and int(suite.get("failures", "0")) == 9 and int(suite.get("tests", "0")) == 19


def test_stdin_and_from_list(examples: Path, tmp_path: Path) -> None:
    data = (examples / "appointment_episode_4750.xml").read_bytes()
    code, out, _ = run("validate", "-", input=data)
    assert code == 0 and "<stdin>" in out
    lst = tmp_path / "files.txt"
    lst.write_text(f"# nightly\n{examples / 'referral_episode_4750.xml'}\n\n", encoding="utf-8")
    code, out, _ = run("validate", "--from-list", str(lst))
    assert code == 0 and "1 file(s): 1 valid" in out


def test_glob_pattern(examples: Path) -> None:
    code, out, _ = run("validate", str(examples / "referral_*.xml"))
    assert code == 0 and "2 file(s): 2 valid, 0 invalid" in out


@pytest.mark.parametrize("args", [["validate"], ["validate", "/no/such/file.xml"],
                                  ["validate", "--standard", "9999", "x"],
                                  ["validate", "/no/such/*.xml"]])
def test_usage_errors_exit_2(args: list[str]) -> None:
    code, _, _ = run(*args)
    assert code == 2


def test_hostile_and_broken_files_do_not_stop_the_batch(tmp_path: Path, examples: Path) -> None:
    (tmp_path / "a_bomb.xml").write_bytes(b'<!DOCTYPE x [<!ENTITY a "aa">]><TONG_HOP>&a;</TONG_HOP>')
    (tmp_path / "b_truncated.xml").write_bytes(b"<GIAMDINHHS><THONGTINDONVI>")
    (tmp_path / "c_latin1.xml").write_bytes(b"<TONG_HOP><HO_TEN>Nguy\xean</HO_TEN></TONG_HOP>")
    (tmp_path / "d_good.xml").write_bytes((examples / "referral_episode_3176.xml").read_bytes())
    code, out, err = run("validate", str(tmp_path))
    assert code == 1
    assert "Traceback" not in out + err
    assert "doctype-forbidden" in out and "xml-malformed" in out and "not-utf8" in out
    assert "4 file(s): 1 valid, 3 invalid" in out


def test_parallel_jobs_same_result(examples: Path) -> None:
    _, one, _ = run("validate", "--format", "json", str(examples))
    _, two, _ = run("validate", "--format", "json", "--jobs", "2", str(examples))
    assert json.loads(one) == json.loads(two)


def test_list_rules() -> None:
    code, out, _ = run("validate", "--list-rules")
    assert code == 0 and "ngay-hen-kl-before-ngay-ra" in out and "card-length" in out


def test_version_and_help() -> None:
    code, out, _ = run("--version")
    assert code == 0 and out.startswith("sohs ")
    code, out, _ = run("validate", "--help")
    assert code == 0 and "--format" in out


def test_the_root_lang_applies_to_validate(examples: Path) -> None:
    code, out, _ = run("--lang", "vi", "validate", str(examples / "invalid_card_length_3176.xml"))
    assert code == 1 and "mỗi thẻ cần 15" in out and "1 tệp: 0 hợp lệ, 1 không hợp lệ" in out
    code, out, _ = run("--lang", "vi", "validate", "--lang", "en", str(examples / "invalid_card_length_3176.xml"))
    assert "each card needs 15" in out  # the command's own --lang wins


def test_paths_are_printed_as_they_are_not_as_markup(examples: Path, tmp_path: Path) -> None:
    odd = tmp_path / "[red]x [bold].xml"
    odd.write_bytes((examples / "referral_episode_3176.xml").read_bytes())
    code, out, _ = run("validate", str(odd))
    assert code == 0 and f"PASS {odd} (GIAMDINHHS, standard 3176, 2 table(s) checked)" in out


def _warning_only(tmp_path: Path) -> Path:
    """An envelope whose one finding is a warning: SO_CHUYENTUYEN of 60 characters (decision 50,
    portal sheet 100)."""
    from sohs_cli.documents import samples
    from sohs_cli.documents.kinds import pack

    lk = "LK000000000090"
    base = samples.xml1_values("3176", lk, ma_loai_rv="2")
    tables = [samples.xml1("3176", lk, ma_loai_rv="2"), samples.xml13("3176", lk, base, SO_CHUYENTUYEN="1" * 60)]
    path = tmp_path / "warn.xml"
    path.write_bytes(pack([(f"t{i}", t) for i, t in enumerate(tables)], facility="79001").data)
    return path


def test_warnings_exit_0_and_strict_makes_them_errors(tmp_path: Path) -> None:
    path = _warning_only(tmp_path)
    code, out, _ = run("validate", str(path))
    assert code == 0 and "PASS" in out and "length-over-decision" in out
    code, out, _ = run("validate", "--strict", str(path))
    assert code == 1 and "FAIL" in out and "length-over-decision" in out
    for strict, severity in ((False, "warning"), (True, "error")):
        code, out, _ = run("validate", "-f", "json", *(["--strict"] if strict else []), str(path))
        rep = json.loads(out)["files"][0]
        found = rep["errors"] + rep["warnings"]
        assert [f["severity"] for f in found] == [severity] and rep[f"{severity}s"] == found
        code, out, _ = run("validate", "-f", "sarif", *(["--strict"] if strict else []), str(path))
        assert [r["level"] for r in json.loads(out)["runs"][0]["results"]] == [severity]
        code, out, _ = run("validate", "-f", "junit", *(["--strict"] if strict else []), str(path))
        case = etree.fromstring(out.encode()).find(".//testcase")
        assert case is not None
        assert (case.find("failure") is not None) == strict
        assert ("warning length-over-decision" in (case.findtext("system-out") or "")) == (not strict)


def test_list_rules_shows_the_portal_sheet_with_sources() -> None:
    code, out, _ = run("validate", "--list-rules")
    assert code == 0
    line = next(x for x in out.splitlines() if x.startswith("XML3.MA_KHOA.catalogue"))
    assert "catalogue: not checked offline" in line and "'Bang 3_DVKT, VTYT'" in line
    assert "XML2.T_BNTT.formula" in out and "not published by the sheet" in out
    assert sum(1 for x in out.splitlines() if x.startswith("XML")) == 184


def test_catalogue_folder(tmp_path: Path, examples: Path) -> None:
    env = examples / "referral_episode_3176.xml"
    (tmp_path / "MA_KHOA.csv").write_text("code,name\nK01,Khoa Khám bệnh\n", encoding="utf-8")
    assert run("validate", "--catalogue", str(tmp_path), str(env))[0] == 0
    (tmp_path / "MA_KHOA.csv").write_text("K01\n", encoding="utf-8")
    code, _, err = run("validate", "--catalogue", str(tmp_path), str(env))
    assert code == 3 and "MA_KHOA.csv, line 1: no 'code' column" in err and "Traceback" not in err
    assert len([x for x in err.splitlines() if x.startswith("error")]) == 1


def _codes_of(envelope: Path) -> dict[str, set[str]]:
    """Every code the envelope's tables carry in a field a catalogue covers, by catalogue file."""
    import base64
    import re as re_

    from sohs_cli.validation.catalogues import FILES, covering

    out: dict[str, set[str]] = {name: set() for name in FILES}
    data = envelope.read_bytes()
    for loai, b64 in re_.findall(rb"<LOAIHOSO>(\w+)</LOAIHOSO>\s*<NOIDUNGFILE>([^<]+)</NOIDUNGFILE>", data):
        for el in etree.fromstring(base64.b64decode(b64)).iter():
            cat = covering(loai.decode(), str(el.tag))
            if cat is not None and el.text and el.text.strip():
                out[cat.file] |= {c for c in el.text.strip().split(cat.separator) if c}
    return out


def test_catalogue_folder_checks_every_catalogue_of_a_hospital_export(tmp_path: Path, examples: Path) -> None:
    """--catalogue DIR with every catalogue: the real export passes when each of its codes is listed, fails
    naming the code when one is not, and a malformed catalogue stops the run with one line (exit 3)."""
    env = examples / "hospital_export_3176.xml"
    codes = _codes_of(env)
    assert all(codes[n] for n in ("ICD10", "MA_THUOC", "MA_CSKCB", "MA_KHOA"))
    for name, found in codes.items():
        (tmp_path / f"{name}.csv").write_text("code,name\n" + "".join(f"{c},x\n" for c in sorted(found or {"X"})),
                                              encoding="utf-8")
    code, out, err = run("validate", "--catalogue", str(tmp_path), "-f", "json", str(env))
    assert code == 0, out + err
    missing = "I10"  # the secondary diagnosis of every episode
    (tmp_path / "ICD10.csv").write_text("code\n" + "".join(f"{c}\n" for c in sorted(codes["ICD10"] - {missing})),
                                        encoding="utf-8")
    code, out, _ = run("validate", "--catalogue", str(tmp_path), "-f", "json", str(env))
    errors = [e for f in json.loads(out)["files"] for e in f["errors"]]
    assert code == 1 and {e["code"] for e in errors} == {"catalogue-icd10"} and len(errors) == 3
    assert all(e["found"] == missing and e["element"] == "MA_BENH_KT" for e in errors)
    (tmp_path / "ICD10.csv").write_text("code\nJ18.9\nnot a code\n", encoding="utf-8")
    code, out, err = run("validate", "--catalogue", str(tmp_path), str(env))
    assert code == 3 and out == "" and "Traceback" not in err
    assert err.splitlines()[0] == f"error: {tmp_path / 'ICD10.csv'}, line 3: 'not a code' is not one code " \
                                  "(spaces or separators inside)"


def test_split_valid_writes_both_parts_with_the_errors_of_each_episode(tmp_path: Path) -> None:
    from tests.unit.test_splitting import export_with_one_bad

    src = tmp_path / "export.xml"
    src.write_bytes(export_with_one_bad())
    out = tmp_path / "split"
    code, stdout, stderr = run("validate", "--split-valid", str(out), "-f", "json", str(src))
    assert code == 1 and json.loads(stdout)["summary"]["invalid"] == 1  # the export itself is invalid
    assert f"split {src}: 2 valid episode(s)" in stderr
    assert sorted(p.name for p in out.iterdir()) == ["export.invalid.xml", "export.invalid.xml.errors.json",
                                                      "export.valid.xml"]
    assert run("validate", str(out / "export.valid.xml"))[0] == 0
    assert run("validate", str(out / "export.invalid.xml"))[0] == 1
    errors = json.loads((out / "export.invalid.xml.errors.json").read_text(encoding="utf-8"))
    assert [e["ma_lk"] for e in errors["valid_episodes"]] == ["LK202511000001", "LK202511000003"]
    assert [e["errors"][0]["code"] for e in errors["invalid_episodes"]] == ["card-length"]
    run("validate", "--split-valid", str(out), str(src))  # again: never over the first split
    assert (out / "export.valid-1.xml").exists() and (out / "export.valid.xml").exists()
