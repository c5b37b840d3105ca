"""Submission: delivering documents and remembering it.

Owns: the ledger (:mod:`.ledger`, its schema and migrations :mod:`.schema`), submitting signed files
(:mod:`.submit`), the nightly run composed from the pieces below (:mod:`.pipeline`), and the readiness
checks of ``sohs doctor`` (:mod:`.doctor`).

May import: ``sohs_cli.portal``, ``sohs_cli.signing``, ``sohs_cli.validation``, ``sohs_cli.documents``,
``sohs_cli.foundation``.
"""
