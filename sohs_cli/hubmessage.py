"""The checkup hub's message signature (QĐ 1551 PL02 as the HCC guide implements it; DOMAIN.md §4.3),
defined once for both sides: the client that signs a push and the simulated hub that verifies it.

``A = UPPER(hex(SHA256(header JSON)))``, ``B = UPPER(hex(SHA256(trim(data))))``, and the facility's
key signs ``A + "." + B`` (RSA-SHA256). The header JSON is the compact form with keys in the order
given (the real serialisation is not published); the client sends exactly the bytes it hashed.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def compact(header: dict[str, Any]) -> str:
    return json.dumps(header, separators=(",", ":"), ensure_ascii=False)


def signed_text(header_json: str, data: str) -> bytes:
    """``A + "." + B`` for a header (as its compact JSON) and the base64 ``data``."""
    a = hashlib.sha256(header_json.encode("utf-8")).hexdigest().upper()
    b = hashlib.sha256(data.strip().encode("utf-8")).hexdigest().upper()
    return f"{a}.{b}".encode("ascii")
