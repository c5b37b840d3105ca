"""``sohs dashboard``: the clinic's own read-only web page over the ledger and the run logs.

Owns: the read-only view of the ledger (:mod:`.store`, asking the questions of :mod:`.query`), what the
run log, the folders and the lock say about the nightly job (:mod:`.health`), the ASGI application with
its token rule and headers (:mod:`.web`, served by uvicorn from ``sohs_cli.cli.dashboard``), the pages
and their JSON API (:mod:`.views`), exports shaped like ``sohs status --json/--csv`` (:mod:`.exports`),
and every string the page shows, in Vietnamese and English (:mod:`.texts`).

May import: ``sohs_cli.submission.ledger`` (its schema constants only: never a ``Ledger``, which writes),
``sohs_cli.foundation`` (config, errors, i18n, xmlsafe), ``sohs_cli.signing.certs``,
jinja2. Never typer or rich, never the portal clients, never a secret: the page reads the settings'
public parts only (folders, the log file, ``signing.cert``), never a password, PIN or key.

Time: the ledger stamps in UTC and the portal in Vietnam time; the page shows Vietnam time (UTC+7, no
daylight saving), labelled. A **night** is the 24 hours from 12:00 Vietnam time on its date to 12:00
the next day: a run at 23:00 on 1 December and one at 02:00 on 2 December both belong to the night of
1 December. A document belongs to the night the ledger first saw it (``first_seen``).
"""
