"""Packing table files into envelopes on disk: validate first, group by MA_LK, write atomically."""

from __future__ import annotations

import os
from collections import defaultdict

from sohs_cli.documents.kinds import GIAMDINHHS, KHAMSUCKHOE, pack
from sohs_cli.foundation.errors import ExitCode, InputError, SohsError
from sohs_cli.foundation.fileio import atomic_write, output_dirs, read_file, read_named
from sohs_cli.foundation.filenames import NameBook, safe_stem
from sohs_cli.foundation.i18n import _, language
from sohs_cli.foundation.xmlsafe import DEFAULT_MAX_BYTES, parse_bytes


class InvalidTables(SohsError):
    exit_code = ExitCode.FINDINGS


def pack_files(paths: list[str], *, facility: str, output: str | None, out_dir: str | None,
               checkup: bool = False, validate: bool = True) -> list[tuple[str, str]]:
    """Pack tables into envelopes; returns ``(written path, MA_LK)``. Nothing is written when any
    table is invalid (unless ``validate`` is off): a half-packed batch helps nobody."""
    kind = KHAMSUCKHOE if checkup else GIAMDINHHS
    # read with the size limit (a 2 GB file took 4 GB; parse_bytes then refuses what is over it)
    tables = [(p, read_named(p, DEFAULT_MAX_BYTES)) for p in paths]
    if validate:
        from sohs_cli.validation.engine import validate_bytes

        bad = [r for r in (validate_bytes(data, p) for p, data in tables) if not r.valid]
        if bad:
            raise InvalidTables(
                _("{count} table(s) invalid, nothing packed; first: {first}", count=len(bad),
                  first=bad[0].first_problem(language())),
                hint=_("run `sohs validate` on the tables for every error, or --no-validate to pack anyway"))
    if output is not None:
        env = pack(tables, facility=facility, envelope=kind)
        atomic_write(output, env.data, setup=True)  # an output the user named: exit 3 when it cannot be
        return [(output, env.ma_lk)]
    assert out_dir is not None
    groups: dict[str, list[tuple[str, bytes]]] = defaultdict(list)
    for path, data in tables:
        root = parse_bytes(data, source=path)
        ma_lk = (root.findtext("MA_LK") or "").strip()
        if not ma_lk:
            raise InputError(_("{file}: no MA_LK to group by", file=path),
                             hint=_("use --output to pack tables into one envelope"))
        groups[ma_lk].append((path, data))
    output_dirs(out_dir)
    written = []
    names = NameBook()  # unique in this batch; a name from an earlier pack is replaced, as -o does
    for ma_lk in sorted(groups):
        env = pack(groups[ma_lk], facility=facility, envelope=kind)
        target = os.path.join(out_dir, names.claim(safe_stem(ma_lk)).name)
        atomic_write(target, env.data, setup=True)
        written.append((target, ma_lk))
    return written


def repack_files(paths: list[str], *, output: str | None, out_dir: str | None) -> list[tuple[str, int]]:
    """Rewrite envelopes with every payload on one line (:func:`sohs_cli.documents.kinds.repack`); returns
    ``(written path, payloads rewritten)``. Each file is read and checked before any is written."""
    from sohs_cli.documents.kinds import repack
    from sohs_cli.foundation.errors import UsageError

    if output is not None and len(paths) != 1:
        raise UsageError(_("--output takes one envelope, {n} were given", n=len(paths)),
                         hint=_("use --out-dir DIR"))
    targets = [output if output is not None else os.path.join(out_dir or ".", os.path.basename(p)) for p in paths]
    for path, target in zip(paths, targets, strict=True):
        if os.path.abspath(path) == os.path.abspath(target):
            raise UsageError(_("{file} is the envelope itself; the original is never overwritten", file=target),
                             hint=_("write the repacked copy elsewhere (-o FILE or --out-dir DIR)"))
    if len(set(map(os.path.abspath, targets))) != len(targets):
        raise UsageError(_("two envelopes of the same name would be written to one file"),
                         hint=_("repack them separately"))
    done = [(p, *repack(read_file(p, DEFAULT_MAX_BYTES), p)) for p in paths]
    written = []
    for (_source, data, changed), target in zip(done, targets, strict=True):
        if out_dir is not None:
            os.makedirs(out_dir, exist_ok=True)
        atomic_write(target, data)
        written.append((target, changed))
    return written
