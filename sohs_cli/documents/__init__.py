"""Documents: what a health-record document is, before anyone judges it.

Owns: document kinds, their detection, the two envelopes (``GIAMDINHHS``, ``KHAMSUCKHOE``), packing and
unpacking them (:mod:`.kinds`); the shipped XSDs, compiled, and the Vietnamese labels of elements
(:mod:`.schemas`); the checkup forms of QĐ 2062 (:mod:`.kskforms`) and its JSON form
(:mod:`.kskjson`); realistic sample documents for examples, benches and the demo (:mod:`.samples`).

May import: ``sohs_cli.foundation``.
"""
