"""Stock levels and movements: the types, the inputs and the payload."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.types import Info

from auth.fields import visible_with
from auth.permissions import Permission
from domain import ids
from domain.stock.records import AdjustmentReason as DomainReason
from domain.stock.records import MovementKind as DomainKind
from domain.stock.records import StockChange
from schema.catalog import CurrencyCode, Product
from schema.errors import UserError
from schema.loading import compiled_type, loaded
from schema.locations import Location
from schema.relay import Node
from schema.scalars import BigInt

MovementKind = strawberry.enum(DomainKind, name="MovementKind")
AdjustmentReason = strawberry.enum(DomainReason, name="AdjustmentReason")


async def load_location(info: Info, pk: int) -> Location:
    row = await info.context.loaders.location_by_id.load(pk)
    return Location.from_row(row)


async def load_product(info: Info, pk: int) -> Product:
    row = await info.context.loaders.product_by_id.load(pk)
    return Product.from_row(row)


@visible_with(Permission.STOCK_READ)
@compiled_type
@strawberry.type
class StockLevel(Node):
    on_hand: int
    reserved: int
    available: int
    in_transit: int
    incoming: int
    reorder_point: int | None
    version: BigInt
    updated_at: datetime
    location_pk: strawberry.Private[int]
    product_pk: strawberry.Private[int]

    location: Location = loaded(
        "location_by_id", "location_pk", Location.from_row, row_fields=Location.ROW_FIELDS
    )
    product: Product = loaded(
        "product_by_id", "product_pk", Product.from_row, row_fields=Product.ROW_FIELDS
    )

    @classmethod
    def from_row(cls, row: Any) -> StockLevel:
        return cls(
            id=strawberry.ID(ids.encode("StockLevel", row.id)),
            on_hand=row.on_hand,
            reserved=row.reserved,
            available=row.on_hand - row.reserved,
            in_transit=row.in_transit,
            incoming=row.incoming,
            reorder_point=row.reorder_point,
            version=row.version,
            updated_at=row.updated_at,
            location_pk=row.location_id,
            product_pk=row.product_id,
        )


@visible_with(Permission.STOCK_READ)
@compiled_type
@strawberry.type
class StockMovement(Node):
    sequence: BigInt
    kind: MovementKind  # type: ignore[valid-type]
    delta: int
    on_hand_after: int
    oversell: bool = strawberry.field(
        description="True when this sale took the quantity on hand below zero."
    )
    reason: str | None
    note: str | None
    reference: str | None
    occurred_at: datetime
    recorded_at: datetime
    actor: str = strawberry.field(description="Who recorded it: `staff:<id>` or `app:<client id>`.")
    location_pk: strawberry.Private[int]
    product_pk: strawberry.Private[int]

    location: Location = loaded(
        "location_by_id", "location_pk", Location.from_row, row_fields=Location.ROW_FIELDS
    )
    product: Product = loaded(
        "product_by_id", "product_pk", Product.from_row, row_fields=Product.ROW_FIELDS
    )

    @classmethod
    def from_row(cls, row: Any) -> StockMovement:
        return cls(
            id=strawberry.ID(ids.encode("StockMovement", row.id)),
            sequence=row.sequence,
            kind=DomainKind(row.kind),
            delta=row.delta,
            on_hand_after=row.on_hand_after,
            oversell=row.oversell,
            reason=row.reason,
            note=row.note,
            reference=row.reference,
            occurred_at=row.occurred_at,
            recorded_at=row.recorded_at,
            actor=row.actor,
            location_pk=row.location_id,
            product_pk=row.product_id,
        )


@strawberry.type
class StockChangePayload:
    stock_levels: list[StockLevel]
    movements: list[StockMovement]
    user_errors: list[UserError]

    @classmethod
    def from_change(cls, change: StockChange) -> StockChangePayload:
        return cls(
            stock_levels=[StockLevel.from_row(lv) for lv in change.levels],
            movements=[StockMovement.from_row(mv) for mv in change.movements],
            user_errors=[],
        )

    @classmethod
    def failed(cls, errors: list[UserError]) -> StockChangePayload:
        return cls(stock_levels=[], movements=[], user_errors=errors)


@strawberry.input
class ReceiveStockLineInput:
    sku: str
    quantity: int
    unit_cost: Decimal | None = None


@strawberry.input
class ReceiveStockInput:
    location_id: strawberry.ID
    lines: list[ReceiveStockLineInput]
    reference: str | None = None
    idempotency_key: str | None = None


@strawberry.input
class AdjustStockInput:
    location_id: strawberry.ID
    sku: str
    delta: int
    reason: AdjustmentReason  # type: ignore[valid-type]
    note: str | None = None
    expected_on_hand: int | None = strawberry.field(
        default=None,
        description="Compare-and-set: refused with VERSION_CONFLICT unless on hand equals this.",
    )
    idempotency_key: str | None = None


@strawberry.input
class SaleLineInput:
    sku: str
    quantity: int
    unit_price: Decimal | None = None


@strawberry.input
class PaymentInput:
    method: str
    amount: Decimal
    reference: str | None = None


@strawberry.input
class RecordSaleInput:
    location_id: strawberry.ID
    receipt_number: str
    lines: list[SaleLineInput]
    occurred_at: datetime | None = None
    member_id: strawberry.ID | None = None
    payments: list[PaymentInput] | None = None
    currency: CurrencyCode | None = None
    idempotency_key: str | None = None


@strawberry.input
class SetReorderPointInput:
    location_id: strawberry.ID
    sku: str
    reorder_point: int | None = strawberry.field(
        description="lowStock fires when available falls to or below this; null: never."
    )


@strawberry.type
class StockLevelPayload:
    stock_level: StockLevel | None
    user_errors: list[UserError]

    @classmethod
    def failed(cls, errors: list[UserError]) -> StockLevelPayload:
        return cls(stock_level=None, user_errors=errors)
