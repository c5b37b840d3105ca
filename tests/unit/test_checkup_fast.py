"""The checkup envelope's fast path (issue 13, speed): it reports exactly what the general walk reports,
and it takes only the envelopes it can prove clean.

The general walk is the reference: each case is validated twice, once as ``sohs validate`` does and
once with the fast path refusing every file, and the two reports must be equal, finding for finding.
"""

from __future__ import annotations

import re

import pytest
from lxml import etree

from sohs_cli.documents import kskforms, samples
from sohs_cli.documents.kinds import pack
from sohs_cli.documents.schemas import XS, schema_path
from sohs_cli.validation import checkup_fast
from sohs_cli.validation.engine import ValidateOptions, validate_bytes
from sohs_cli.validation.report import FileReport, Findings

FORMS = {3: samples.adult_checkup, 2: samples.pupil_checkup, 1: samples.child_checkup}
FIELD = re.compile(rb"  <([A-Z_0-9]+)>([^<]*)</\1>\r\n")


def envelope(blocks: list[bytes]) -> bytes:
    return pack([(f"b{i}", b) for i, b in enumerate(blocks)], facility="01001", envelope="KHAMSUCKHOE").data


@pytest.mark.parametrize("form", kskforms.FORMS)
def test_each_form_schema_holds_exactly_its_tables_fields(form: int) -> None:
    """What lets the fast path skip the foreign-field check: a block valid against its form's schema
    has no field of another form, because the schema admits exactly the form's fields (no wildcard)."""
    for block in kskforms.blocks(form):
        if block == "CHUKYDONVI":
            continue
        tree = etree.parse(str(schema_path("ksk", f"2062/form{form}", block)))
        assert not list(tree.iter(f"{XS}any")), block
        (top,) = tree.getroot().findall(f"{XS}element")
        names = {el.get("name") for el in top.iter(f"{XS}element") if el is not top}
        assert names == set(kskforms.block_fields(form, block)), (form, block)


def _fields(report: FileReport) -> tuple[object, ...]:
    return report.__reduce__()[1]  # every field, the findings as a plain list


def _root(block: bytes) -> bytes:
    return etree.fromstring(block).tag.encode()


def _mutations() -> list[tuple[str, bytes]]:
    out = []
    for form, make in FORMS.items():
        blocks = make("KSK0000000001")
        out.append((f"f{form}", envelope(blocks)))
        for i, b in enumerate(blocks):
            for m in FIELD.finditer(b):
                name = m.group(1).decode()
                for how, new in (("drop", b""), ("blank", b"  <%s></%s>\r\n" % (m.group(1), m.group(1))),
                                 ("garble", b"  <%s>@@x;,%s</%s>\r\n" % (m.group(1), m.group(2), m.group(1)))):
                    out.append((f"f{form} {name} {how}", envelope([*blocks[:i], b[:m.start()] + new + b[m.end():],
                                                                  *blocks[i + 1:]])))
        other = FORMS[1 if form != 1 else 3]("KSK0000000001")
        roots = {_root(b) for b in blocks}
        out.append((f"f{form} foreign block", envelope(blocks + [b for b in other if _root(b) not in roots][:1])))
    out.append(("bmi", envelope(samples.adult_checkup("KSK0000000001", bmi="30"))))
    out.append(("class 4 unexplained", envelope([b.replace(b"S\xe1\xbb\xa9c kh\xe1\xbb\x8fe t\xe1\xbb\x91t", b"")
                                                 for b in samples.adult_checkup("KSK0000000001", phan_loai_sk="4")])))
    return out


MUTATIONS = _mutations()


@pytest.mark.parametrize("options", [ValidateOptions(), ValidateOptions(max_findings=2),
                                     ValidateOptions(rules=False), ValidateOptions(strict=True)],
                         ids=["default", "cap 2", "no rules", "strict"])
def test_the_fast_path_reports_what_the_general_walk_reports(monkeypatch: pytest.MonkeyPatch,
                                                            options: ValidateOptions) -> None:
    fast = [validate_bytes(data, f"{name}.xml", options) for name, data in MUTATIONS]
    monkeypatch.setattr(checkup_fast, "validate", lambda *args: False)
    walk = [validate_bytes(data, f"{name}.xml", options) for name, data in MUTATIONS]
    for (name, _), a, b in zip(MUTATIONS, fast, walk, strict=True):
        assert _fields(a) == _fields(b), name
    assert any(not r.valid for r in walk) and any(r.valid for r in walk)


def test_the_fast_path_takes_a_clean_envelope_and_leaves_the_report_untouched_otherwise() -> None:
    clean = envelope(samples.child_checkup("KSK0000000001"))
    report = FileReport(path="k.xml", findings=Findings(1000))
    assert checkup_fast.validate(report, etree.fromstring(clean), ValidateOptions())
    assert report.documents == 8 and report.standard == "2062 form 1" and not report.findings
    for doubt in (clean.replace(b"<SOLUONGHOSO>1<", b"<SOLUONGHOSO>2<"),  # the count
                  re.sub(rb"(<NOIDUNGFILE>[A-Za-z0-9+/]{8})", rb"\1 ", clean, count=1),  # base64
                  clean.replace(b"<LOAIHOSO>XML3<", b"<LOAIHOSO>XML4<"),  # the block LOAIHOSO names
                  envelope(samples.adult_checkup("KSK0000000001", HO_TEN=None))):  # the form's schema
        untouched = FileReport(path="k.xml", findings=Findings(1000))
        before = _fields(untouched)
        assert not checkup_fast.validate(untouched, etree.fromstring(doubt), ValidateOptions())
        assert _fields(untouched) == before

