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
from schema.catalog import CURRENCIES, CurrencyCode, Money, Product, loaded_product
from schema.describe import enum_values
from schema.errors import UserError
from schema.loading import compiled_type
from schema.locations import Location, loaded_location
from schema.relay import Node, lazy_id, made
from schema.scalars import BigInt

MovementKind = enum_values(
    RECEIPT="Goods received from a supplier (receiveStock, receivePurchaseOrder).",
    SALE="Sold to a customer (recordSale, syncSales); delta is negative.",
    RETURN="Returned by a customer, or a voided sale put back (recordReturn, voidSale).",
    ADJUSTMENT="A correction by adjustStock with any reason but DAMAGE.",
    DAMAGE="Written off as damaged (adjustStock with reason DAMAGE).",
    TRANSFER_OUT="Shipped to another location by a transfer.",
    TRANSFER_IN="Received from another location by a transfer.",
    STOCKTAKE="The difference between a count and the books, posted by a stocktake.",
    OPENING="Opening stock, imported when the tenant moved onto stockgraph.",
)(strawberry.enum(DomainKind, name="MovementKind", description="What caused a stock movement."))
COSTS = [requires(Permission.COSTS_READ)]


async def money(info: Info, product_pk: int, amount: Decimal | None) -> Money | None:
    """An amount in the tenant's currency (carried by the product loader's rows)."""
    if amount is None:
        return None
    row = await info.context.loaders.product_by_id.load(product_pk)
    return Money(amount=amount, currency=CURRENCIES[getattr(row, "currency", None) or "HKD"])


AdjustmentReason = enum_values(
    COUNT_CORRECTION="A count found a different quantity.",
    DAMAGE="Damaged goods written off (the movement's kind is DAMAGE).",
    THEFT="Stolen or missing.",
    FOUND="Found stock that was not on the books.",
    OTHER="Anything else; say what in the note.",
)(
    strawberry.enum(
        DomainReason, name="AdjustmentReason", description="Why stock was adjusted by hand."
    )
)


async def load_location(info: Info, pk: int) -> Location:
    row = await info.context.loaders.location_by_id.load(pk)
    return Location.from_row(row)


async def load_product(info: Info, pk: int) -> Product:
    row = await info.context.loaders.product_by_id.load(pk)
    return Product.from_row(row)


@lazy_id
@visible_with(Permission.STOCK_READ)
@compiled_type
@strawberry.type(
    description="The stock of one product at one location, kept equal to the sum of its "
    "ledger (stockMovements)."
)
class StockLevel(Node):
    on_hand: int = strawberry.field(
        description="Units physically at the location: the sum of every movement's delta. "
        "May be negative after an oversell."
    )
    reserved: int = strawberry.field(
        description="Units on hand that are held back from sale. Nothing reserves stock "
        "yet, so this is 0 for now."
    )
    available: int = strawberry.field(description="Units free to sell: onHand − reserved.")
    in_transit: int = strawberry.field(
        description="Units shipped to this location by transfers and not yet received here "
        "(not part of onHand)."
    )
    incoming: int = strawberry.field(
        description="Units on sent purchase orders for this location not yet received "
        "(ordered − received, over SENT and PARTIALLY_RECEIVED orders)."
    )
    reorder_point: int | None = strawberry.field(
        description="When available falls to or below this many units, the level counts as "
        "low (lowStock, belowReorderPoint); null: never."
    )
    version: BigInt = strawberry.field(
        description="Increases with every change to this level; compare it to detect changes."
    )
    updated_at: datetime = strawberry.field(description="When it last changed.")
    location_pk: strawberry.Private[int]
    product_pk: strawberry.Private[int]
    pk: strawberry.Private[int]
    # None when the row came without its valuation (a posting's result): loaded then
    _value: strawberry.Private[Decimal | None]
    _average: strawberry.Private[Decimal | None]

    location: Location = loaded_location("location_pk", "Where the stock is.")
    product: Product = loaded_product("product_pk", "What the stock is.")

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
        on_hand, reserved = row.on_hand, row.reserved
        valued = hasattr(row, "stock_value")
        return made(
            cls,
            {
                "on_hand": on_hand,
                "reserved": reserved,
                "available": on_hand - reserved,
                "in_transit": row.in_transit,
                "incoming": row.incoming,
                "reorder_point": row.reorder_point,
                "version": row.version,
                "updated_at": row.updated_at,
                "location_pk": row.location_id,
                "product_pk": row.product_id,
                "pk": row.id,
                "_value": row.stock_value if valued else None,
                "_average": row.average_cost if valued else None,
            },
        )


@visible_with(Permission.STOCK_READ)
@compiled_type
@strawberry.type(
    description="One entry of the stock ledger: a change of on-hand units of one product at "
    "one location. Never edited or deleted."
)
class StockMovement(Node):
    sequence: BigInt = strawberry.field(
        description="Position in the tenant's ledger; increases in commit order. Resume "
        "subscriptions and stockMovements from it."
    )
    kind: MovementKind = strawberry.field(description="What caused the change.")  # type: ignore[valid-type]
    delta: int = strawberry.field(
        description="The change in units on hand: positive in, negative out."
    )
    on_hand_after: int = strawberry.field(
        description="Units on hand at the location right after this movement."
    )
    oversell: bool = strawberry.field(
        description="True when this sale took the quantity on hand below zero."
    )
    reason: str | None = strawberry.field(
        description="For adjustments: the AdjustmentReason; for other kinds, a reason given "
        "with the change, if any."
    )
    note: str | None = strawberry.field(description="Free text given with the change, if any.")
    reference: str | None = strawberry.field(
        description="The outside reference: the receipt number of a sale, the delivery note "
        "of a receipt, the transfer or order it belongs to."
    )
    occurred_at: datetime = strawberry.field(
        description="When it happened in the shop or warehouse (a sale's time at the till); "
        "may be earlier than recordedAt."
    )
    recorded_at: datetime = strawberry.field(description="When stockgraph recorded it.")
    actor: str = strawberry.field(
        description="Who recorded it, as stored: `staff:<row id>`, `app:<client id>` or "
        "`system`; stable, for matching. performedBy gives the staff code and name."
    )
    location_pk: strawberry.Private[int]
    product_pk: strawberry.Private[int]

    location: Location = loaded_location("location_pk", "Where the stock moved.")
    product: Product = loaded_product("product_pk", "What moved.")

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


@strawberry.type(
    description="The result of adjustStock, receiveStock and recordSale: what changed, or "
    "userErrors."
)
class StockChangePayload:
    stock_levels: list[StockLevel] = strawberry.field(
        description="The levels after the change, one per location and product touched; "
        "empty when refused."
    )
    movements: list[StockMovement] = strawberry.field(
        description="The ledger entries the change made, in order; empty when refused."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused, each with a stable code and the path of the "
        "input field; empty when it succeeded."
    )

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


@strawberry.input(description="One product received.")
class ReceiveStockLineInput:
    sku: str = strawberry.field(description="The product's SKU.")
    quantity: int = strawberry.field(description="Units received: 1 to 1,000,000.")
    unit_cost: Decimal | None = strawberry.field(
        default=None,
        description="The cost per unit in the tenant's currency, 0 to 10^10, stored to 4 "
        "decimal places; omitted: the current average cost.",
    )


@strawberry.input(description="The input of receiveStock.")
class ReceiveStockInput:
    location_id: strawberry.ID = strawberry.field(
        description="Where the goods arrive (a Location ID); needs stock:write there."
    )
    lines: list[ReceiveStockLineInput] = strawberry.field(
        description="What arrived: 1 to 1000 lines."
    )
    reference: str | None = strawberry.field(
        default=None,
        description="The delivery note or invoice number, at most 200 characters; kept on "
        "each movement.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Makes retries safe: the same key from the same caller with the same input "
        "answers the first response (a refusal included) and changes nothing again; "
        "with a different input, IDEMPOTENCY_KEY_REUSED. Kept at least 24 hours; at "
        "most 200 characters.",
    )


@strawberry.input(description="The input of adjustStock.")
class AdjustStockInput:
    location_id: strawberry.ID = strawberry.field(
        description="Where to adjust (a Location ID); needs stock:write there."
    )
    sku: str = strawberry.field(description="The product's SKU.")
    delta: int = strawberry.field(
        description="Units to add (positive) or remove (negative); not 0, at most 1,000,000 "
        "either way. A removal below zero on hand is refused with "
        "INSUFFICIENT_STOCK."
    )
    reason: AdjustmentReason = strawberry.field(  # type: ignore[valid-type]
        description="Why; DAMAGE makes a DAMAGE movement, every other reason an ADJUSTMENT."
    )
    note: str | None = strawberry.field(
        default=None, description="Free text, at most 1000 characters."
    )
    expected_on_hand: int | None = strawberry.field(
        default=None,
        description="Compare-and-set: refused with VERSION_CONFLICT unless on hand equals this.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Makes retries safe: the same key from the same caller with the same input "
        "answers the first response (a refusal included) and changes nothing again; "
        "with a different input, IDEMPOTENCY_KEY_REUSED. Kept at least 24 hours; at "
        "most 200 characters.",
    )


@strawberry.input(description="One product sold.")
class SaleLineInput:
    sku: str = strawberry.field(description="The product's SKU.")
    quantity: int = strawberry.field(description="Units sold: 1 to 1,000,000.")
    unit_price: Decimal | None = strawberry.field(
        default=None,
        description="The price per unit actually charged, 0 to 10^10, stored to 2 decimal "
        "places; omitted: the product's retail price.",
    )


@strawberry.input(description="One payment towards a sale.")
class PaymentInput:
    method: str = strawberry.field(
        description="How it was paid, 1 to 32 characters (e.g. CASH, OCTOPUS)."
    )
    amount: Decimal = strawberry.field(description="The amount paid, in the sale's currency.")
    reference: str | None = strawberry.field(
        default=None, description="The payment provider's reference, if any."
    )


@strawberry.input(description="The input of recordSale.")
class RecordSaleInput:
    location_id: strawberry.ID = strawberry.field(
        description="The store that sold (a Location ID); needs stock:write there."
    )
    receipt_number: str = strawberry.field(
        description="The till receipt number, 1 to 100 characters, unique per location: a "
        "second sale with the same number is refused with ALREADY_EXISTS."
    )
    lines: list[SaleLineInput] = strawberry.field(
        description="What was sold: 1 to 1000 lines. A sale is never refused for lack of "
        "stock: on hand may go below zero and the movement is flagged oversell."
    )
    occurred_at: datetime | None = strawberry.field(
        default=None,
        description="When the sale happened at the till, with a UTC offset; omitted: now.",
    )
    member_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The member who bought, if any (a Member ID); their computed tags follow.",
    )
    payments: list[PaymentInput] | None = strawberry.field(
        default=None, description="How the sale was paid, if recorded."
    )
    currency: CurrencyCode | None = strawberry.field(
        default=None, description="The sale's currency; omitted: the tenant's currency."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Makes retries safe: the same key from the same caller with the same input "
        "answers the first response (a refusal included) and changes nothing again; "
        "with a different input, IDEMPOTENCY_KEY_REUSED. Kept at least 24 hours; at "
        "most 200 characters.",
    )


@strawberry.input(description="The input of setReorderPoint.")
class SetReorderPointInput:
    location_id: strawberry.ID = strawberry.field(
        description="The location (a Location ID); needs stock:write there."
    )
    sku: str = strawberry.field(description="The product's SKU.")
    reorder_point: int | None = strawberry.field(
        description="lowStock fires when available falls to or below this; null: never."
    )


@strawberry.type(description="The result of setReorderPoint: what changed, or userErrors.")
class StockLevelPayload:
    stock_level: StockLevel | None = strawberry.field(
        description="The level after the change; null when refused."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused, each with a stable code and the path of the "
        "input field; empty when it succeeded."
    )

    @classmethod
    def failed(cls, errors: list[UserError]) -> StockLevelPayload:
        return cls(stock_level=None, user_errors=errors)
