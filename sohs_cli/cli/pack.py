"""``sohs pack`` / ``sohs unpack``: build submission envelopes from table files, and take them apart."""

from __future__ import annotations

import os

import typer

from sohs_cli.cli import output
from sohs_cli.cli.output import escape


def register(app: typer.Typer) -> None:
    @app.command()
    def pack(
        tables: list[str] = typer.Argument(..., help="Table files (XML1, XML13, XML14, … or checkup blocks); "
                                           "with --repack, envelopes."),
        facility: str | None = typer.Option(None, "--facility", help="MA_CSKCB of the sender (5 characters)."),
        out: str | None = typer.Option(None, "--output", "-o", help="Envelope file (all tables, one episode)."),
        out_dir: str | None = typer.Option(None, "--out-dir", help="One envelope per MA_LK into DIR."),
        checkup: bool = typer.Option(False, "--checkup", help="Build KHAMSUCKHOE (QĐ 2062) instead of GIAMDINHHS."),
        no_validate: bool = typer.Option(False, "--no-validate", help="Skip validating the tables first."),
        repack: bool = typer.Option(False, "--repack", help="Rewrite envelopes with every NOIDUNGFILE base64 on "
                                    "one line (the portal refuses line-wrapped base64); nothing else changes."),
    ) -> None:
        """Build a GIAMDINHHS (or KHAMSUCKHOE) envelope: one HOSO per episode, base64 on one line.

        Đóng gói các bảng XML thành hồ sơ gửi cổng.
        """

        def body() -> None:
            from sohs_cli.envelopes import pack_files
            from sohs_cli.errors import UsageError

            if (out is None) == (out_dir is None):
                raise UsageError("give exactly one of --output FILE or --out-dir DIR")
            if repack:
                from sohs_cli.envelopes import repack_files

                for path, changed in repack_files(tables, output=out, out_dir=out_dir):
                    one_line = output.t("put on one line", "đưa về một dòng")
                    output.stdout.print(f"{output.t('repacked', 'đã đóng gói lại')} {escape(path)} "
                                        f"[dim]({changed} NOIDUNGFILE {one_line})[/]")
                return
            if facility is None:
                raise UsageError("--facility is required to pack tables", hint="the sender's MA_CSKCB, e.g. 79001")
            written = pack_files(tables, facility=facility, output=out, out_dir=out_dir,
                                 checkup=checkup, validate=not no_validate)
            for path, ma_lk in written:
                output.stdout.print(f"packed {escape(path)} [dim](MA_LK {escape(ma_lk or '-')})[/]")

        output.guarded(body)

    @app.command()
    def unpack(
        envelope: str = typer.Argument(..., help="A GIAMDINHHS or KHAMSUCKHOE file."),
        directory: str = typer.Option(..., "--dir", "-d", help="Where to write the inner documents."),
    ) -> None:
        """Write the inner documents of an envelope back out (HOSO1_XML13.xml …), for debugging.

        Giải nén các bảng XML trong hồ sơ.
        """

        def body() -> None:
            from sohs_cli.documents import unpack as unpack_envelope
            from sohs_cli.fileio import atomic_write, output_dirs, read_named
            from sohs_cli.xmlsafe import DEFAULT_MAX_BYTES

            data = read_named(envelope, DEFAULT_MAX_BYTES)  # the parser refuses what is over it
            output_dirs(directory)
            for name, inner in unpack_envelope(data, envelope):
                target = os.path.join(directory, name)
                atomic_write(target, inner, setup=True)
                output.stdout.print(f"wrote {escape(target)}")

        output.guarded(body)
