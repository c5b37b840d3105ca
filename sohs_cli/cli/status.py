"""``sohs status``: what reached the portal, what was refused and why, what still has to go."""

from __future__ import annotations

import csv
import io
import json
from enum import StrEnum
from typing import Any

import typer

from sohs_cli.cli import output, portalopts
from sohs_cli.cli.output import escape, say
from sohs_cli.foundation.i18n import N_, _

STATE_WORDS = {"pending": N_("pending"), "sent": N_("sent"), "accepted": N_("accepted"), "rejected": N_("rejected"),
               "failed": N_("failed")}


class Sort(StrEnum):
    first_seen = "first-seen"
    updated = "updated"
    received = "received"
    state = "state"
    path = "path"


# ``--sort`` key -> the document field it orders by (then by path, for a stable order)
SORT_FIELDS = {Sort.first_seen: "", Sort.updated: "updated_at", Sort.received: "received_at", Sort.state: "state",
               Sort.path: "path"}


def as_dict(row: Any) -> dict[str, Any]:
    return {"path": row["path"], "sha256": row["sha256"], "ma_lk": json.loads(row["ma_lks"]), "kind": row["kind"],
            "standard": row["standard"], "facility": row["facility"], "state": row["state"],
            "portal_code": row["portal_code"], "transaction_id": row["transaction_id"],
            "received_at": row["received_at"], "processed_at": row["processed_at"], "message": row["message"],
            "errors": json.loads(row["errors"]), "updated_at": row["updated_at"]}


def _explain(ledger: Any, ma_lk: str, lang: str) -> None:
    rows = ledger.select(ma_lk=ma_lk)
    if not rows:
        output.stdout.print(say("no document with MA_LK {ma_lk} in the ledger", ma_lk=ma_lk))
        return
    for row in rows:
        d = as_dict(row)
        output.stdout.print(f"[bold]{escape(d['path'])}[/] [dim]sha256 {d['sha256'][:16]}…[/] {say('state')} "
                            f"[bold]{escape(_(STATE_WORDS[d['state']]))}[/] {escape(d['message'])}")
        for a in ledger.attempts(row["id"]):
            finished = a["finished_at"] or _("(open)")
            output.stdout.print(f"  {a['started_at']} → {escape(finished)} {escape(a['outcome'])} "
                                f"{escape(a['portal_code'] or '')} {escape(a['transaction_id'] or '')} "
                                f"{escape(_(a['message']) if a['message'] else '')}")  # sohs's own: English
        for e in d["errors"]:
            label = f" ({e.get('nhan')})" if e.get("nhan") else ""  # the element's Vietnamese label, always
            # the portal stores both texts: the run's language, the other only when it is missing
            text = e.get("moTaEn") if lang == "en" else e.get("moTa")
            output.stdout.print(f"  [red]✗[/] {escape(str(e.get('truong', '')))}{escape(label)} "
                                f"{escape(str(text or e.get('moTa') or e.get('moTaEn') or ''))}")


def register(app: typer.Typer) -> None:
    @app.command(help=_("Delivery status from the ledger (exit 1 when the selection holds a rejected or failed "
                        "document); --refresh asks the portal for processing results."))
    def status(
        refresh: bool = typer.Option(False, "--refresh", help=_("Ask the portal for results not yet final.")),
        since: str | None = typer.Option(None, "--since", metavar="WHEN",
                                         help=_("Changed on or after WHEN: 2026-12-01, 01/12/2026, 2026-12-01T08:00, "
                                                "7d, 12h, 2w, today, yesterday.")),
        state: list[str] = typer.Option([], "--state", help=_("pending | sent | accepted | rejected | failed.")),
        facility: str | None = typer.Option(None, "--facility", help=_("Only this MA_CSKCB.")),
        ma_lk: str | None = typer.Option(None, "--ma-lk", help=_("Only documents holding this MA_LK.")),
        path: str | None = typer.Option(None, "--path", help=_("Only paths containing this text.")),
        sort: Sort = typer.Option(Sort.first_seen, "--sort",
                                  help=_("Order of the documents (newest last; --reverse for newest first).")),
        reverse: bool = typer.Option(False, "--reverse", help=_("Reverse the order.")),
        limit: int | None = typer.Option(None, "--limit", min=1, metavar="N",
                                         help=_("Only the first N documents of the order (the summary counts "
                                                "them only).")),
        as_json: bool = output.json_option(),
        as_csv: bool = typer.Option(False, "--csv", help=_("Print CSV: every field of --json, one document a line, "
                                                           "UTF-8 with a BOM (so Excel shows Vietnamese); errors "
                                                           "as JSON text, MA_LK ';'-separated.")),
        explain: str | None = typer.Option(None, "--explain", metavar="MA_LK",
                                           help=_("The whole history of one episode.")),
        portal: str | None = portalopts.portal_url(),
        username: str | None = portalopts.username(),
        password_env: str | None = portalopts.password_env(),
        password_file: str | None = portalopts.password_file(),
        ca_bundle: str | None = portalopts.ca_bundle(),
        home: str | None = portalopts.home(),
        config: str | None = portalopts.config(),
    ) -> None:
        def body() -> None:
            import asyncio

            from sohs_cli.foundation.errors import ExitCode, UsageError
            from sohs_cli.submission.ledger import STATES, Ledger
            from sohs_cli.submission.submit import refresh as refresh_results

            unknown = [x for x in state if x not in STATES]
            if unknown:
                raise UsageError(_("--state {state}: not one of {states}", state=unknown[0], states=", ".join(STATES)))
            if as_json and as_csv:
                raise UsageError(_("give --json or --csv, not both"))
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
                    note = say("refreshed {count} result(s)", count=updated) if supported else \
                        say("the portal offers no result lookup; results are in its web pages (Kết quả gửi hồ sơ XML)")
                    output.stderr.print(note)
                if explain:
                    _explain(ledger, explain, output.language())
                    rows = ledger.select(ma_lk=explain)
                else:
                    after = parse_since(since) if since is not None else ""
                    rows = ledger.select(since=after, states=state, facility=facility or "", ma_lk=ma_lk or "",
                                         path=path or "")
                    rows = ordered(rows, sort, reverse, limit)
                    _render(rows, as_json, as_csv)
            finally:
                ledger.close()
            if any(r["state"] in ("rejected", "failed") for r in rows):
                raise SystemExit(int(ExitCode.FINDINGS))

        output.guarded(body)


def ordered(rows: list[Any], sort: Sort, reverse: bool, limit: int | None) -> list[Any]:
    """``rows`` (the ledger's order: first seen) in the ``--sort`` order, the first ``limit`` of them."""
    key = SORT_FIELDS[sort]
    if key:
        rows = sorted(rows, key=lambda r: (r[key] or "", r["path"]))
    if reverse:
        rows = rows[::-1]
    return rows[:limit] if limit else rows


def parse_since(text: str, now: Any = None) -> str:
    """``--since`` as the ledger's UTC timestamp (``YYYY-MM-DDTHH:MM:SSZ``). Dates are local days
    (midnight on this machine's clock): ISO ``2026-12-01``, Vietnamese ``01/12/2026`` (dd/mm/yyyy),
    ``today``/``hôm nay``, ``yesterday``/``hôm qua``; ISO date-times (UTC unless they say otherwise);
    ``Nd``, ``Nh``, ``Nw`` back from now. Anything else is a usage error (exit 2): ``zzz`` or ``0``
    selected nothing or everything without a word (issue 16)."""
    import datetime as dt
    import re

    from sohs_cli.foundation.errors import UsageError

    now = now or dt.datetime.now().astimezone()
    word = text.strip().lower()
    day: dt.date | None = None
    when: dt.datetime | None = None
    if word in ("today", "hôm nay", "hom nay"):
        day = now.date()
    elif word in ("yesterday", "hôm qua", "hom qua"):
        day = now.date() - dt.timedelta(days=1)
    elif m := re.fullmatch(r"(\d{1,5})\s*([dhw])", word):
        unit = {"d": "days", "h": "hours", "w": "weeks"}[m.group(2)]
        when = now - dt.timedelta(**{unit: int(m.group(1))})
    elif m := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", word):
        try:
            day = dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        except ValueError:
            day = None
    elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", word):
        try:
            day = dt.date.fromisoformat(word)
        except ValueError:
            day = None
    elif re.fullmatch(r"\d{4}-\d{2}-\d{2}[t ]\d{2}:\d{2}(:\d{2})?(z|[+-]\d{2}:?\d{2})?", word):
        try:
            when = dt.datetime.fromisoformat(word.upper().replace("Z", "+00:00"))
        except ValueError:
            when = None
        if when is not None and when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
    if day is not None:
        when = dt.datetime.combine(day, dt.time(), tzinfo=now.tzinfo)
    if when is None:
        raise UsageError(_("--since {text}: not a date or a time span", text=text),
                         hint=_("e.g. 2026-12-01, 01/12/2026, 7d, 12h, today, yesterday"))
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _render(rows: list[Any], as_json: bool, as_csv: bool) -> None:
    docs = [as_dict(r) for r in rows]
    summary: dict[str, int] = {}
    for d in docs:
        summary[d["state"]] = summary.get(d["state"], 0) + 1
    if as_json:
        output.write_json("status", {"documents": docs, "summary": summary})
        return
    if as_csv:
        output.write_output(csv_text(docs).encode("utf-8-sig"), None)
        return
    from rich.table import Table

    totals = "  ".join(f"{escape(_(STATE_WORDS[k]))}: {v}" for k, v in sorted(summary.items())) or \
        say("the ledger holds no document yet")
    output.stdout.print(f"[bold]{say('{count} document(s)', count=len(docs))}[/]  {totals}")
    if not docs:
        return
    table = Table(show_edge=False, pad_edge=False)
    for title in (_("state"), "MA_LK", "maGiaoDich", _("received"), _("code"), _("path"), _("message")):
        table.add_column(escape(title), overflow="fold")
    colour = {"accepted": "green", "sent": "cyan", "pending": "yellow", "failed": "yellow", "rejected": "red"}
    for d in docs:
        errors = f" ({_('{count} field error(s)', count=len(d['errors']))})" if d["errors"] else ""
        state = f"[{colour[d['state']]}]{escape(_(STATE_WORDS[d['state']]))}[/]"
        table.add_row(state, escape(", ".join(d["ma_lk"])), escape(d["transaction_id"] or ""),
                      escape(d["received_at"] or ""), escape(d["portal_code"] or ""), escape(d["path"]),
                      escape(d["message"] + errors))
    output.stdout.print(table)


def csv_text(docs: list[dict[str, Any]]) -> str:
    """Every field of ``--json`` as a column, in its order; MA_LK ``;``-separated, errors as JSON text.
    The dashboard's CSV export is the same (one definition of the columns and rows)."""
    from sohs_cli.dashboard.exports import CSV_COLUMNS, csv_row

    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    for d in docs:
        writer.writerow(csv_row(d))
    return buf.getvalue()
