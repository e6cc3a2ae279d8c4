"""Stocktakes: full and cycle counts, their lines, totals, the monthly count record."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from auth.fields import requires, visible_with
from auth.permissions import Permission
from domain import ids
from domain.stocktakes.queries import CountTotals as DomainTotals
from domain.stocktakes.queries import totals_of
from domain.stocktakes.records import StocktakeKind as DomainKind
from domain.stocktakes.records import StocktakeResult
from domain.stocktakes.records import StocktakeStatus as DomainStatus
from schema.catalog import CurrencyCode, Money, Product, loaded_product
from schema.describe import enum_values
from schema.errors import UserError
from schema.loading import READS, compiled_type
from schema.locations import Location, loaded_location
from schema.relay import Node
from schema.scalars import BigInt
from schema.stock import StockMovement, load_location

StocktakeKind = enum_values(
    FULL="Every SKU at the location.",
    CYCLE="A selection: given SKUs, a category, or SKUs not counted for some days.",
)(strawberry.enum(DomainKind, name="StocktakeKind", description="What a stocktake covers."))
StocktakeStatus = enum_values(
    OPEN="Counting; lines may be (re)counted. One open stocktake per location.",
    POSTED="The variances are booked as STOCKTAKE movements; final.",
    CANCELLED="Abandoned; nothing was booked.",
)(strawberry.enum(DomainStatus, name="StocktakeStatus", description="Where a stocktake is."))

COSTS = [requires(Permission.COSTS_READ)]


def _money(amount: Decimal | None, currency: str) -> Money | None:
    return Money(amount=amount, currency=CurrencyCode(currency)) if amount is not None else None


@compiled_type
@strawberry.type(description="Variances of counted lines, in units and at cost (costs:read).")
class CountTotals:
    lines_counted: int = strawberry.field(description="Lines with a count.")
    net_variance_units: int = strawberry.field(description="Counted minus expected, summed.")
    loss_units: int = strawberry.field(description="Units missing (negative variances).")
    gain_units: int = strawberry.field(description="Units found (positive variances).")
    uncosted_lines: int = strawberry.field(
        description="Lines with a variance but no unit cost; not in the cost totals."
    )
    _totals: strawberry.Private[DomainTotals]
    _currency: strawberry.Private[str]

    @strawberry.field(
        permission_classes=COSTS,
        description="Net variance at cost (variance × unit cost, summed); needs costs:read.",
        metadata=READS,
    )
    def net_variance_cost(self) -> Money | None:
        return _money(self._totals.net_variance_cost, self._currency)

    @strawberry.field(
        permission_classes=COSTS,
        description="The missing units at cost; needs costs:read.",
        metadata=READS,
    )
    def loss_cost(self) -> Money | None:
        return _money(self._totals.loss_cost, self._currency)

    @strawberry.field(
        permission_classes=COSTS,
        description="The found units at cost; needs costs:read.",
        metadata=READS,
    )
    def gain_cost(self) -> Money | None:
        return _money(self._totals.gain_cost, self._currency)

    @classmethod
    def from_totals(cls, totals: DomainTotals, currency: str) -> CountTotals:
        return cls(
            lines_counted=totals.lines_counted,
            net_variance_units=totals.net_variance_units,
            loss_units=totals.loss_units,
            gain_units=totals.gain_units,
            uncosted_lines=totals.uncosted_lines,
            _totals=totals,
            _currency=currency,
        )


@compiled_type
@strawberry.type(
    description="One SKU of a stocktake: what was counted against what the books said."
)
class StocktakeLine:
    counted_quantity: int | None = strawberry.field(description="Null until counted.")
    counted_at: datetime | None = strawberry.field(
        description="When it was last counted; null until counted."
    )
    counted_by: str | None = strawberry.field(
        description="Who counted it, as a stored subject; null until counted."
    )
    expected_at_count: int | None = strawberry.field(
        description="On hand at the moment the count was recorded."
    )
    ledger_sequence_at_count: BigInt | None = strawberry.field(
        description="The last committed movement sequence when the count was recorded."
    )
    variance: int | None = strawberry.field(
        description="countedQuantity - expectedAtCount: what posting moves."
    )
    movement_sequence: BigInt | None = strawberry.field(
        description="The STOCKTAKE movement that posted the variance (none when it is 0)."
    )
    product_pk: strawberry.Private[int]
    _unit_cost: strawberry.Private[Decimal | None]

    product: Product = loaded_product("product_pk", "The product counted.")

    async def _currency(self, info: Info) -> str:
        row = await info.context.loaders.product_by_id.load(self.product_pk)
        return getattr(row, "currency", None) or "HKD"

    @strawberry.field(
        description="Unit cost at posting. Needs costs:read.",
        permission_classes=COSTS,
        metadata=READS,
    )
    async def unit_cost(self, info: Info) -> Money | None:
        return _money(self._unit_cost, await self._currency(info))

    @strawberry.field(
        description="variance × unitCost. Needs costs:read.",
        permission_classes=COSTS,
        metadata=READS,
    )
    async def variance_cost(self, info: Info) -> Money | None:
        if self._unit_cost is None or self.variance is None:
            return None
        return _money(self._unit_cost * self.variance, await self._currency(info))

    @classmethod
    def from_row(cls, row: Any) -> StocktakeLine:
        return cls(
            counted_quantity=row.counted_quantity,
            counted_at=row.counted_at,
            counted_by=row.counted_by,
            expected_at_count=row.expected_at_count,
            ledger_sequence_at_count=row.ledger_sequence_at_count,
            variance=row.variance,
            movement_sequence=row.movement_sequence,
            product_pk=row.product_id,
            _unit_cost=row.unit_cost,
        )


async def _tenant_currency(info: Info) -> str:
    row = await info.context.loaders.tenant_currency.load(info.context.viewer.tenant_id)
    return row.currency if row is not None else "HKD"


@visible_with(Permission.STOCK_READ)
@compiled_type
@strawberry.type(
    description="A count of stock at one location: FULL (every SKU) or CYCLE (a selection). "
    "Posting books the differences as STOCKTAKE movements."
)
class Stocktake(Node):
    kind: StocktakeKind = strawberry.field(description="FULL or CYCLE.")  # type: ignore[valid-type]
    status: StocktakeStatus = strawberry.field(description="Open, posted or cancelled.")  # type: ignore[valid-type]
    scope: str = strawberry.field(description="What the count covers, in words.")
    category: str | None = strawberry.field(description="CYCLE by category: the category counted.")
    not_counted_for_days: int | None = strawberry.field(
        description="CYCLE by age: SKUs with no posted count here in this many days."
    )
    note: str | None = strawberry.field(description="Free text given when it started.")
    started_by: str = strawberry.field(
        description='Who started it, as a stored subject ("staff:<id>" or "app:<client id>").'
    )
    started_at: datetime = strawberry.field(description="When it started.")
    posted_by: str | None = strawberry.field(
        description="Who posted it, as a stored subject; null unless POSTED."
    )
    posted_at: datetime | None = strawberry.field(
        description="When it was posted; null unless POSTED."
    )
    cancelled_at: datetime | None = strawberry.field(
        description="When it was cancelled; null unless CANCELLED."
    )
    location_pk: strawberry.Private[int]
    pk: strawberry.Private[int]

    location: Location = loaded_location("location_pk", "Where the count is.")

    @strawberry.field(
        description="The SKUs in scope; `counted` filters on whether one is counted.",
        metadata=READS,
    )
    async def lines(
        self,
        info: Info,
        counted: Annotated[
            bool | None,
            strawberry.argument(
                description="true: counted lines only; false: lines still to count; omit for all."
            ),
        ] = None,
    ) -> list[StocktakeLine]:
        rows = await info.context.loaders.lines_by_stocktake.load(self.pk)
        return [
            StocktakeLine.from_row(r)
            for r in rows or []
            if counted is None or (r.counted_quantity is not None) == counted
        ]

    @strawberry.field(description="Variances of the counted lines so far.", metadata=READS)
    async def totals(self, info: Info) -> CountTotals:
        rows = await info.context.loaders.lines_by_stocktake.load(self.pk)
        counted = [r for r in rows or [] if r.counted_quantity is not None]
        return CountTotals.from_totals(totals_of(counted), await _tenant_currency(info))

    @classmethod
    def from_row(cls, row: Any) -> Stocktake:
        return cls(
            id=strawberry.ID(ids.encode("Stocktake", row.id)),
            kind=DomainKind(row.kind),
            status=DomainStatus(row.status),
            scope=row.scope,
            category=row.category,
            not_counted_for_days=row.not_counted_days,
            note=row.note,
            started_by=row.started_by,
            started_at=row.started_at,
            posted_by=row.posted_by,
            posted_at=row.posted_at,
            cancelled_at=row.cancelled_at,
            location_pk=row.location_id,
            pk=row.id,
        )


@strawberry.type(description="The stocktakes posted at one location in one month.")
class CountRecord:
    month: str = strawberry.field(description='The month, "YYYY-MM".')
    stocktakes: list[Stocktake] = strawberry.field(
        description="The stocktakes posted in the month, in posting order."
    )
    totals: CountTotals = strawberry.field(description="Their variances together.")
    location_pk: strawberry.Private[int]

    @strawberry.field(description="The location.")
    async def location(self, info: Info) -> Location:
        return await load_location(info, self.location_pk)


@strawberry.type(description="Count a category (or everything) at least every intervalDays days.")
class CycleCountRule:
    category: str | None = strawberry.field(description="Null: every SKU at the location.")
    interval_days: int = strawberry.field(description="Days between counts of each SKU: 1 to 366.")


@strawberry.type(description="SKUs of one schedule rule with no posted count within its interval.")
class CountDue:
    category: str | None = strawberry.field(description="The rule's category; null: every SKU.")
    interval_days: int = strawberry.field(description="The rule's interval in days.")
    due_count: int = strawberry.field(description="How many SKUs are due.")
    next_due_at: datetime | None = strawberry.field(
        description="Now when SKUs are due; else when the next one falls due."
    )
    product_pks: strawberry.Private[list[int]]

    @strawberry.field(description="Up to 50 of the SKUs due.")
    async def due_products(self, info: Info) -> list[Product]:
        rows = await info.context.loaders.product_by_id.load_many(self.product_pks)
        return [Product.from_row(row) for row in rows]


@strawberry.type(
    description="How often each category of a location is to be counted, and what is due now."
)
class CycleCountSchedule:
    rules: list[CycleCountRule] = strawberry.field(
        description="The rules, one per category (at most 50)."
    )
    counts_due: list[CountDue] = strawberry.field(
        description="Per rule, the SKUs not counted within the interval."
    )
    location_pk: strawberry.Private[int]

    @strawberry.field(description="The location.")
    async def location(self, info: Info) -> Location:
        return await load_location(info, self.location_pk)


@strawberry.input(description="The input of startStocktake.")
class StartStocktakeInput:
    location_id: strawberry.ID = strawberry.field(
        description="Where to count (a Location ID); needs stock:write there. Refused when "
        "a stocktake is open there already."
    )
    kind: StocktakeKind = strawberry.field(  # type: ignore[valid-type]
        description="FULL counts every SKU; CYCLE needs skus, category or notCountedForDays."
    )
    category: str | None = strawberry.field(default=None, description="CYCLE: SKUs of a category.")
    not_counted_for_days: int | None = strawberry.field(
        default=None, description="CYCLE: SKUs with no posted count here in this many days."
    )
    skus: list[str] | None = strawberry.field(default=None, description="CYCLE: these SKUs.")
    note: str | None = strawberry.field(default=None, description="Free text.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Makes retries safe: the same key from the same caller with the same input "
        "answers the first response (a refusal included) and changes nothing again; "
        "with a different input, IDEMPOTENCY_KEY_REUSED. Kept at least 24 hours; at "
        "most 200 characters.",
    )


@strawberry.input(description="A count of one SKU.")
class CountLineInput:
    sku: str = strawberry.field(description="The product's SKU; must be in the stocktake's scope.")
    counted_quantity: int = strawberry.field(
        description="Units found on the shelf: 0 to 1,000,000."
    )


@strawberry.input(description="The input of recordCount.")
class RecordCountInput:
    id: strawberry.ID = strawberry.field(description="The stocktake's global ID (OPEN).")
    lines: list[CountLineInput] = strawberry.field(
        description="The counts, per SKU; a SKU counted again replaces its count. Each is "
        "compared with on hand at the moment it is recorded."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Makes retries safe: the same key from the same caller with the same input "
        "answers the first response (a refusal included) and changes nothing again; "
        "with a different input, IDEMPOTENCY_KEY_REUSED. Kept at least 24 hours; at "
        "most 200 characters.",
    )


@strawberry.input(description="The input of cancelStocktake and postStocktake.")
class StocktakeTransitionInput:
    id: strawberry.ID = strawberry.field(description="The stocktake's global ID (OPEN).")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Makes retries safe: the same key from the same caller with the same input "
        "answers the first response (a refusal included) and changes nothing again; "
        "with a different input, IDEMPOTENCY_KEY_REUSED. Kept at least 24 hours; at "
        "most 200 characters.",
    )


@strawberry.input(description="Count a category (or everything) at least every intervalDays days.")
class CycleCountRuleInput:
    category: str | None = strawberry.field(
        default=None, description="The category; null: every SKU at the location."
    )
    interval_days: int = strawberry.field(description="Days between counts of each SKU: 1 to 366.")


@strawberry.input(description="The input of setCycleCountSchedule.")
class SetCycleCountScheduleInput:
    location_id: strawberry.ID = strawberry.field(
        description="The location (a Location ID); needs stock:write there."
    )
    rules: list[CycleCountRuleInput] = strawberry.field(
        description="The new rules, replacing the old: at most 50, one per category."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Makes retries safe: the same key from the same caller with the same input "
        "answers the first response (a refusal included) and changes nothing again; "
        "with a different input, IDEMPOTENCY_KEY_REUSED. Kept at least 24 hours; at "
        "most 200 characters.",
    )


@strawberry.type(
    description="The result of cancelStocktake, postStocktake, recordCount and "
    "startStocktake: what changed, or userErrors."
)
class StocktakePayload:
    stocktake: Stocktake | None = strawberry.field(
        description="The stocktake after the change; null when refused."
    )
    lines: list[StocktakeLine] = strawberry.field(
        description="The lines this mutation counted or posted."
    )
    movements: list[StockMovement] = strawberry.field(description="STOCKTAKE movements posted.")
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused, each with a stable code and the path of the "
        "input field; empty when it succeeded."
    )

    @classmethod
    def from_result(cls, result: StocktakeResult) -> StocktakePayload:
        return cls(
            stocktake=Stocktake.from_row(result.stocktake),
            lines=[StocktakeLine.from_row(ln) for ln in result.lines],
            movements=[StockMovement.from_row(m) for m in result.movements],
            user_errors=[],
        )

    @classmethod
    def failed(cls, errors: list[UserError]) -> StocktakePayload:
        return cls(stocktake=None, lines=[], movements=[], user_errors=errors)


@strawberry.type(description="The result of setCycleCountSchedule: what changed, or userErrors.")
class CycleCountSchedulePayload:
    schedule: CycleCountSchedule | None = strawberry.field(
        description="The schedule after the change; null when refused."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused, each with a stable code and the path of the "
        "input field; empty when it succeeded."
    )

    @classmethod
    def failed(cls, errors: list[UserError]) -> CycleCountSchedulePayload:
        return cls(schedule=None, user_errors=errors)
