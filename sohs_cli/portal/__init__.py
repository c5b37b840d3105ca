"""Portal clients: the BHXH receiving gateway (:mod:`.client`), the Ministry's checkup hub
(:mod:`.hub`) and the hub's signed message, shared with the simulator (:mod:`.hubmessage`). httpx lives
here only; its errors become ``PortalUnavailable`` here.

May import: ``sohs_cli.signing``, ``sohs_cli.validation``, ``sohs_cli.documents``, ``sohs_cli.foundation``.
"""
