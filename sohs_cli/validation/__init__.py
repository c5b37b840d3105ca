"""Validation: XSD + business rules -> plain report objects, and what is done with a verdict.

Owns: the engine and its rules (:mod:`.engine`, :mod:`.xsd`, :mod:`.rules`, :mod:`.rulebase`,
:mod:`.portal_rules`, :mod:`.checkup`, :mod:`.catalogues`), the report objects (:mod:`.report`) and
their renderers (:mod:`.reporting`: JSON, JUnit, SARIF), packing tables once they validate
(:mod:`.packing`), splitting a partly invalid envelope (:mod:`.splitting`).

May import: ``sohs_cli.documents``, ``sohs_cli.foundation``.
"""
