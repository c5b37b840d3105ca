"""Check real ``--json`` output against the JSON Schema files shipped in ``sohs_cli/schemas/``."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

SCHEMAS = Path(__file__).resolve().parents[2] / "sohs_cli" / "schemas"


@cache
def schema(kind: str) -> dict[str, Any]:
    from sohs_cli.cli.output import JSON_SCHEMAS

    data: dict[str, Any] = json.loads((SCHEMAS / f"{kind}-{JSON_SCHEMAS[kind]}.schema.json").read_text("utf-8"))
    return data


def assert_schema(kind: str, data: Any) -> None:
    jsonschema.Draft202012Validator.check_schema(schema(kind))
    jsonschema.Draft202012Validator(schema(kind)).validate(data)
