"""Replenishment: rules, the demand forecast, explained suggestions, decisions, job runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from auth.fields import requires
from auth.permissions import Permission
from domain.replenishment.decisions import Decided
from domain.replenishment.decisions import DismissReason as DomainDismissReason
from domain.replenishment.rules import RuleMethod
from domain.replenishment.suggestions import Suggestion
from schema.catalog import CURRENCIES, Money, Product
from schema.errors import UserError
from schema.forecast import ForecastDay
from schema.locations import Location
from schema.stock import load_location, load_product
from schema.suppliers import Supplier
from schema.transfers import Transfer

COSTS = [requires(Permission.COSTS_READ)]

ReplenishmentMethod = strawberry.enum(
    RuleMethod,
    name="ReplenishmentMethod",
    description="REORDER_POINT: cover the forecast over lead time + review period plus "
    "safety stock. MIN_MAX: at or below min, order up to max.",
)
DismissReason = strawberry.enum(DomainDismissReason, name="DismissReason")


async def _supplier(info: Info, pk: int | None) -> Supplier | None:
    if pk is None:
        return None
    row = await info.context.loaders.supplier_by_id.load(pk)
    return Supplier.from_row(row) if row is not None else None


@strawberry.type
class ReplenishmentRule:
    method: ReplenishmentMethod  # type: ignore[valid-type]
    min_quantity: int | None
    max_quantity: int | None
    reorder_point: int | None = strawberry.field(
        description="REORDER_POINT: nothing is suggested while the position is above it."
    )
    safety_stock: int
    review_period_days: int
    alert_only: bool = strawberry.field(description="Suggest and alert; never draft.")
    updated_at: datetime
    location_pk: strawberry.Private[int]
    product_pk: strawberry.Private[int]
    supplier_pk: strawberry.Private[int | None]
    source_location_pk: strawberry.Private[int | None]

    @strawberry.field
    async def location(self, info: Info) -> Location:
        return await load_location(info, self.location_pk)

    @strawberry.field
    async def product(self, info: Info) -> Product:
        return await load_product(info, self.product_pk)

    @strawberry.field(description="The preferred supplier, if one is set.")
    async def supplier(self, info: Info) -> Supplier | None:
        return await _supplier(info, self.supplier_pk)

    @strawberry.field(description="The preferred location to transfer from, if one is set.")
    async def source_location(self, info: Info) -> Location | None:
        if self.source_location_pk is None:
            return None
        return await load_location(info, self.source_location_pk)

    @classmethod
    def from_row(cls, row: Any) -> ReplenishmentRule:
        return cls(
            method=RuleMethod(row.method),
            min_quantity=row.min_quantity,
            max_quantity=row.max_quantity,
            reorder_point=row.reorder_point,
            safety_stock=row.safety_stock,
            review_period_days=row.review_period_days,
            alert_only=row.alert_only,
            updated_at=row.updated_at,
            location_pk=row.location_id,
            product_pk=row.product_id,
            supplier_pk=row.source_supplier_id,
            source_location_pk=row.source_location_id,
        )


@strawberry.type
class SuggestedTransfer:
    quantity: int
    donor_surplus: int = strawberry.field(
        description="What the donor holds beyond its own target (it keeps its target)."
    )
    location_pk: strawberry.Private[int]

    @strawberry.field
    async def from_location(self, info: Info) -> Location:
        return await load_location(info, self.location_pk)


@strawberry.type(
    description="What to move or buy for one SKU at one location, with every term of the "
    "arithmetic: need = target − position; position = onHand − reserved + inTransit + "
    "openPurchaseOrders + transfersNotShipped + acceptedNotOrdered."
)
class ReplenishmentSuggestion:
    sku: str
    quantity: int = strawberry.field(description="transferQuantity + purchaseQuantity.")
    transfer_quantity: int
    transfers: list[SuggestedTransfer]
    purchase_quantity: int = strawberry.field(
        description="purchaseNeeded rounded up to packSize and minOrderQuantity."
    )
    purchase_needed: int
    pack_size: int
    min_order_quantity: int
    method: ReplenishmentMethod  # type: ignore[valid-type]
    alert_only: bool
    order_wait_days: int = strawberry.field(
        description="Days until the supplier next takes orders (its orderDays)."
    )
    lead_time_days: int
    review_period_days: int
    forecast_units: float = strawberry.field(description="Sum of forecastDays.")
    forecast_days: list[ForecastDay] = strawberry.field(
        description="The days covered from today: orderWaitDays + leadTimeDays + reviewPeriodDays."
    )
    safety_stock: int
    target: float
    on_hand: int
    reserved: int
    in_transit: int
    open_purchase_orders: int = strawberry.field(
        description="Ordered here (DRAFT to PARTIALLY_RECEIVED) and not yet received."
    )
    transfers_not_shipped: int = strawberry.field(
        description="Requested or approved transfers to here, not yet shipped."
    )
    accepted_not_ordered: int = strawberry.field(
        description="Accepted purchase suggestions not yet drafted into an order."
    )
    position: int
    need: int
    below_supplier_minimum: bool = strawberry.field(
        description="The purchase alone is worth less than the supplier's minimum order value: "
        "draftPurchaseOrders holds it until the supplier's accepted purchases for this "
        "location reach the minimum (or allowBelowMinimum)."
    )
    explanation: str
    location_pk: strawberry.Private[int]
    product_pk: strawberry.Private[int]
    supplier_pk: strawberry.Private[int | None]
    _cost: strawberry.Private[Money | None]

    @strawberry.field
    async def location(self, info: Info) -> Location:
        return await load_location(info, self.location_pk)

    @strawberry.field
    async def product(self, info: Info) -> Product:
        return await load_product(info, self.product_pk)

    @strawberry.field
    async def supplier(self, info: Info) -> Supplier | None:
        return await _supplier(info, self.supplier_pk)

    @strawberry.field(
        description="The supplier's unit cost; needs costs:read.", permission_classes=COSTS
    )
    def unit_cost(self) -> Money | None:
        return self._cost

    @classmethod
    def from_domain(cls, s: Suggestion, currency: str = "HKD") -> ReplenishmentSuggestion:
        days = ", ".join(
            f"{d.day.isoformat()} {d.units:.1f}" + (f" ({d.event.name})" if d.event else "")
            for d in s.forecast_days
        )
        explanation = (
            f"forecast {s.forecast_units:.1f} over {len(s.forecast_days)} days [{days}] "
            f"+ safety {s.safety_stock} → target {s.target:.1f}; position {s.position} = "
            f"on hand {s.on_hand} − reserved {s.reserved} + in transit {s.in_transit} + "
            f"open orders {s.open_purchase_orders} + unshipped transfers "
            f"{s.transfers_not_shipped} + accepted {s.accepted_not_ordered}; need {s.need}"
            + "".join(f"; transfer {t.quantity} (surplus {t.surplus})" for t in s.transfers)
            + (
                f"; buy {s.purchase_quantity} ({s.purchase_needed} rounded to packs of "
                f"{s.pack_size}, minimum {s.min_order_quantity})"
                if s.purchase_quantity
                else ""
            )
            + (
                f"; alone below the supplier's minimum order of {s.supplier_currency} "
                f"{s.min_order_value}: held when drafting until its accepted purchases here "
                "reach it"
                if s.below_supplier_minimum
                else ""
            )
        )
        return cls(
            sku=s.sku,
            quantity=s.quantity,
            transfer_quantity=s.transfer_quantity,
            transfers=[
                SuggestedTransfer(
                    quantity=t.quantity, donor_surplus=t.surplus, location_pk=t.location_id
                )
                for t in s.transfers
            ],
            purchase_quantity=s.purchase_quantity,
            purchase_needed=s.purchase_needed,
            pack_size=s.pack_size,
            min_order_quantity=s.min_order_quantity,
            method=RuleMethod(s.method),
            alert_only=s.alert_only,
            order_wait_days=s.order_wait_days,
            lead_time_days=s.lead_time_days,
            review_period_days=s.review_period_days,
            forecast_units=round(s.forecast_units, 3),
            forecast_days=[ForecastDay.from_day(d) for d in s.forecast_days],
            safety_stock=s.safety_stock,
            target=round(s.target, 3),
            on_hand=s.on_hand,
            reserved=s.reserved,
            in_transit=s.in_transit,
            open_purchase_orders=s.open_purchase_orders,
            transfers_not_shipped=s.transfers_not_shipped,
            accepted_not_ordered=s.accepted_not_ordered,
            position=s.position,
            need=s.need,
            below_supplier_minimum=s.below_supplier_minimum,
            explanation=explanation,
            location_pk=s.location_id,
            product_pk=s.product_id,
            supplier_pk=s.supplier_id,
            _cost=Money(amount=s.unit_cost, currency=CURRENCIES[currency])
            if s.unit_cost is not None
            else None,
        )


@strawberry.type
class ReplenishmentDecision:
    decision: str = strawberry.field(description="ACCEPTED or DISMISSED.")
    sku: str
    transfer_quantity: int
    purchase_quantity: int = strawberry.field(
        description="Waits for draftPurchaseOrders when accepted."
    )
    reason: DismissReason | None  # type: ignore[valid-type]
    transfer_pks: strawberry.Private[tuple[int, ...]]

    @strawberry.field(description="The transfers the acceptance requested.")
    async def transfers(self, info: Info) -> list[Transfer]:
        rows = [await info.context.loaders.transfer_by_id.load(pk) for pk in self.transfer_pks]
        return [Transfer.from_row(r) for r in rows if r is not None]

    @classmethod
    def from_domain(cls, d: Decided) -> ReplenishmentDecision:
        return cls(
            decision=d.decision,
            sku=d.sku,
            transfer_quantity=d.transfer_quantity,
            purchase_quantity=d.purchase_quantity,
            reason=DomainDismissReason(d.reason) if d.reason else None,
            transfer_pks=d.transfer_ids,
        )


@strawberry.type
class ReplenishmentDecisionPayload:
    decision: ReplenishmentDecision | None
    user_errors: list[UserError]

    @classmethod
    def failed(cls, errors: list[UserError]) -> ReplenishmentDecisionPayload:
        return cls(decision=None, user_errors=errors)


@strawberry.input
class AcceptReplenishmentSuggestionInput:
    location_id: strawberry.ID
    sku: str
    note: str | None = None
    idempotency_key: str | None = None


@strawberry.input
class DismissReplenishmentSuggestionInput:
    location_id: strawberry.ID
    sku: str
    reason: DismissReason  # type: ignore[valid-type]
    note: str | None = None
    idempotency_key: str | None = None


@strawberry.input
class ReplenishmentRuleInput:
    location_id: strawberry.ID
    sku: str
    method: ReplenishmentMethod = RuleMethod.REORDER_POINT  # type: ignore[valid-type]
    min_quantity: int | None = None
    max_quantity: int | None = None
    reorder_point: int | None = None
    safety_stock: int = 0
    review_period_days: int = 7
    supplier_id: strawberry.ID | None = None
    source_location_id: strawberry.ID | None = None
    alert_only: bool = False


@strawberry.input
class SetReplenishmentRulesInput:
    rules: list[ReplenishmentRuleInput] = strawberry.field(
        description="Up to 5,000, keyed by location and SKU; resending the same rules "
        "changes nothing."
    )
    idempotency_key: str | None = None


@strawberry.type
class SetReplenishmentRulesPayload:
    count: int
    changed: int = strawberry.field(description="Rules created or changed (not unchanged ones).")
    user_errors: list[UserError]

    @classmethod
    def failed(cls, errors: list[UserError]) -> SetReplenishmentRulesPayload:
        return cls(count=0, changed=0, user_errors=errors)
