"""Text that leaves stockgraph in a spreadsheet or CSV is never taken for a formula."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape(value: str) -> str:
    """A text cell for CSV: a leading apostrophe keeps = + - @ from being run (OWASP)."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value
