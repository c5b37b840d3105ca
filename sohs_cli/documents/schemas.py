"""The shipped XSDs: where they are, compiled once per process, and the labels they document.

Layout (by issuer and version): ``bhxh/4750``, ``bhxh/3176``, ``ksk/2062``, ``w3c``. In an installed
wheel the folder is ``sohs_cli/xsd``; in a source checkout it is the top-level ``xsd/``.
"""

from __future__ import annotations

import functools
import os
import threading

from lxml import etree

from sohs_cli.foundation.errors import ConfigError

XS = "{http://www.w3.org/2001/XMLSchema}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@functools.cache
def xsd_dir() -> str:
    """The folder of the XSDs and tables, as a string: ``pathlib`` is not imported at start-up (issue 14)."""
    here = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    for candidate in (os.path.join(here, "xsd"), os.path.join(os.path.dirname(here), "xsd")):
        if os.path.isdir(os.path.join(candidate, "bhxh")):
            return candidate
    from sohs_cli.foundation.i18n import _

    raise ConfigError(_("the schema folder xsd/ is missing from the installation"), hint=_("reinstall sohs"))


def schema_path(family: str, standard: str, name: str) -> str:
    return os.path.join(xsd_dir(), family, *standard.split("/"), f"{name}.xsd")


_LOCAL = threading.local()
_COMPILING = threading.Lock()


def compiled(family: str, standard: str, name: str) -> etree.XMLSchema | None:
    """The compiled schema for a document kind, or None when none is shipped for it.

    One per thread: an ``XMLSchema`` keeps the ``error_log`` of its last validation on itself, so
    two threads validating with one object would read each other's errors; and libxml2 must not
    compile two schemas at once (it fails with "Document is not valid XML Schema"). Regression:
    ``sohs sign`` on several files overlaps them on I/O threads.
    """
    cache: dict[tuple[str, str, str], etree.XMLSchema | None] | None = getattr(_LOCAL, "schemas", None)
    if cache is None:
        cache = _LOCAL.schemas = {}
    key = (family, standard, name)
    if key not in cache:
        with _COMPILING:
            cache[key] = _compile(family, standard, name)
    return cache[key]


def _compile(family: str, standard: str, name: str) -> etree.XMLSchema | None:
    path = schema_path(family, standard, name)
    if not os.path.isfile(path):
        return None
    # Our own files, but parsed with no network all the same; xs:import is resolved from disk.
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    return etree.XMLSchema(etree.parse(path, parser))


@functools.cache
def _all_labels() -> dict[str, str]:
    labels: dict[str, str] = {}
    found = [os.path.join(folder, name) for folder, _dirs, names in os.walk(xsd_dir()) for name in names
             if name.endswith(".xsd")]
    for path in sorted(found, key=lambda p: os.path.normcase(p).split(os.sep)):  # as sorted Paths were
        tree = etree.parse(path)
        for el in tree.iter(f"{XS}element"):
            name = el.get("name")
            if not name or name in labels:
                continue
            for d in el.iterfind(f"{XS}annotation/{XS}documentation"):
                if d.get(XML_LANG) == "vi" and d.get("source") is None:
                    labels[name] = (d.text or "").strip()
                    break
    return labels


def label(element: str) -> str:
    """Vietnamese label of an element, as documented in the XSDs ("MA_THE_BHYT" -> "Mã thẻ BHYT")."""
    return _all_labels().get(element, "")


def named(element: str) -> str:
    """``MA_THE_BHYT (Mã thẻ BHYT)``: how every message names an element."""
    lab = label(element)
    return f"{element} ({lab})" if lab else element


@functools.cache
def decision_lengths(family: str, standard: str, name: str) -> dict[str, tuple[int, int]]:
    """Fields whose decision length is stricter than the portal sheet's (``xs:appinfo
    source="decision-max-length"``, written by ``xsd/_build.py``): element -> (the decision's length,
    the sheet's, which is the schema's maxLength)."""
    path = schema_path(family, standard, name)
    if not os.path.isfile(path):
        return {}
    out: dict[str, tuple[int, int]] = {}
    for info in etree.parse(path).iter(f"{XS}appinfo"):
        if info.get("source") == "decision-max-length":
            annotation = info.getparent()
            el = annotation.getparent() if annotation is not None else None  # appinfo < annotation < element
            sheet = el.find(f".//{XS}maxLength") if el is not None else None
            if el is not None and sheet is not None:
                out[el.get("name", "")] = (int(info.text or "0"), int(sheet.get("value", "0")))
    return out
