"""The command line: the only place that imports typer and rich; one module per command, and output.

May import: every other package. Nothing imports it (but ``sohs_cli.__main__``).
"""
