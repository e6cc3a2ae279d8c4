"""Fields that are a row looked up by a key the parent holds, declared as such.

A field made by ``loaded`` resolves row by row through the request's dataloader (one
statement per level on the full path), and also says what it is: compiled reads
(api/compiled.py) look up the keys of a whole level in one call instead of one
awaitable per row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import strawberry
from strawberry.types import Info

BATCH = "stockgraph.batch"


@dataclass(frozen=True, slots=True)
class Batch:
    loader: str  # the attribute of db.loaders.Loaders
    key: str  # the attribute of the parent holding the key
    convert: Callable[[Any], Any]  # row -> schema object
    # Fields that ``convert`` copies from the row's column of the same name, unchanged:
    # a selection of only these can be answered from the rows themselves.
    row_fields: frozenset[str] = frozenset()


def loaded(
    loader: str,
    key: str,
    convert: Callable[[Any], Any],
    description: str | None = None,
    row_fields: frozenset[str] = frozenset(),
) -> Any:
    """A field whose value is ``convert(loaders.<loader>.load(parent.<key>))``."""

    async def resolve(root: Any, info: Info):  # type: ignore[no-untyped-def]
        row = await getattr(info.context.loaders, loader).load(getattr(root, key))
        return convert(row)

    return strawberry.field(
        resolver=resolve,
        description=description,
        metadata={BATCH: Batch(loader, key, convert, row_fields)},
    )
