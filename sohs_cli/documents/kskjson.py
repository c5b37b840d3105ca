"""The JSON form of a checkup message (QĐ 2062 PL02 §6 b), read as the XML it stands for.

The decision prints the same ``KHAMSUCKHOE`` as JSON: keys are the XML element names in lower case,
``noidungfile`` holds the block as an object, a repeated element is an array (``filehoso``; XML11
``kham_can_lam_sang`` as a one-element array), values are strings or numbers as printed. A hub
message (``{header, data, signature}`` with ``data_type`` ``json/base64`` or ``xml/base64``) is read
too: its ``data`` is decoded first. Each key becomes its element in upper case, each scalar its
text; the result is validated like any checkup envelope.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from lxml import etree

from sohs_cli.foundation.errors import InputError
from sohs_cli.foundation.i18n import _

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")
MAX_DEPTH = 32  # the decision's message is 6 levels deep
_EXAMPLE = '{"khamsuckhoe": {...}}'


def _form_hint() -> str:
    return _("the JSON form of QĐ 2062 PL02 §6 b: {example}", example=_EXAMPLE)


def looks_like_json(data: bytes) -> bool:
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"{")


def _load(data: bytes, source: str) -> Any:
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise InputError(_("{file}: JSON that is not UTF-8 (byte {offset})", file=source, offset=exc.start),
                         code="not-utf8") from None
    except json.JSONDecodeError as exc:
        raise InputError(_("{file}: not valid JSON (line {line}, column {column})", file=source, line=exc.lineno,
                           column=exc.colno), code="json-invalid", hint=_form_hint()) from None
    except (ValueError, RecursionError):
        raise InputError(_("{file}: not valid JSON", file=source), code="json-invalid", hint=_form_hint()) from None


def to_xml(data: bytes, source: str) -> bytes:
    """The XML of a JSON checkup message (or of a hub message carrying one); InputError when it is neither."""
    obj = _load(data, source)
    if isinstance(obj, dict) and "header" in obj and "data" in obj:  # a hub push message (PL02 §5.2)
        header = obj["header"] if isinstance(obj["header"], dict) else {}
        kind = str(header.get("data_type", "xml/base64"))
        try:
            inner = base64.b64decode("".join(str(obj["data"]).split()), validate=True)
        except (binascii.Error, ValueError):
            raise InputError(_("{file}: the message's data is not base64", file=source), code="json-invalid") from None
        if kind == "xml/base64":
            return inner
        if kind != "json/base64":
            raise InputError(_("{file}: data_type {value} is neither xml/base64 nor json/base64", file=source,
                               value=repr(kind)), code="json-invalid")
        obj = _load(inner, f"{source} data")
    if not isinstance(obj, dict) or set(obj) != {"khamsuckhoe"} or not isinstance(obj["khamsuckhoe"], dict):
        raise InputError(_("{file}: JSON without the one key \"khamsuckhoe\" holding the message", file=source),
                         code="json-invalid", hint=_form_hint())
    root = etree.Element("KHAMSUCKHOE")
    _fill(root, obj["khamsuckhoe"], source, 1)
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    return out


def _fill(parent: etree._Element, value: dict[str, Any], source: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise InputError(_("{file}: JSON nested deeper than {depth} levels", file=source, depth=MAX_DEPTH),
                         code="json-invalid")
    for key, item in value.items():
        if not _NAME.fullmatch(key):
            raise InputError(_("{file}: JSON key {key} is not an element name", file=source, key=repr(key[:40])),
                             code="json-invalid")
        for one in item if isinstance(item, list) else [item]:
            child = etree.SubElement(parent, key.upper())
            if isinstance(one, dict):
                _fill(child, one, source, depth + 1)
            elif isinstance(one, list):
                raise InputError(_("{file}: an array inside an array at {key}", file=source, key=repr(key)),
                                 code="json-invalid")
            elif one is None:
                continue
            elif isinstance(one, bool):
                child.text = "1" if one else "0"
            else:
                child.text = str(one)


def _as_json(el: etree._Element) -> Any:
    children = [c for c in el if isinstance(c.tag, str)]
    if not children:
        return el.text or ""
    out: dict[str, Any] = {}
    for child in children:
        key, value = str(child.tag).lower(), _as_json(child)
        if key in out:  # a repeated element is an array, as filehoso is in the decision's example
            out[key] = [*out[key], value] if isinstance(out[key], list) else [out[key], value]
        else:
            out[key] = value
    return out


def records_as_json(data: bytes, source: str) -> list[tuple[int, bytes]]:
    """Each record (HOSO) of a KHAMSUCKHOE in the decision's JSON form: ``(HOSO number, UTF-8 JSON)``.

    Every value is a string, as the XML holds it (the decision's example mixes strings and numbers);
    ``noidungfile`` holds each block as an object; ``sohs validate`` reads the result back."""
    from sohs_cli.documents.kinds import KHAMSUCKHOE, iter_hoso, text_of
    from sohs_cli.foundation.xmlsafe import parse_bytes

    root = parse_bytes(data, source=source)
    if root.tag != KHAMSUCKHOE:
        raise InputError(_("{file}: <{tag}> is not a checkup envelope: the JSON form is QĐ 2062's (KHAMSUCKHOE) "
                           "only", file=source, tag=root.tag), code="json-invalid", hint=_("unpack it without --json"))
    chuky = root.find("CHUKYDONVI")
    out = []
    for hoso in iter_hoso(root):
        files = []
        for inner in hoso.files:
            if inner.data is None:
                raise InputError(_("{file} › HOSO {index} › {table} line {line}: {error}", file=source,
                                   index=hoso.index, table=inner.loaihoso, line=inner.line, error=inner.error))
            block = parse_bytes(inner.data, source=f"{source} › HOSO {hoso.index} › {inner.loaihoso}")
            files.append({"loaihoso": inner.loaihoso, "noidungfile": {str(block.tag).lower(): _as_json(block)}})
        message = {"khamsuckhoe": {
            "thongtindonvi": {"macskcb": text_of(root, "THONGTINDONVI/MACSKCB")},
            "thongtinhoso": {"ngaylap": text_of(root, "THONGTINHOSO/NGAYLAP"), "soluonghoso": "1",
                             "danhsachhoso": {"hoso": {"filehoso": files}}},
            "chukydonvi": _as_json(chuky) if chuky is not None else {}}}
        out.append((hoso.index, json.dumps(message, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"))
    return out
