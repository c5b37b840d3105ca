"""Asynchronous processing of received files: XSD and business rules, per HOSO, with field errors.

The real gateway processes after receipt and shows the results in its web pages ("Kết quả gửi hồ sơ
XML", per-field errors of each failed record). The simulator reuses ``sohs`` validation: a HOSO ends
``accepted`` when none of its findings is an error, else ``rejected`` with the errors. Findings of
the envelope itself (outside any HOSO) count for every HOSO.
"""

from __future__ import annotations

import re
from typing import Any

from sohs_cli.mockportal.gateway import ENDPOINTS
from sohs_cli.validation.engine import ValidateOptions, validate_bytes
from sohs_cli.validation.report import Finding

_HOSO = re.compile(r"› HOSO (\d+)")


def field_error(f: Finding) -> dict[str, Any]:
    return {"maLoi": f.code, "truong": f.element, "nhan": f.label, "dong": f.line, "moTa": f.message_vi,
            "moTaEn": f.message_en, "viTri": f.location}


def process(endpoint: str, data: bytes, ma_lks: list[str], source: str) -> list[tuple[int, str, str, list[Any]]]:
    """``(index, MA_LK, accepted|rejected, errors)`` for each HOSO (or check-in row) of a received file."""
    standard = ENDPOINTS[endpoint][1] if endpoint in ENDPOINTS else "auto"
    report = validate_bytes(data, source, ValidateOptions(standard=standard))
    per_hoso: dict[int, list[dict[str, Any]]] = {}
    shared: list[dict[str, Any]] = []
    for f in report.errors:
        m = _HOSO.search(f.location or f.message_en)
        (per_hoso.setdefault(int(m.group(1)), []) if m else shared).append(field_error(f))
    out = []
    for index, ma_lk in enumerate(ma_lks or [""], start=1):
        errors = shared + per_hoso.get(index, [])
        out.append((index, ma_lk, "rejected" if errors else "accepted", errors))
    return out
