"""Build hook: compile the message catalogs (``sohs_cli/locale/*/LC_MESSAGES/*.po``) to ``.mo``.

The ``.po`` files are the source, in git; the ``.mo`` files are build output (git-ignored) that the
wheel carries and the standard library's ``gettext`` reads at run time. Babel compiles them: a
build-time tool only (``[build-system] requires`` and the ``dev`` dependency group), never imported by
``sohs_cli``. ``tests/conftest.py`` runs :func:`compile_catalogs` too, so a catalog edited in a
checkout is what the tests see without reinstalling.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

LOCALE = Path(__file__).resolve().parent / "sohs_cli" / "locale"


def compile_catalogs(locale: Path = LOCALE) -> list[Path]:
    """Compile every ``.po`` under ``locale`` whose ``.mo`` is missing or older; the ``.mo`` paths."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po in sorted(locale.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        written.append(mo)
        if mo.exists() and mo.stat().st_mtime_ns >= po.stat().st_mtime_ns:
            continue
        with open(po, "rb") as fh:
            catalog = read_po(fh, locale=po.parent.parent.name, abort_invalid=True)
        # atomically: tests of several processes may compile at once
        fd, tmp = tempfile.mkstemp(dir=po.parent, prefix=".mo-")
        with os.fdopen(fd, "wb") as out:
            write_mo(out, catalog)  # fuzzy entries are left out: untranslated until reviewed
        # mkstemp makes the file 0600: a catalog installed by root would be unreadable to the clinic's
        # service user (every message in English). Readable as any file the build writes: the umask's.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, mo)
    return written


class CatalogHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        compile_catalogs(Path(self.root) / "sohs_cli" / "locale")
        build_data.setdefault("artifacts", []).append("sohs_cli/locale/*/LC_MESSAGES/*.mo")


if __name__ == "__main__":  # python hatch_build.py: compile in a checkout by hand
    for path in compile_catalogs():
        print(path)
