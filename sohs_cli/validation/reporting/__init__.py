"""Renderers of validation report objects: JSON, JUnit XML and SARIF 2.1.0. No I/O policy, no CLI.

May import: ``sohs_cli.validation``, ``sohs_cli.documents``, ``sohs_cli.foundation``.
"""
