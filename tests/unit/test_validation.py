"""Engine and rules: each rule fails for its reason and passes when the data is right."""

from __future__ import annotations

import base64
import re
from typing import ClassVar

import pytest

from sohs_cli.documents import samples
from sohs_cli.documents.kinds import pack
from sohs_cli.validation.engine import ValidateOptions, validate_bytes


def envelope(*tables: bytes, kind: str = "GIAMDINHHS") -> bytes:
    return pack([(f"t{i}", t) for i, t in enumerate(tables)], facility="79001" if kind == "GIAMDINHHS"
                else "01001", envelope=kind).data


def codes(data: bytes, **opts: str | bool) -> list[str]:
    return [f.code for f in validate_bytes(data, "x.xml", ValidateOptions(**opts)).findings]  # type: ignore[arg-type]


@pytest.mark.parametrize("std", ["4750", "3176"])
def test_valid_referral_and_appointment(std: str) -> None:
    lk = "LK000000000001"
    base = samples.xml1_values(std, lk, ma_loai_rv="2")
    rep = validate_bytes(envelope(samples.xml1(std, lk, ma_loai_rv="2"), samples.xml13(std, lk, base)), "r.xml")
    assert rep.valid and rep.findings == [] and rep.standard == std and rep.documents == 2
    base = samples.xml1_values(std, lk)
    assert validate_bytes(envelope(samples.xml1(std, lk), samples.xml14(std, lk, base)), "a.xml").valid


def test_every_error_is_reported_not_only_the_first() -> None:
    lk = "LK000000000002"
    base = samples.xml1_values("3176", lk)
    x14 = samples.xml14("3176", lk, base, NGAY_HEN_KL="20251101", MA_BAC_SI="", GIOI_TINH="7",
                        MA_CSKCB="7900")
    x14 = x14.replace(b"<SO_GIAYHEN_KL>", b"<BOGUS>x</BOGUS><SO_GIAYHEN_KL>")
    found = codes(envelope(samples.xml1("3176", lk), x14))
    for code in ("xsd:unexpected-element", "xsd:required-empty", "xsd:enumeration", "xsd:pattern",
                 "ngay-hen-kl-before-ngay-ra"):
        assert code in found


def test_max_length_counts_characters_not_bytes() -> None:
    lk = "LK000000000003"
    name_255 = "Nguyễn" * 42 + "ABC"  # 255 characters, 339 bytes
    assert len(name_255) == 255
    ok = samples.xml1("3176", lk, ) .replace(b"Nguy\xe1\xbb\x85n Th\xe1\xbb\x8b H\xe1\xbb\x93ng Nhung",
                                              name_255.encode())
    assert "xsd:maxLength" not in codes(ok)
    too_long = ok.replace(name_255.encode(), (name_255 + "x").encode())
    rep = validate_bytes(too_long, "x.xml")
    f = next(f for f in rep.findings if f.code == "xsd:maxLength")
    assert f.element == "HO_TEN" and f.label == "Họ tên" and f.found == "256 characters"


def test_optional_number_may_be_empty_but_not_text() -> None:
    x1 = samples.xml1("3176", "LK000000000004")
    assert "xsd:pattern" not in codes(x1)  # STT, MA_TAI_NAN empty
    assert "xsd:pattern" in codes(x1.replace(b"<MA_TAI_NAN></MA_TAI_NAN>", b"<MA_TAI_NAN>a</MA_TAI_NAN>"))


def test_calendar_dates() -> None:
    x1 = samples.xml1("3176", "LK000000000005", ngay_vao="202502290800", ngay_ra="202503011000")
    assert "date-not-real" in codes(x1)  # 2025 is not a leap year
    x1 = samples.xml1("3176", "LK000000000005", ngay_vao="202402290800", ngay_ra="202403011000")
    assert "date-not-real" not in codes(x1)
    unknown_birth = samples.xml1("3176", "LK000000000005").replace(b"199003150000", b"199000000000")
    assert "date-not-real" not in codes(unknown_birth)


def test_copied_fields_must_equal_xml1() -> None:
    lk = "LK000000000006"
    base = samples.xml1_values("3176", lk, ma_loai_rv="2")
    x13 = samples.xml13("3176", lk, base, HO_TEN="Nguyễn Thị Hồng")
    rep = validate_bytes(envelope(samples.xml1("3176", lk, ma_loai_rv="2"), x13), "x.xml")
    f = next(f for f in rep.findings if f.code == "copy-differs-from-xml1")
    assert f.element == "HO_TEN" and f.expected == "Nguyễn Thị Hồng Nhung" and "HOSO 1 › XML13" in f.location


def test_xml13_needs_referral_discharge_type() -> None:
    lk = "LK000000000007"
    base = samples.xml1_values("3176", lk, ma_loai_rv="1")
    assert "xml13-without-referral" in codes(envelope(samples.xml1("3176", lk, ma_loai_rv="1"),
                                                      samples.xml13("3176", lk, base, MA_LOAI_RV="")))


def test_card_rules() -> None:
    x1 = samples.xml1("3176", "LK000000000008", card="GD4797920000001;GD479792000002")
    assert "card-length" in codes(x1)
    assert "card-count" in codes(x1)  # two cards, one GT_THE_TU


@pytest.mark.parametrize(("std", "value", "expected"), [
    ("4750", "12345", "cccd-shape"), ("4750", "A1234567", None), ("3176", "P9999", "cccd-shape"),
])
def test_cccd(std: str, value: str, expected: str | None) -> None:
    x1 = samples.xml1(std, "LK000000000009").replace(b"079190001234", value.encode())
    rep = validate_bytes(x1, "x.xml")
    hits = [f for f in rep.findings if f.code == "cccd-shape"]
    assert bool(hits) == bool(expected)
    if std == "3176" and hits:
        assert hits[0].severity == "warning" and rep.valid


def test_icd10() -> None:
    x1 = samples.xml1("3176", "LK000000000010")
    assert "icd10-shape" in codes(x1.replace(b"<MA_BENH_KT>I10;E11.9", b"<MA_BENH_KT>I10,E11.9"))
    assert "icd10-shape" in codes(x1.replace(b"<MA_BENH_CHINH>I25.9", b"<MA_BENH_CHINH>125.9"))


def test_base64_with_line_breaks_is_refused() -> None:
    env = envelope(samples.xml1("3176", "LK000000000011"))
    wrapped = re.sub(rb"<NOIDUNGFILE>([^<]+)</NOIDUNGFILE>", lambda m: b"<NOIDUNGFILE>"
                     + base64.encodebytes(base64.b64decode(m.group(1))).strip() + b"</NOIDUNGFILE>", env)
    rep = validate_bytes(wrapped, "x.xml")
    assert [f.code for f in rep.findings] == ["envelope-base64"] and "125" in rep.findings[0].hint


def test_standard_auto_by_ngay_ra_and_forced() -> None:
    x1 = samples.xml1("4750", "LK000000000012", ngay_vao="202412310800", ngay_ra="202412311000")
    rep = validate_bytes(x1, "x.xml")
    assert rep.standard == "4750" and "20241231" in rep.standard_reason
    rep = validate_bytes(x1, "x.xml", ValidateOptions(standard="3176"))
    assert rep.standard == "3176" and rep.standard_reason == "--standard"
    assert not rep.valid  # MA_NGHE_NGHIEP 00000 is 5 characters; 3176 allows 2


def test_no_rules_runs_xsd_only() -> None:
    lk = "LK000000000013"
    base = samples.xml1_values("3176", lk)
    env = envelope(samples.xml1("3176", lk), samples.xml14("3176", lk, base, NGAY_HEN_KL="20251101"))
    assert codes(env, rules=False) == []


def test_checkup_rules() -> None:
    good = envelope(*samples.adult_checkup("KSK1"), kind="KHAMSUCKHOE")
    assert validate_bytes(good, "k.xml").valid
    bad = envelope(*samples.adult_checkup("KSK1", phan_loai_sk="1", bmi="30"), kind="KHAMSUCKHOE")
    assert set(codes(bad)) == {"bmi-mismatch", "phan-loai-sk-better-than-organ"}
    out_of_range = envelope(*samples.adult_checkup("KSK1", phan_loai_sk="6"), kind="KHAMSUCKHOE")
    assert "xsd:enumeration" in codes(out_of_range)


def test_hostile_inner_document_is_one_finding() -> None:
    bomb = b'<!DOCTYPE x [<!ENTITY a "aaaa">]><TONG_HOP>&a;</TONG_HOP>'
    env = envelope(samples.xml1("3176", "LK1")).replace(
        re.search(rb"<NOIDUNGFILE>([^<]+)</NOIDUNGFILE>", envelope(samples.xml1("3176", "LK1"))).group(1),  # type: ignore[union-attr]
        base64.b64encode(bomb))
    assert codes(env) == ["doctype-forbidden"]


def test_every_table_is_checked_not_passed_with_a_warning() -> None:
    """Regression (issue 14): XML2-XML12 and XML15 were "table not checked" warnings."""
    xml2 = (b'<?xml version="1.0" encoding="utf-8"?>'
            b"<CHITIEU_CHITIET_THUOC><DSACH_CHI_TIET_THUOC/></CHITIEU_CHITIET_THUOC>")
    rep = validate_bytes(xml2, "x2.xml")
    assert not rep.valid and [f.code for f in rep.errors] == ["xsd:missing-element"]
    assert "CHI_TIET_THUOC" in rep.errors[0].message_en


@pytest.mark.parametrize("std", ["4750", "3176"])
@pytest.mark.parametrize("loai", sorted(samples.TABLE_PATHS, key=lambda k: int(k[3:])))
def test_each_table_is_checked_against_its_schema(std: str, loai: str) -> None:
    good = samples.table(loai, std, "LK000000000077", {}, {})
    rep = validate_bytes(good, "t.xml", ValidateOptions(standard=std))
    assert rep.valid and rep.kind == loai, rep.findings
    # the first required field of the last record, emptied: an error with its Vietnamese label
    first = next(r["element"] for r in samples.table_rows("xml0_4750" if loai == "XML0" else f"{loai.lower()}_{std}")
                 if r["required"] == "yes" and r["element"] not in ("MA_LK", "STT"))
    bad = re.sub(rb"(.*<%s>)[^<]*(</%s>)" % (first.encode(), first.encode()), rb"\1\2", good, count=1, flags=re.S)
    assert bad != good
    rep = validate_bytes(bad, "t.xml", ValidateOptions(standard=std))
    assert [(f.code, f.element) for f in rep.errors] == [("xsd:required-empty", first)]
    assert rep.errors[0].label


def test_an_unknown_table_in_an_envelope_is_an_error() -> None:
    x1 = samples.xml1("3176", "LK000000000078")
    inner = base64.b64encode(b"<BANG_MOI><A>1</A></BANG_MOI>")
    env = envelope(x1).replace(b"</HOSO>", b"<FILEHOSO><LOAIHOSO>XML16</LOAIHOSO><NOIDUNGFILE>"
                               + inner + b"</NOIDUNGFILE></FILEHOSO></HOSO>")
    rep = validate_bytes(env, "e.xml")
    assert not rep.valid and {"loaihoso-mismatch", "xsd:enumeration"} <= {f.code for f in rep.errors}


@pytest.mark.parametrize("std", ["4750", "3176"])
def test_a_length_the_portal_sheet_allows_is_a_warning_past_it_an_error(std: str) -> None:
    """Regression (issue 14): SO_CHUYENTUYEN is 50 in the decision, 100 on the portal sheet."""
    lk = "LK000000000079"
    base = samples.xml1_values(std, lk, ma_loai_rv="2")
    for value, want in (("1" * 50, []), ("1" * 60, ["length-over-decision"]), ("1" * 101, ["xsd:maxLength"])):
        env = envelope(samples.xml1(std, lk, ma_loai_rv="2"), samples.xml13(std, lk, base, SO_CHUYENTUYEN=value))
        rep = validate_bytes(env, "e.xml")
        assert [f.code for f in rep.findings] == want, value
        assert rep.valid == (want != ["xsd:maxLength"])
        if want == ["length-over-decision"]:
            f = rep.findings[0]
            assert f.severity == "warning" and f.element == "SO_CHUYENTUYEN" and f.found == "60 characters"
            assert "Số chuyển tuyến" in f.message_vi or f.label


def test_the_decision_stricter_fields_are_what_the_schemas_say() -> None:
    from sohs_cli.documents.schemas import decision_lengths
    from sohs_cli.validation.rules import DECISION_STRICTER

    found: dict[str, set[str]] = {}
    for std in ("4750", "3176"):  # 3176 changed some of those lengths (XML4 MA_DICH_VU 15 -> 50)
        for i in range(16):
            found.setdefault(f"XML{i}", set()).update(decision_lengths("bhxh", std, f"XML{i}"))
    assert {k: v for k, v in found.items() if v} == {k: set(v) for k, v in DECISION_STRICTER.items()}


def test_lengths_are_counted_without_layout_whitespace_or_a_cdata_wrapper() -> None:
    """Regression (issue 14): an indented CDATA section was counted with its indentation."""
    lk = "LK000000000080"
    name = "Nguyễn" * 41 + "ABCDEFGHI"  # 255 characters: HO_TEN's limit
    assert len(name) == 255
    x1 = samples.xml1("3176", lk)
    old = "<HO_TEN>Nguyễn Thị Hồng Nhung</HO_TEN>".encode()
    for inner in (f"\r\n      <![CDATA[{name}]]>\r\n    ", f"\n\t{name}\n", f"&lt;![CDATA[{name}]]&gt;"):
        doc = x1.replace(old, f"<HO_TEN>{inner}</HO_TEN>".encode())
        assert doc != x1
        assert "xsd:maxLength" not in codes(doc), inner
    too_long = x1.replace(old, f"<HO_TEN>\r\n  <![CDATA[{name}x]]>\r\n</HO_TEN>".encode())
    f = next(f for f in validate_bytes(too_long, "x.xml").findings if f.code == "xsd:maxLength")
    assert f.found == "256 characters"


THREADED = """
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from sohs_cli.validation.engine import validate_bytes
folder = Path(sys.argv[1])
names = sorted(p.name for p in folder.glob("*.xml")) * 6
def codes(n):
    return n, [f.code for f in validate_bytes((folder / n).read_bytes(), n).findings]
with ThreadPoolExecutor(8) as pool:  # cold: the first schema compilations happen in many threads at once
    threaded = list(pool.map(codes, names))
sequential = dict(codes(n) for n in set(names))
bad = [n for n, c in threaded if c != sequential[n]]
sys.exit(f"different findings in threads: {bad}" if bad else 0)
"""


def test_validation_in_threads_gives_each_file_its_own_errors(examples: object) -> None:
    """Regression: `sohs sign` overlaps files on I/O threads. Compiling schemas in two threads at once
    failed ("Document is not valid XML Schema", exit 70), and one shared XMLSchema would mix up the
    error logs of files validated at once. Run in a fresh process, so that the schemas start cold."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", THREADED, str(examples)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_compiled_schema_is_never_shared_between_threads() -> None:
    """The invariant behind the fix above: libxml2 crashed (exit 70, once a segfault, in 2 of 15 runs
    of `sohs sign` on 7 files) when threads compiled schemas at once, and an XMLSchema keeps the error
    log of its last validation on itself."""
    import threading

    from sohs_cli.documents.schemas import compiled

    mine = compiled("bhxh", "3176", "XML13")
    theirs: list[object] = []
    worker = threading.Thread(target=lambda: theirs.append(compiled("bhxh", "3176", "XML13")))
    worker.start()
    worker.join()
    assert mine is not None and theirs[0] is not None
    assert theirs[0] is not mine
    assert compiled("bhxh", "3176", "XML13") is mine  # still compiled once per thread


def test_parallel_validation_in_windows_keeps_every_file_in_order(examples: object,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths reach the worker processes in small chunks, a few at a time (memory stays flat); none is
    dropped or reordered."""
    from pathlib import Path

    from sohs_cli.foundation import procpool
    from sohs_cli.validation import engine

    monkeypatch.setattr(procpool, "CHUNK", 2)
    monkeypatch.setattr(procpool, "PENDING", 3)
    paths = sorted(str(p) for p in Path(str(examples)).glob("*.xml"))
    reports = list(engine.validate_many(iter(paths), engine.ValidateOptions(), jobs=2))
    assert [r.path for r in reports] == paths
    assert [r.valid for r in reports] == [engine.validate_path(p).valid for p in paths]


def test_auto_jobs_stays_in_process_for_a_small_batch_and_forks_for_a_large_one(
        examples: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import Path

    from sohs_cli.validation import engine

    paths = sorted(str(p) for p in Path(str(examples)).glob("*.xml"))
    started: list[int] = []
    real_context = engine._context

    def spy() -> object:
        started.append(1)
        return real_context()

    monkeypatch.setattr(engine, "_context", spy)
    monkeypatch.setattr(engine, "auto_jobs", lambda: 2)
    monkeypatch.setattr(engine, "AUTO_MIN_FILES", len(paths) + 1)
    small = list(engine.validate_many(iter(paths), engine.ValidateOptions(), jobs=0))
    assert started == [] and [r.path for r in small] == paths
    monkeypatch.setattr(engine, "AUTO_MIN_FILES", 3)
    large = list(engine.validate_many(iter(paths), engine.ValidateOptions(), jobs=0))
    assert started == [1] and [r.path for r in large] == paths
    assert [r.findings for r in large] == [r.findings for r in small]


def test_the_json_of_a_clean_file_is_the_json_of_its_dict(examples: object) -> None:
    import json
    from pathlib import Path

    from sohs_cli.validation.engine import validate_path
    from sohs_cli.validation.report import FileReport
    from sohs_cli.validation.reporting.json_report import file_dict, file_json

    reports = [validate_path(str(p)) for p in sorted(Path(str(examples)).glob("*.xml"))]
    reports.append(FileReport(path='odd "name" \\ Nguyễn\n.xml', kind="XML13", standard="3176",
                              standard_reason="--standard", documents=1))
    assert any(not r.findings for r in reports) and any(r.findings for r in reports)
    for r in reports:
        assert file_json(r) == json.dumps(file_dict(r), ensure_ascii=False)


def test_the_quick_date_check_never_accepts_a_date_the_full_check_refuses() -> None:
    from sohs_cli.validation.rules import _SURELY_REAL, _real_date

    accepted = 0
    for year in (1899, 1900, 1999, 2000, 2023, 2024, 2100):
        for month in range(14):
            for day in range(33):
                for hhmm in ("", "0000", "2359", "2400", "1260"):
                    v = f"{year:04d}{month:02d}{day:02d}{hhmm}"
                    if _SURELY_REAL.fullmatch(v):
                        accepted += 1
                        assert _real_date(v, allow_unknown=False), v
    assert accepted > 4000  # the quick path takes almost every real date


class _Recording(dict):  # type: ignore[type-arg]
    """A record that remembers which fields were asked for."""

    asked: ClassVar[set[str]] = set()

    def get(self, key: object, default: object = None) -> object:
        assert isinstance(key, str)
        _Recording.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> object:
        _Recording.asked.add(key)
        return super().__getitem__(key)


def test_each_rule_reads_only_the_fields_it_declares() -> None:
    """Rules that declare ``reads`` see an index of those fields only; a field read but not declared
    would silently look empty. Every field of every kind gets values that drive each branch."""
    from sohs_cli.foundation.xmlsafe import parse_bytes
    from sohs_cli.validation import rules

    tables = [samples.xml1(s, "LK1") for s in ("4750", "3176")]
    tables += [samples.xml13(s, "LK1") for s in ("4750", "3176")]
    tables += [samples.xml14(s, "LK1") for s in ("4750", "3176")]
    tables += [samples.checkin(s, "LK1") for s in ("4750", "3176")]
    tables += samples.adult_checkup("LK1")
    values = ["", "20250230", "GD4797920000001;GD47979200000", "A00,B1", "A00;B1;X", "1;2", "12", "abc",
              "170", "65", "40.1", "202501011200"]
    declared = [r for r in rules.RULES if r.reads is not None]
    assert len(declared) >= 10
    for data in tables:
        root = parse_bytes(data)
        from sohs_cli.documents.kinds import detect_kind

        kind = detect_kind(root)
        assert kind is not None
        for standard in ("4750", "3176"):
            doc = rules.Doc(kind.name, standard, root, "x.xml")
            full = doc.rows
            for v in values:
                doc.rows = [_Recording({name: v for name in row}) for row in full]
                doc.fields = doc.rows[0]
                for r in declared:
                    if kind.name not in r.kinds:
                        continue
                    _Recording.asked = set()
                    list(r.check(r, doc))
                    assert r.reads is not None and _Recording.asked <= r.reads, (r.id, _Recording.asked - r.reads)


def test_a_bare_table_indexes_only_the_fields_its_rules_read() -> None:
    from sohs_cli.foundation.xmlsafe import parse_bytes
    from sohs_cli.validation import rules

    root = parse_bytes(samples.xml13("3176", "LK1"))
    wanted = rules.document_reads("XML13")
    assert wanted is not None and "MA_THE_BHYT" in wanted and "HO_TEN" not in wanted
    doc = rules.Doc("XML13", "3176", root, "x.xml", wanted)
    assert set(doc.fields) == {c.tag for c in root if c.tag in wanted}
    assert rules.Doc("XML13", "3176", root, "x.xml").fields.keys() == {c.tag for c in root}


def test_indexing_fewer_fields_changes_no_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    """The narrowed index (fields the rules read; of those, the schema's when the XSD passed) finds
    exactly what a full index finds, also for a table holding an element its schema lacks."""
    from sohs_cli.validation import rules

    base = samples.xml13("3176", "LK1").decode()
    docs = [base.encode(), base.replace("<NGAY_RA>", "<NGAY_YL>20250231</NGAY_YL><NGAY_RA>").encode()]
    docs += [re.sub(rf"<{tag}>[^<]*</{tag}>", f"<{tag}>{value}</{tag}>", base, count=1).encode()
             for tag, value in [("NGAY_RA", "20250230"), ("MA_THE_BHYT", "GD47979200"), ("SO_CCCD", "12"),
                                ("MA_BENH_KT", "I10,E11"), ("NGAY_VAO", "209901010000"), ("HO_TEN", "")]]
    narrowed = [validate_bytes(d, "x.xml") for d in docs]
    monkeypatch.setattr(rules, "document_reads", lambda kind, catalogues=rules.NO_CATALOGUE: None)
    full = [validate_bytes(d, "x.xml") for d in docs]
    assert [r.findings for r in narrowed] == [r.findings for r in full]
    assert sum(len(r.findings) for r in full) >= len(docs) - 1
    assert any(f.code == "date-not-real" and f.element == "NGAY_YL" for f in full[1].findings)


def test_a_report_survives_the_trip_from_a_worker_whole() -> None:
    import pickle

    from sohs_cli.validation.report import FileReport, Finding

    finding = Finding("card-length", "error", "en", "vi", element="MA_THE_BHYT", line=7, hint="h")
    report = FileReport("a.xml", "XML13", "3176", "--standard", [finding], 1, 5, 4, True)
    default = FileReport("")
    assert all(getattr(report, name) != getattr(default, name) for name in FileReport.__slots__)
    assert pickle.loads(pickle.dumps(report, protocol=pickle.HIGHEST_PROTOCOL)) == report


def test_an_xml13_travels_with_its_xml1_in_an_envelope_but_a_bare_slip_stands_alone() -> None:
    lone = pack([("a", samples.xml13("3176", "LK1"))], facility="79001")
    in_envelope = validate_bytes(lone.data, "lone.xml")
    assert [f.code for f in in_envelope.findings if f.code == "xml1-missing"] == ["xml1-missing"]
    bare = validate_bytes(samples.xml13("3176", "LK1"), "slip.xml")
    assert "xml1-missing" not in [f.code for f in bare.findings]
    paired = pack([("a", samples.xml1("3176", "LK1", ma_loai_rv="2")), ("b", samples.xml13("3176", "LK1"))],
                  facility="79001")
    assert "xml1-missing" not in [f.code for f in validate_bytes(paired.data, "paired.xml").findings]


@pytest.mark.parametrize(("field", "value", "hint"), [
    ("T_TONGCHI_BV", "325000,50", "money and quantities use '.'"),
    ("T_TONGCHI_BV", "1.325.000", "without thousands separators"),
    ("CAN_NANG", "55.555", "at most 2 decimals"),
    ("NGAY_VAO", "2025-11-03 08:00", "dates are yyyymmdd"),
    ("NGAY_VAO", "20251103", "add the hour and minute"),
    ("GIOI_TINH", "02", "without its leading zero"),
    ("T_TONGCHI_BV", "12a", ""),
])
def test_frequent_export_mistakes_get_a_hint_that_names_the_fix(field: str, value: str, hint: str) -> None:
    """Issue 14: comma decimals and the like get the fix in words, in both languages."""
    values = samples.xml1_values("3176", "LK000000000081")
    values[field] = value
    rep = validate_bytes(samples.render("TONG_HOP", "xml1_3176", values), "x.xml")
    f = next(f for f in rep.errors if f.element == field and f.code.startswith("xsd:"))
    assert (hint in f.hint) if hint else f.hint == ""
    if hint:
        assert f.hint_vi and f.hint_vi != f.hint


def test_noidungfile_base64_is_as_strict_as_the_canonical_grammar() -> None:
    """decode_noidungfile (pybase64 since issue 14's speed work, binascii before) accepts exactly what
    the canonical base64 grammar accepts, and gives the bytes the standard library's strict decoder
    gives: every string of a small alphabet up to 6 characters, and random longer ones with a stray
    character (whitespace, non-ASCII, the URL-safe alphabet, NUL) or padding anywhere."""
    import binascii
    import itertools
    import random

    from sohs_cli.documents.kinds import decode_noidungfile

    grammar = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    rnd = random.Random(14)
    texts = ["".join(t) for n in range(7) for t in itertools.product("AQg/=\n é", repeat=n)]
    for _ in range(20000):
        chars = [rnd.choice(alphabet) for _ in range(rnd.choice((4, 8, 12, 64, 400)))]
        for _ in range(rnd.choice((0, 0, 1, 2))):
            chars[rnd.randrange(len(chars))] = rnd.choice("= \n\r\t-_.\x00é\u00a0\u0100~" + alphabet)
        if rnd.random() < 0.3:
            chars[-1] = "="
        if rnd.random() < 0.2:
            chars[-2] = "="
        texts.append("".join(chars))
    accepted = 0
    for text in texts:
        try:
            got: bytes | None = decode_noidungfile(text)
        except ValueError:
            got = None
        assert (got is not None) == bool(grammar.fullmatch(text)), repr(text)
        if got is not None:
            accepted += 1
            assert got == binascii.a2b_base64(text.encode("ascii"), strict_mode=True), repr(text)
    assert accepted > 5000  # the valid side was tried too

def test_what_episode_rules_declare_they_see_is_all_they_need(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inside an envelope a table is indexed for its document rules and for what the episode rules
    declare they see (``sees``); a full index finds exactly the same on envelopes that break the
    episode rules (MA_LK, copies of XML1, a lone slip, XML8, the referral)."""
    from sohs_cli.validation import rules

    lk = "LK000000000091"
    base = samples.xml1_values("3176", lk, ma_loai_rv="2")
    x1 = samples.render("TONG_HOP", "xml1_3176", base)
    other = samples.table("XML3", "3176", "LK000000000092", {}, {})
    hiv = samples.table("XML6", "3176", lk, {"GIOI_TINH": "1", "MATINH_CU_TRU": "01"})
    summary = samples.table("XML8", "3176", lk)
    envelopes = [
        samples.export([[x1, samples.xml13("3176", lk, base, HO_TEN="Khác"), other]]),
        samples.export([[x1, hiv, summary]]),
        samples.export([[samples.xml13("3176", lk, base)]]),
        samples.export([[samples.render("TONG_HOP", "xml1_3176", {**base, "MA_LOAI_RV": "1"}),
                         samples.xml13("3176", lk, base)]]),
        samples.export([[x1, samples.xml14("3176", lk, base, DIA_CHI="x")], [x1, other]]),
    ]
    narrowed = [validate_bytes(e, "e.xml") for e in envelopes]
    monkeypatch.setattr(rules, "episode_reads", lambda kind: None)
    full = [validate_bytes(e, "e.xml") for e in envelopes]
    assert [r.findings for r in narrowed] == [r.findings for r in full]
    codes_found = {f.code for r in full for f in r.findings}
    assert {"ma-lk-mismatch", "copy-differs-from-xml1", "XML6.GIOI_TINH.eq-XML1", "xml1-missing",
            "XML8.MA_LK.only-if-XML1-MA_LOAI_KCB-03-04-06", "xml13-without-referral"} <= codes_found


def test_the_xml1_fields_the_copy_rule_sees_are_those_the_tables_copy() -> None:
    """copy-differs-from-xml1 declares the XML1 fields it reads (so an export's XML1 is not indexed
    whole): exactly the sources of copied_fields, read from the shipped field tables."""
    from sohs_cli.validation.rules import XML1_COPIED, copied_fields

    sources = {src for kind in ("XML13", "XML14") for std in ("4750", "3176") for _, src in copied_fields(kind, std)}
    assert tuple(sorted(sources)) == XML1_COPIED


def test_the_organ_classes_the_overall_class_rule_reads_are_those_of_the_forms() -> None:
    from sohs_cli.documents import kskforms
    from sohs_cli.validation.rules import ORGAN_CLASSES

    from_forms = tuple(sorted({(f"KSK:{block}", f.element) for form in kskforms.FORMS for block in ("XML7", "XML10")
                               for f in kskforms.blocks(form).get(block, ()) if f.element.endswith("_PL")}))
    assert from_forms == ORGAN_CLASSES
