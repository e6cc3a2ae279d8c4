"""Settlement file formats: each turns a file's bytes into ``SettlementRow``s.

Matching never sees a format. A merchant's real layout slots in as one more
module here with a ``parse(data) -> list[SettlementRow]`` and one entry in
``PARSERS``; nothing else changes.
"""

from __future__ import annotations

from collections.abc import Callable

from domain.reconciliation.formats import alipayhk, octopus
from domain.reconciliation.formats.rows import ParseError, SettlementRow

PARSERS: dict[str, Callable[[bytes], list[SettlementRow]]] = {
    "ALIPAYHK": alipayhk.parse,
    "OCTOPUS": octopus.parse,
}

# The tender method each format settles.
METHODS = {"ALIPAYHK": "ALIPAYHK", "OCTOPUS": "OCTOPUS"}

__all__ = ["METHODS", "PARSERS", "ParseError", "SettlementRow"]
