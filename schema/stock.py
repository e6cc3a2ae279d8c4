"""Stock levels and movements: the types, the inputs and the payload."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.types import Info

from auth.fields import requires, visible_with
from auth.permissions import Permission
from domain import ids
from domain.stock.records import AdjustmentReason as DomainReason
from domain.stock.records import MovementKind as DomainKind
from domain.stock.records import StockChange
from schema.actors import Actor, resolve_actor
from schema.catalog import CURRENCIES, CurrencyCode, Money, Product
from schema.errors import UserError
from schema.loading import compiled_type, loaded
from schema.locations import Location
from schema.relay import Node
from schema.scalars import BigInt

MovementKind = strawberry.enum(DomainKind, name="MovementKind")
COSTS = [requires(Permission.COSTS_READ)]


async def money(info: Info, product_pk: int, amount: Decimal | None) -> Money | None:
    """An amount in the tenant's currency (carried by the product loader's rows)."""
    if amount is None:
        return None
    row = await info.context.loaders.product_by_id.load(product_pk)
    return Money(amount=amount, currency=CURRENCIES[getattr(row, "currency", None) or "HKD"])


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
    pk: strawberry.Private[int]
    # None when the row came without its valuation (a posting's result): loaded then
    _value: strawberry.Private[Decimal | None]
    _average: strawberry.Private[Decimal | None]

    location: Location = loaded(
        "location_by_id", "location_pk", Location.from_row, row_fields=Location.ROW_FIELDS
    )
    product: Product = loaded(
        "product_by_id", "product_pk", Product.from_row, row_fields=Product.ROW_FIELDS
    )

    async def _valuation(self, info: Info) -> tuple[Decimal, Decimal | None]:
        if self._value is not None:
            return self._value, self._average
        row = await info.context.loaders.level_by_id.load(self.pk)
        return row.stock_value, row.average_cost

    @strawberry.field(
        description="Moving weighted-average unit cost here; needs costs:read.",
        permission_classes=COSTS,
    )
    async def average_cost(self, info: Info) -> Money | None:
        _, average = await self._valuation(info)
        return await money(info, self.product_pk, average)

    @strawberry.field(
        description="Value of the units on hand at cost: the sum of the ledger's "
        "delta × unitCost here; needs costs:read.",
        permission_classes=COSTS,
    )
    async def stock_value(self, info: Info) -> Money | None:
        value, _ = await self._valuation(info)
        return await money(info, self.product_pk, value)

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
            pk=row.id,
            _value=getattr(row, "stock_value", None),
            _average=getattr(row, "average_cost", None),
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

    _unit_cost: strawberry.Private[Decimal | None]

    @strawberry.field(
        description="Who recorded it, readably: staff code and name, or the app's name."
    )
    async def performed_by(self, info: Info) -> Actor:
        return await resolve_actor(info, self.actor)

    @strawberry.field(
        description="The unit cost it moved at: its own for costed receipts and transfers "
        "in, the moving average for everything else; needs costs:read.",
        permission_classes=COSTS,
    )
    async def unit_cost(self, info: Info) -> Money | None:
        return await money(info, self.product_pk, self._unit_cost)

    @strawberry.field(
        description="delta × unitCost: what this movement added to (or took from) the "
        "stock's value; needs costs:read.",
        permission_classes=COSTS,
    )
    async def value_change(self, info: Info) -> Money | None:
        cost = self._unit_cost
        return await money(info, self.product_pk, None if cost is None else cost * self.delta)

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
            _unit_cost=row.unit_cost,
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
