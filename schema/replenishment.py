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
from schema.describe import enum_values
from schema.errors import UserError
from schema.forecast import ForecastDay
from schema.locations import Location
from schema.stock import load_location, load_product
from schema.suppliers import Supplier
from schema.transfers import Transfer

COSTS = [requires(Permission.COSTS_READ)]

ReplenishmentMethod = enum_values(
    REORDER_POINT="Target = forecast over the cover days + safety stock; nothing while "
    "the position is above the reorder point.",
    MIN_MAX="At or below minQuantity, replenish up to maxQuantity.",
)(
    strawberry.enum(
        RuleMethod,
        name="ReplenishmentMethod",
        description="REORDER_POINT: cover the forecast over lead time + review period plus "
        "safety stock. MIN_MAX: at or below min, order up to max.",
    )
)
DismissReason = enum_values(
    NOT_NEEDED="The stock is not needed.",
    PROMOTION_ENDED="A promotion that drove demand has ended.",
    STOCK_ELSEWHERE="Stock is coming from elsewhere.",
    SUPPLIER_UNAVAILABLE="The supplier cannot deliver.",
    DISCONTINUED="The product is discontinued.",
    OTHER="Anything else; say what in the note.",
)(
    strawberry.enum(
        DomainDismissReason,
        name="DismissReason",
        description="Why a replenishment suggestion was dismissed.",
    )
)


async def _supplier(info: Info, pk: int | None) -> Supplier | None:
    if pk is None:
        return None
    row = await info.context.loaders.supplier_by_id.load(pk)
    return Supplier.from_row(row) if row is not None else None


@strawberry.type(
    description="How one SKU is replenished at one location: method, quantities, and "
    "preferred supplier or source."
)
class ReplenishmentRule:
    method: ReplenishmentMethod = strawberry.field(  # type: ignore[valid-type]
        description="REORDER_POINT (forecast-driven) or MIN_MAX."
    )
    min_quantity: int | None = strawberry.field(
        description="MIN_MAX: replenish when the position is at or below this many units."
    )
    max_quantity: int | None = strawberry.field(
        description="MIN_MAX: replenish up to this many units."
    )
    reorder_point: int | None = strawberry.field(
        description="REORDER_POINT: nothing is suggested while the position is above it."
    )
    safety_stock: int = strawberry.field(
        description="Units kept on top of the forecast (REORDER_POINT target)."
    )
    review_period_days: int = strawberry.field(
        description="Days until the next review: the forecast covers them too."
    )
    alert_only: bool = strawberry.field(description="Suggest and alert; never draft.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    location_pk: strawberry.Private[int]
    product_pk: strawberry.Private[int]
    supplier_pk: strawberry.Private[int | None]
    source_location_pk: strawberry.Private[int | None]

    @strawberry.field(description="The location replenished.")
    async def location(self, info: Info) -> Location:
        return await load_location(info, self.location_pk)

    @strawberry.field(description="The product replenished.")
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


@strawberry.type(description="Units another location can give.")
class SuggestedTransfer:
    quantity: int = strawberry.field(description="Units to transfer.")
    donor_surplus: int = strawberry.field(
        description="What the donor holds beyond its own target (it keeps its target)."
    )
    location_pk: strawberry.Private[int]

    @strawberry.field(description="The donor location.")
    async def from_location(self, info: Info) -> Location:
        return await load_location(info, self.location_pk)


@strawberry.type(
    description="What to move or buy for one SKU at one location, with every term of the "
    "arithmetic: need = target − position; position = onHand − reserved + inTransit + "
    "openPurchaseOrders + transfersNotShipped + acceptedNotOrdered."
)
class ReplenishmentSuggestion:
    sku: str = strawberry.field(description="The product's SKU.")
    quantity: int = strawberry.field(description="transferQuantity + purchaseQuantity.")
    transfer_quantity: int = strawberry.field(
        description="Units to move from other locations (the sum of transfers)."
    )
    transfers: list[SuggestedTransfer] = strawberry.field(
        description="Where to transfer from: donors keep their own target; the rule's "
        "preferred source first, then the same region, largest surplus first."
    )
    purchase_quantity: int = strawberry.field(
        description="purchaseNeeded rounded up to packSize and minOrderQuantity."
    )
    purchase_needed: int = strawberry.field(
        description="Units no donor covers, before rounding to packs."
    )
    pack_size: int = strawberry.field(description="The supplier's pack size in units.")
    min_order_quantity: int = strawberry.field(description="The supplier's minimum order in units.")
    method: ReplenishmentMethod = strawberry.field(description="The rule's method.")  # type: ignore[valid-type]
    alert_only: bool = strawberry.field(
        description="The rule only alerts: accepting it is refused; order by hand."
    )
    order_wait_days: int = strawberry.field(
        description="Days until the supplier next takes orders (its orderDays)."
    )
    lead_time_days: int = strawberry.field(description="The supplier's lead time in days.")
    review_period_days: int = strawberry.field(description="The rule's review period in days.")
    forecast_units: float = strawberry.field(description="Sum of forecastDays.")
    forecast_days: list[ForecastDay] = strawberry.field(
        description="The days covered from today: orderWaitDays + leadTimeDays + reviewPeriodDays."
    )
    safety_stock: int = strawberry.field(description="The rule's safety stock in units.")
    target: float = strawberry.field(
        description="Units the location should have: forecast over the cover + safety stock "
        "(REORDER_POINT), or maxQuantity (MIN_MAX)."
    )
    on_hand: int = strawberry.field(description="Units on hand now.")
    reserved: int = strawberry.field(description="Units reserved now.")
    in_transit: int = strawberry.field(description="Units shipped here and not yet received.")
    open_purchase_orders: int = strawberry.field(
        description="Ordered here (DRAFT to PARTIALLY_RECEIVED) and not yet received."
    )
    transfers_not_shipped: int = strawberry.field(
        description="Requested or approved transfers to here, not yet shipped."
    )
    accepted_not_ordered: int = strawberry.field(
        description="Accepted purchase suggestions not yet drafted into an order."
    )
    position: int = strawberry.field(
        description="onHand − reserved + inTransit + openPurchaseOrders + "
        "transfersNotShipped + acceptedNotOrdered."
    )
    need: int = strawberry.field(
        description="target − position, rounded up; the suggestion exists because it is above 0."
    )
    below_supplier_minimum: bool = strawberry.field(
        description="The purchase alone is worth less than the supplier's minimum order value: "
        "draftPurchaseOrders holds it until the supplier's accepted purchases for this "
        "location reach the minimum (or allowBelowMinimum)."
    )
    explanation: str = strawberry.field(
        description="The whole arithmetic in one line of English, for people."
    )
    location_pk: strawberry.Private[int]
    product_pk: strawberry.Private[int]
    supplier_pk: strawberry.Private[int | None]
    _cost: strawberry.Private[Money | None]

    @strawberry.field(description="The location to replenish.")
    async def location(self, info: Info) -> Location:
        return await load_location(info, self.location_pk)

    @strawberry.field(description="The product.")
    async def product(self, info: Info) -> Product:
        return await load_product(info, self.product_pk)

    @strawberry.field(
        description="The supplier to buy from: the rule's, else the cheapest; null when "
        "none sells it."
    )
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


@strawberry.type(description="An accepted or dismissed suggestion.")
class ReplenishmentDecision:
    decision: str = strawberry.field(description="ACCEPTED or DISMISSED.")
    sku: str = strawberry.field(description="The product's SKU.")
    transfer_quantity: int = strawberry.field(
        description="Units requested by transfers on acceptance."
    )
    purchase_quantity: int = strawberry.field(
        description="Waits for draftPurchaseOrders when accepted."
    )
    reason: DismissReason | None = strawberry.field(  # type: ignore[valid-type]
        description="Why it was dismissed; null when accepted."
    )
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


@strawberry.type(
    description="The result of acceptReplenishmentSuggestion and dismissReplenishmentSuggestion: "
    "what changed, or userErrors."
)
class ReplenishmentDecisionPayload:
    decision: ReplenishmentDecision | None = strawberry.field(
        description="What was decided; null when refused."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused, each with a stable code and the path of the "
        "input field; empty when it succeeded."
    )

    @classmethod
    def failed(cls, errors: list[UserError]) -> ReplenishmentDecisionPayload:
        return cls(decision=None, user_errors=errors)


@strawberry.input(description="The input of acceptReplenishmentSuggestion.")
class AcceptReplenishmentSuggestionInput:
    location_id: strawberry.ID = strawberry.field(
        description="The location (a Location ID); needs stock:write there."
    )
    sku: str = strawberry.field(
        description="The SKU of today's suggestion to accept: its transfers are requested "
        "at once, its purchase waits for draftPurchaseOrders."
    )
    note: str | None = strawberry.field(
        default=None, description="Free text, at most 1000 characters."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Makes retries safe: the same key from the same caller with the same input "
        "answers the first response (a refusal included) and changes nothing again; "
        "with a different input, IDEMPOTENCY_KEY_REUSED. Kept at least 24 hours; at "
        "most 200 characters.",
    )


@strawberry.input(description="The input of dismissReplenishmentSuggestion.")
class DismissReplenishmentSuggestionInput:
    location_id: strawberry.ID = strawberry.field(
        description="The location (a Location ID); needs stock:write there."
    )
    sku: str = strawberry.field(description="The SKU of the suggestion to dismiss.")
    reason: DismissReason = strawberry.field(description="Why (required).")  # type: ignore[valid-type]
    note: str | None = strawberry.field(
        default=None, description="Free text, at most 1000 characters."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Makes retries safe: the same key from the same caller with the same input "
        "answers the first response (a refusal included) and changes nothing again; "
        "with a different input, IDEMPOTENCY_KEY_REUSED. Kept at least 24 hours; at "
        "most 200 characters.",
    )


@strawberry.input(
    description="A rule for one SKU at one location (replaces the existing one). Needs "
    "stock:write at the location."
)
class ReplenishmentRuleInput:
    location_id: strawberry.ID = strawberry.field(description="The location (a Location ID).")
    sku: str = strawberry.field(description="The product's SKU; once per location in a request.")
    method: ReplenishmentMethod = strawberry.field(  # type: ignore[valid-type]
        default=RuleMethod.REORDER_POINT, description="REORDER_POINT (the default) or MIN_MAX."
    )
    min_quantity: int | None = strawberry.field(
        default=None,
        description="MIN_MAX (required there): replenish at or below this, 0 to 1,000,000.",
    )
    max_quantity: int | None = strawberry.field(
        default=None,
        description="MIN_MAX (required there): replenish up to this, 0 to 1,000,000, not "
        "below minQuantity.",
    )
    reorder_point: int | None = strawberry.field(
        default=None,
        description="REORDER_POINT: nothing is suggested while the position is above it; 0 "
        "to 1,000,000; null: always review.",
    )
    safety_stock: int = strawberry.field(
        default=0, description="Units kept on top of the forecast, 0 to 1,000,000 (default 0)."
    )
    review_period_days: int = strawberry.field(
        default=7, description="Days between reviews, 0 to 365 (default 7)."
    )
    supplier_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The preferred supplier (a Supplier ID); omitted: the cheapest that "
        "sells it. At most one of supplierId and sourceLocationId.",
    )
    source_location_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The preferred location to transfer from (a Location ID), not this one.",
    )
    alert_only: bool = strawberry.field(
        default=False, description="true: suggest and alert, never draft (default false)."
    )


@strawberry.input(description="The input of setReplenishmentRules.")
class SetReplenishmentRulesInput:
    rules: list[ReplenishmentRuleInput] = strawberry.field(
        description="Up to 5,000, keyed by location and SKU; resending the same rules "
        "changes nothing."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Makes retries safe: the same key from the same caller with the same input "
        "answers the first response (a refusal included) and changes nothing again; "
        "with a different input, IDEMPOTENCY_KEY_REUSED. Kept at least 24 hours; at "
        "most 200 characters.",
    )


@strawberry.type(description="The result of setReplenishmentRules: what changed, or userErrors.")
class SetReplenishmentRulesPayload:
    count: int = strawberry.field(description="How many rules were created or changed.")
    changed: int = strawberry.field(description="Rules created or changed (not unchanged ones).")
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused, each with a stable code and the path of the "
        "input field; empty when it succeeded."
    )

    @classmethod
    def failed(cls, errors: list[UserError]) -> SetReplenishmentRulesPayload:
        return cls(count=0, changed=0, user_errors=errors)
