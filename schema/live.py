"""The events that subscriptions deliver."""

from __future__ import annotations

import strawberry

from schema.scalars import BigInt
from schema.stock import StockLevel, StockMovement


@strawberry.type(description="One committed stock change, in commit order within the tenant.")
class StockChangeEvent:
    sequence: BigInt
    stock_level: StockLevel = strawberry.field(
        description="The level as of this movement (onHand = movement.onHandAfter)."
    )
    movement: StockMovement


@strawberry.type(
    description="Available stock fell to or below the reorder point (once per crossing)."
)
class LowStockEvent:
    sequence: BigInt
    stock_level: StockLevel
    reorder_point: int
    available: int
