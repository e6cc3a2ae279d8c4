"""The events that subscriptions deliver."""

from __future__ import annotations

import strawberry

from schema.scalars import BigInt
from schema.stock import StockLevel, StockMovement


@strawberry.type(description="One committed stock change, in commit order within the tenant.")
class StockChangeEvent:
    sequence: BigInt = strawberry.field(
        description="The movement's sequence; pass the last one seen as afterSequence when "
        "reconnecting."
    )
    stock_level: StockLevel = strawberry.field(
        description="The level as of this movement (onHand = movement.onHandAfter)."
    )
    movement: StockMovement = strawberry.field(description="The movement that changed the level.")


@strawberry.type(
    description="Available stock fell to or below the reorder point (once per crossing)."
)
class LowStockEvent:
    sequence: BigInt = strawberry.field(
        description="The event's position in the tenant's event stream."
    )
    stock_level: StockLevel = strawberry.field(description="The level that fell.")
    reorder_point: int = strawberry.field(description="The reorder point it fell to or below.")
    available: int = strawberry.field(
        description="Units available after the change (at or below the reorder point)."
    )
