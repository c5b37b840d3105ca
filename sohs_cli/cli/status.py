"""``sohs status``: what reached the portal, what was refused and why, what still has to go."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import typer

from sohs_cli.cli import output, portalopts
from sohs_cli.cli.output import escape

STATE_VI = {"pending": "chờ gửi", "sent": "đã gửi", "accepted": "hợp lệ", "rejected": "bị từ chối",
            "failed": "lỗi cổng"}
COLUMNS = ("path", "sha256", "ma_lk", "kind", "state", "portal_code", "transaction_id", "received_at", "message",
           "errors")


def as_dict(row: Any) -> dict[str, Any]:
    return {"path": row["path"], "sha256": row["sha256"], "ma_lk": json.loads(row["ma_lks"]), "kind": row["kind"],
            "standard": row["standard"], "facility": row["facility"], "state": row["state"],
            "portal_code": row["portal_code"], "transaction_id": row["transaction_id"],
            "received_at": row["received_at"], "processed_at": row["processed_at"], "message": row["message"],
            "errors": json.loads(row["errors"]), "updated_at": row["updated_at"]}


def _explain(ledger: Any, ma_lk: str) -> None:
    rows = ledger.select(ma_lk=ma_lk)
    if not rows:
        output.stdout.print(f"no document with MA_LK {escape(ma_lk)} in the ledger")
        return
    for row in rows:
        d = as_dict(row)
        output.stdout.print(f"[bold]{escape(d['path'])}[/] [dim]sha256 {d['sha256'][:16]}…[/] state "
                            f"[bold]{d['state']}[/] {escape(d['message'])}")
        for a in ledger.attempts(row["id"]):
            output.stdout.print(f"  {a['started_at']} → {a['finished_at'] or '(open)'} {a['outcome']} "
                                f"{a['portal_code']} {a['transaction_id']} {escape(a['message'])}")
        for e in d["errors"]:
            label = f" ({e.get('nhan')})" if e.get("nhan") else ""
            output.stdout.print(f"  [red]✗[/] {escape(str(e.get('truong', '')))}{escape(label)} "
                                f"{escape(str(e.get('moTa', '')))}")


def register(app: typer.Typer) -> None:
    @app.command()
    def status(
        refresh: bool = typer.Option(False, "--refresh", help="Ask the portal for results not yet final."),
        since: str | None = typer.Option(None, "--since", metavar="DATE", help="Changed on or after DATE (ISO)."),
        state: list[str] = typer.Option([], "--state", help="pending | sent | accepted | rejected | failed."),
        facility: str | None = typer.Option(None, "--facility", help="Only this MA_CSKCB."),
        ma_lk: str | None = typer.Option(None, "--ma-lk", help="Only documents holding this MA_LK."),
        path: str | None = typer.Option(None, "--path", help="Only paths containing this text."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
        as_csv: bool = typer.Option(False, "--csv", help="Print CSV."),
        explain: str | None = typer.Option(None, "--explain", metavar="MA_LK",
                                           help="The whole history of one episode."),
        portal: str | None = portalopts.portal_url(),
        username: str | None = portalopts.username(),
        password_env: str | None = portalopts.password_env(),
        password_file: str | None = portalopts.password_file(),
        ca_bundle: str | None = portalopts.ca_bundle(),
        home: str | None = portalopts.home(),
        config: str | None = portalopts.config(),
    ) -> None:
        """Delivery status from the ledger (exit 1 when the selection holds a rejected or failed document).

        Tình trạng gửi hồ sơ, từ sổ ghi; --refresh hỏi kết quả xử lý từ cổng.
        """

        def body() -> None:
            import asyncio

            from sohs_cli.errors import ExitCode, UsageError
            from sohs_cli.ledger import STATES, Ledger
            from sohs_cli.submission import refresh as refresh_results

            unknown = [x for x in state if x not in STATES]
            if unknown:
                raise UsageError(f"--state {unknown[0]}: not one of {', '.join(STATES)}")
            s = portalopts.settings(config, portal__url=portal, portal__username=username,
                                    portal__password_env=password_env, portal__password_file=password_file,
                                    portal__ca_bundle=ca_bundle, home=home)
            ledger = Ledger(s.home)
            try:
                if refresh:
                    async def go() -> tuple[int, bool]:
                        client = portalopts.make_client(s)
                        try:
                            return await refresh_results(ledger, client)
                        finally:
                            await client.close()

                    updated, supported = asyncio.run(go())
                    note = output.t(f"refreshed {updated} result(s)", f"đã cập nhật {updated} kết quả") if supported \
                        else output.t("the portal offers no result lookup; results are in its web pages "
                                      "(Kết quả gửi hồ sơ XML)", "cổng không có tra cứu kết quả; xem trên trang "
                                      "Kết quả gửi hồ sơ XML")
                    output.stderr.print(note)
                if explain:
                    _explain(ledger, explain)
                    rows = ledger.select(ma_lk=explain)
                else:
                    rows = ledger.select(since=since or "", states=state, facility=facility or "",
                                         ma_lk=ma_lk or "", path=path or "")
                    _render(rows, as_json, as_csv)
            finally:
                ledger.close()
            if any(r["state"] in ("rejected", "failed") for r in rows):
                raise SystemExit(int(ExitCode.FINDINGS))

        output.guarded(body)


def _render(rows: list[Any], as_json: bool, as_csv: bool) -> None:
    docs = [as_dict(r) for r in rows]
    summary: dict[str, int] = {}
    for d in docs:
        summary[d["state"]] = summary.get(d["state"], 0) + 1
    if as_json:
        output.write_output(json.dumps({"documents": docs, "summary": summary}, ensure_ascii=False, indent=1), None)
        return
    if as_csv:
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(COLUMNS)
        for d in docs:
            writer.writerow([";".join(d[c]) if c == "ma_lk" else json.dumps(d[c], ensure_ascii=False)
                             if c == "errors" else d[c] for c in COLUMNS])
        output.write_output(buf.getvalue(), None)
        return
    from rich.table import Table

    t = output.t
    totals = "  ".join(f"{t(k, STATE_VI[k])}: {v}" for k, v in sorted(summary.items())) or \
        t("the ledger holds no document yet", "sổ ghi chưa có hồ sơ nào")
    output.stdout.print(f"[bold]{len(docs)} {t('document(s)', 'hồ sơ')}[/]  {totals}")
    if not docs:
        return
    table = Table(show_edge=False, pad_edge=False)
    for en, vi in (("state", "trạng thái"), ("MA_LK", "MA_LK"), ("maGiaoDich", "maGiaoDich"),
                   ("received", "tiếp nhận"), ("code", "mã"), ("path", "tệp"), ("message", "thông điệp")):
        table.add_column(t(en, vi), overflow="fold")
    colour = {"accepted": "green", "sent": "cyan", "pending": "yellow", "failed": "yellow", "rejected": "red"}
    for d in docs:
        message = d["message"] + (f" ({len(d['errors'])} {t('field error(s)', 'lỗi trường')})" if d["errors"] else "")
        state = f"[{colour[d['state']]}]{t(d['state'], STATE_VI[d['state']])}[/]"
        table.add_row(state, escape(", ".join(d["ma_lk"])), d["transaction_id"], d["received_at"], d["portal_code"],
                      escape(d["path"]), escape(message))
    output.stdout.print(table)
