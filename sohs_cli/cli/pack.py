"""``sohs pack`` / ``sohs unpack``: build submission envelopes from table files, and take them apart."""

from __future__ import annotations

import os

import typer

from sohs_cli.cli import output
from sohs_cli.cli.output import escape, say
from sohs_cli.foundation.i18n import _


def register(app: typer.Typer) -> None:
    @app.command(help=_("Build a GIAMDINHHS (or KHAMSUCKHOE) envelope: one HOSO per episode, base64 on one line."))
    def pack(
        tables: list[str] = typer.Argument(..., help=_("Table files (XML1, XML13, XML14, … or checkup blocks); "
                                           "with --repack, envelopes.")),
        facility: str | None = typer.Option(None, "--facility", help=_("MA_CSKCB of the sender (5 characters).")),
        out: str | None = typer.Option(None, "--output", "-o", help=_("Envelope file (all tables, one episode).")),
        out_dir: str | None = typer.Option(None, "--out-dir", help=_("One envelope per MA_LK into DIR.")),
        checkup: bool = typer.Option(False, "--checkup", help=_("Build KHAMSUCKHOE (QĐ 2062) instead of GIAMDINHHS.")),
        no_validate: bool = typer.Option(False, "--no-validate", help=_("Skip validating the tables first.")),
        repack: bool = typer.Option(False, "--repack", help=_("Rewrite envelopes with every NOIDUNGFILE base64 on "
                                    "one line (the portal refuses line-wrapped base64); nothing else changes.")),
    ) -> None:

        def body() -> None:
            from sohs_cli.foundation.errors import UsageError
            from sohs_cli.validation.packing import pack_files

            if (out is None) == (out_dir is None):
                raise UsageError(_("give exactly one of --output FILE or --out-dir DIR"))
            if repack:
                from sohs_cli.validation.packing import repack_files

                for path, changed in repack_files(tables, output=out, out_dir=out_dir):
                    output.stdout.print(say("repacked {file}", file=path) + " [dim]("
                                        + say("{count} NOIDUNGFILE put on one line", count=changed) + ")[/]")
                return
            if facility is None:
                raise UsageError(_("--facility is required to pack tables"),
                                 hint=_("the sender's MA_CSKCB, e.g. 79001"))
            written = pack_files(tables, facility=facility, output=out, out_dir=out_dir,
                                 checkup=checkup, validate=not no_validate)
            for path, ma_lk in written:
                output.stdout.print(say("packed {file}", file=path) + f" [dim](MA_LK {escape(ma_lk or '-')})[/]")

        output.guarded(body)

    @app.command(help=_("Write the inner documents of an envelope back out (HOSO1_XML13.xml …), for debugging."))
    def unpack(
        envelope: str = typer.Argument(..., help=_("A GIAMDINHHS or KHAMSUCKHOE file.")),
        directory: str = typer.Option(..., "--dir", "-d", help=_("Where to write the inner documents.")),
        as_json: bool = typer.Option(False, "--json", help=_("Checkup envelopes: write each record (HOSO1.json …) "
                                                             "in the JSON form of QĐ 2062 PL02.")),
    ) -> None:

        def body() -> None:
            from sohs_cli.documents.kinds import unpack as unpack_envelope
            from sohs_cli.foundation.fileio import atomic_write, output_dirs, read_named
            from sohs_cli.foundation.xmlsafe import DEFAULT_MAX_BYTES

            data = read_named(envelope, DEFAULT_MAX_BYTES)  # the parser refuses what is over it
            output_dirs(directory)
            if as_json:
                from sohs_cli.documents.kskjson import records_as_json

                for index, text in records_as_json(data, envelope):
                    target = os.path.join(directory, f"HOSO{index}.json")
                    atomic_write(target, text, setup=True)
                    output.stdout.print(say("wrote {file}", file=target))
                return
            for name, inner in unpack_envelope(data, envelope):
                target = os.path.join(directory, name)
                atomic_write(target, inner, setup=True)
                output.stdout.print(say("wrote {file}", file=target))

        output.guarded(body)
