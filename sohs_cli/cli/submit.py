"""``sohs submit``: send signed files to the portal, once, with every receipt kept in the ledger."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import typer

from sohs_cli.cli import output, portalopts
from sohs_cli.cli.output import escape, printable, say
from sohs_cli.foundation.errors import ExitCode
from sohs_cli.foundation.i18n import N_, _

if TYPE_CHECKING:
    from sohs_cli.submission.submit import Item

_STYLE = {"delivered": "green", "skipped": "dim", "would-send": "cyan", "rejected": "red", "refused": "red",
          "failed": "yellow", "not-sent": "yellow"}
# the word shown for each status (the status itself is the ledger's and JSON's id)
WORDS = {"delivered": N_("delivered"), "skipped": N_("skipped"), "would-send": N_("would-send"),
         "rejected": N_("rejected"), "refused": N_("refused"), "failed": N_("failed"), "not-sent": N_("not-sent")}


def _line(item: Item) -> str:
    lks = f" [dim](MA_LK {escape(', '.join(item.ma_lks))})[/]" if item.ma_lks else ""
    word = escape(_(WORDS[item.status]))
    return f"[{_STYLE[item.status]}]{word}[/] {escape(item.path)}{lks}: {escape(item.message)}"


def _plain(item: Item) -> str:
    """:func:`_line` as a console without colours shows it, made without rich: cron, CI and pipes get
    the same text for a twentieth of the CPU (rich's markup and rendering, once per file, were a
    tenth of a submission's CPU)."""
    lks = f" (MA_LK {printable(', '.join(item.ma_lks))})" if item.ma_lks else ""
    return f"{printable(_(WORDS[item.status]))} {printable(item.path)}{lks}: {printable(item.message)}\n"


def register(app: typer.Typer) -> None:
    @app.command(help=_("Submit signed files (exit 0 delivered or skipped, 1 rejected, 3 setup, 4 portal down, 5 "
                        "locked); every receipt is kept in the ledger."))
    def submit(
        paths: list[str] = typer.Argument(..., help=_("Signed envelopes or check-in files; folders and globs too.")),
        portal: str | None = portalopts.portal_url(),
        username: str | None = portalopts.username(),
        password_env: str | None = portalopts.password_env(),
        password_file: str | None = portalopts.password_file(),
        ca_bundle: str | None = portalopts.ca_bundle(),
        home: str | None = portalopts.home(),
        config: str | None = portalopts.config(),
        facility: str | None = typer.Option(None, "--facility",
                                            help=_("Refuse files of another MA_CSKCB (or $SOHS_FACILITY).")),
        standard: str | None = typer.Option(None, "--standard",
                                            help=_("auto | 4750 | 3176 (picks the endpoint; or $SOHS_STANDARD).")),
        concurrency: int | None = typer.Option(None, "--concurrency", min=1, max=64,
                                               help=_("Documents in flight at once (default 2; or "
                                                      "$SOHS_PORTAL_CONCURRENCY).")),
        retry_setup: bool = typer.Option(False, "--retry-setup-rejections",
                                         help=_("Send again documents the portal refused for the setup (125 for a "
                                                "certificate not registered), once that is fixed.")),
        force: bool = typer.Option(False, "--force", help=_("Send again documents already delivered.")),
        dry_run: bool = typer.Option(False, "--dry-run", help=_("Check and show what would be sent; send nothing.")),
    ) -> None:

        def body() -> None:
            from sohs_cli.foundation.datalock import DataLock
            from sohs_cli.foundation.errors import PortalUnavailable
            from sohs_cli.foundation.inputs import expand, nonempty
            from sohs_cli.submission.submit import SubmitOptions

            s = portalopts.settings(config, portal__url=portal, portal__username=username,
                                    portal__password_env=password_env, portal__password_file=password_file,
                                    portal__ca_bundle=ca_bundle, home=home, facility=facility, standard=standard,
                                    portal__concurrency=concurrency)
            files = list(nonempty(expand(paths, output.skipped)))
            options = SubmitOptions(facility=s["facility"], standard=s["standard"],
                                    concurrency=s["portal.concurrency"], force=force, dry_run=dry_run,
                                    retry_setup=retry_setup,
                                    trust=_trust(s))
            # one sender per data folder (sohs run too): a dry run sends nothing and needs no lock
            lock = None if dry_run else DataLock(s.home, "submit").acquire()
            try:
                summary = _send(s, files, options, stop)
            except PortalUnavailable:
                if not stop.terminated:
                    raise
                # stopped while waiting to retry (the login, say): a clean stop, not an outage
                output.stderr.print(say("stopped (SIGTERM) after the requests in flight were answered and recorded; "
                                        "what was not sent is sent by the next submit"))
                raise SystemExit(int(ExitCode.TERMINATED)) from None
            finally:
                if lock is not None:
                    lock.release()
            if summary.reconciled:
                output.stdout.print(say("reconciled {count} interrupted send(s) with the portal",
                                        count=summary.reconciled))
            counts = ", ".join(f"{summary.count(k)} {_(WORDS[k])}" for k in _STYLE if summary.count(k))
            if summary.untaken:
                counts = ", ".join(filter(None, (counts, _("{n} not taken", n=summary.untaken))))
            output.stdout.print(say("{count} file(s): {counts}", count=summary.total + summary.untaken,
                                    counts=counts or _("nothing to do")))
            if stop.terminated:
                output.stderr.print(say("stopped (SIGTERM) after the requests in flight were answered and recorded; "
                                        "what was not sent is sent by the next submit"))
                raise SystemExit(int(ExitCode.TERMINATED))
            if summary.exit_code:
                raise SystemExit(int(summary.exit_code))

        stop = _Stop()
        with stop:
            output.guarded(body)


class _Stop:
    """SIGTERM (systemd stopping a job, a shutdown) while submitting: no new file is taken and no new
    request leaves; the requests in flight get their answers, and those answers are recorded; the
    summary is printed and the command exits 143 (README)."""

    def __init__(self) -> None:
        self.terminated = False
        self.previous: Any = None

    def __call__(self) -> bool:
        return self.terminated

    def _on_sigterm(self, signum: int, frame: object) -> None:
        self.terminated = True

    def __enter__(self) -> _Stop:
        import signal

        self.previous = signal.signal(signal.SIGTERM, self._on_sigterm)
        return self

    def __exit__(self, *exc: object) -> None:
        import signal

        signal.signal(signal.SIGTERM, self.previous)


def _trust(s: Any) -> Any:
    """verify.ca_bundle, verify.certificates, signing.cert, else the certificate of signing.p12 (README Trust)."""
    from sohs_cli.signing.trust import from_settings

    if s["verify.ca_bundle"] or s["verify.certificates"] or s["signing.cert"] or not s["signing.p12"]:
        return from_settings(s)
    signer = portalopts.make_signer(s)
    return from_settings(s, signer.certificate, signer.chain)


def _send(s: Any, files: list[str], options: Any, stopping: Any) -> Any:
    import asyncio

    from sohs_cli.submission.ledger import Ledger
    from sohs_cli.submission.submit import submit_files

    ledger = Ledger(s.home)
    progress, show = _progress(len(files))

    async def go() -> Any:
        client = portalopts.make_client(s, stopping=stopping)
        hub = portalopts.make_hub(s)
        try:
            return await submit_files(files, client, ledger, options, show, hub=hub, keep_items=False,
                                      stopping=stopping)
        finally:
            await client.close()
            if hub is not None:
                await hub.close()

    try:
        return asyncio.run(go())
    finally:
        if progress is not None:
            progress.stop()
        ledger.close()


def _progress(total: int) -> tuple[Any, Any]:
    """A progress bar on a terminal; plain lines otherwise (cron, CI, pipes)."""
    if not sys.stdout.isatty() or total < 2:
        console = output.stdout
        if console.is_terminal or console.color_system is not None:
            return None, lambda item: console.print(_line(item))
        out = console.file

        def plain(item: Item) -> None:
            out.write(_plain(item))
            out.flush()  # as rich does: a log that is followed (tail -f) gets each line as it happens

        return None, plain
    from rich.progress import Progress

    progress = Progress(console=output.stdout, transient=True)
    task = progress.add_task(escape(_("submitting")), total=total)
    progress.start()

    def show(item: Item) -> None:
        if item.status not in ("delivered", "skipped", "would-send"):
            progress.console.print(_line(item))
        progress.advance(task)

    return progress, show
