"""Costing one ledger posting: called by ``ledger.post()`` on the rows it has locked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.valuation.average import ZERO, Position, start

Key = tuple[int, int]

_CATALOGUE = text(
    "SELECT id, cost_price FROM products WHERE tenant_id = :tenant AND id = ANY(:ids)"
)


class Line(Protocol):
    """What costing needs of a posting line."""

    @property
    def key(self) -> Key: ...
    @property
    def kind(self) -> Any: ...
    @property
    def delta(self) -> int: ...
    @property
    def unit_cost(self) -> Decimal | None: ...


@dataclass(frozen=True, slots=True)
class Costing:
    """Per line, the unit cost it moved at; per level, its value change and new average."""

    unit_costs: list[Decimal]
    value_deltas: dict[Key, Decimal]
    averages: dict[Key, Decimal | None]


async def cost_lines(
    session: AsyncSession, tenant: int, lines: Sequence[Line], locked: Sequence[Any]
) -> Costing:
    """Apply the moving-average rule line by line, in the order the lines were given.

    ``locked`` are the level rows under ``FOR UPDATE`` (with ``stock_value`` and
    ``average_cost``), so no other writer can move these averages meanwhile. Rows that
    carry their product's ``catalogue_cost`` (the ledger's lock reads it in the same
    statement) need no lookup of the catalogue here.
    """
    rows = {(r.location_id, r.product_id): r for r in locked}
    missing = sorted({k[1] for k in rows if rows[k].average_cost is None})
    catalogue: dict[int, Decimal | None] = {}
    if missing and all(hasattr(r, "catalogue_cost") for r in locked):
        catalogue = {r.product_id: r.catalogue_cost for r in locked}
    elif missing:
        result = await session.execute(_CATALOGUE, {"tenant": tenant, "ids": missing})
        catalogue = {r.id: r.cost_price for r in result}
    positions: dict[Key, Position] = {
        k: start(r.on_hand, r.stock_value, r.average_cost, catalogue.get(k[1]))
        for k, r in rows.items()
    }
    costs: list[Decimal] = []
    touched = {line.key for line in lines}
    for line in lines:
        kind = getattr(line.kind, "value", line.kind)
        cost, positions[line.key] = positions[line.key].move(kind, line.delta, line.unit_cost)
        costs.append(cost)
    return Costing(
        unit_costs=costs,
        value_deltas={k: positions[k].value - (rows[k].stock_value or ZERO) for k in rows},
        averages={k: positions[k].average if k in touched else None for k in rows},
    )
