"""The simulated receiving portal (BHXH gateway and the checkup hub): one ASGI app and its store.

Inside, one way: :mod:`.app` (the portal object and its routes) -> :mod:`.gateway`, :mod:`.hub`
(the handlers) and :mod:`.processing` -> :mod:`.context` (what a handler may use of the portal) ->
:mod:`.store`, :mod:`.accounts`, :mod:`.faults`, :mod:`.asgi`.

May import: ``sohs_cli.portal`` (the hub message), ``sohs_cli.signing``, ``sohs_cli.validation``,
``sohs_cli.documents``, ``sohs_cli.foundation``. Never ``sohs_cli.submission``: the simulator knows
nothing of the client's ledger.
"""
