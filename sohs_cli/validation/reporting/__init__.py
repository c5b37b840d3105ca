"""Renderers of report objects: JSON, JUnit XML and SARIF 2.1.0. No I/O policy, no CLI."""
