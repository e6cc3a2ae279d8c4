"""Replenishment suggestions for one location, each with its arithmetic.

For every SKU with a rule at the location:

    cover     = days to the supplier's next order day + lead time + review period
    target    = forecast over the cover + safety stock      (REORDER_POINT)
              = max quantity                               (MIN_MAX, when at or below min)
    position  = on hand − reserved + in transit + open purchase orders not yet received
                + transfers to here not yet shipped + accepted purchases not yet ordered
    need      = target − position                          (nothing when ≤ 0)

Goods on the way are counted once each: a unit in transit has left its
transfer's "not yet shipped" count, and a received purchase unit has left the
order's outstanding quantity as it entered on hand.

**Transfer first.** Other locations of the tenant give what they hold beyond
their own target (forecast over ``DONOR_COVER_DAYS`` + their safety stock,
less transfers they already owe): the rule's preferred location first, then
the same region (HK to HK, MO to MO), then the rest, the largest surplus
first. A donor is never taken below its own target. What no donor covers is
a purchase from the rule's supplier (else the cheapest), rounded up to its
pack size and minimum order quantity.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from domain.catalog.lookup import location_row
from domain.replenishment import forecast as fc
from domain.replenishment import history
from domain.replenishment.rules import RuleMethod

DONOR_COVER_DAYS = 14
TRANSFER_LEAD_DAYS = 1
OPEN_PO = ("DRAFT", "SUBMITTED", "APPROVED", "SENT", "PARTIALLY_RECEIVED")
UNSHIPPED_TRANSFERS = ("REQUESTED", "APPROVED")


@dataclass(frozen=True, slots=True)
class Source:
    location_id: int
    quantity: int
    surplus: int


@dataclass(slots=True)
class Suggestion:
    location_id: int
    product_id: int
    sku: str
    method: str
    alert_only: bool
    lead_time_days: int
    review_period_days: int
    daily_level: float
    # (day, weekday factor, event factor, event) of the location from today; shared by its
    # SKUs, so a suggestion's days are built only when someone looks at them
    factors: Sequence[tuple[date, float, float, Any]]
    cover_exposure: float
    safety_stock: int
    on_hand: int
    reserved: int
    in_transit: int
    open_purchase_orders: int
    transfers_not_shipped: int
    accepted_not_ordered: int
    target: float
    transfers: list[Source] = field(default_factory=list)
    purchase_quantity: int = 0
    purchase_needed: int = 0
    supplier_id: int | None = None
    pack_size: int = 1
    min_order_quantity: int = 1
    unit_cost: Decimal | None = None
    order_wait_days: int = 0
    min_order_value: Decimal | None = None  # the chosen supplier's, for a whole order
    supplier_currency: str | None = None

    @property
    def cover_days(self) -> int:
        return self.order_wait_days + self.lead_time_days + self.review_period_days

    @property
    def forecast_days(self) -> list[fc.ForecastDay]:
        lvl = self.daily_level
        return [
            fc.ForecastDay(d, lvl * wf * ef, wf, ef, ev)
            for d, wf, ef, ev in self.factors[: self.cover_days]
        ]

    @property
    def forecast_units(self) -> float:
        return self.daily_level * self.cover_exposure

    @property
    def position(self) -> int:
        return (
            self.on_hand
            - self.reserved
            + self.in_transit
            + self.open_purchase_orders
            + self.transfers_not_shipped
            + self.accepted_not_ordered
        )

    @property
    def need(self) -> int:
        return max(0, math.ceil(self.target - self.position - 1e-9))

    @property
    def transfer_quantity(self) -> int:
        return sum(s.quantity for s in self.transfers)

    @property
    def quantity(self) -> int:
        return self.transfer_quantity + self.purchase_quantity

    @property
    def below_supplier_minimum(self) -> bool:
        """The purchase alone is worth less than the supplier's minimum order value.

        Drafting then holds it until more is accepted for that supplier here
        (``decisions.draft_purchase_orders``).
        """
        if not self.purchase_quantity or self.unit_cost is None or not self.min_order_value:
            return False
        return self.purchase_quantity * self.unit_cost < self.min_order_value


def order_wait(today: date, order_days: Sequence[int] | None) -> int:
    """Days until the supplier next takes orders (ISO weekdays; none listed: any day)."""
    if not order_days:
        return 0
    return min((d - today.isoweekday()) % 7 for d in order_days)


def round_purchase(units: int, pack: int, moq: int) -> int:
    """Up to a whole number of packs, and at least the minimum order (itself in packs)."""
    if units <= 0:
        return 0
    units = max(units, moq)
    return math.ceil(units / pack) * pack


_RULES = text(
    """
    SELECT r.* FROM replenishment_rules r
    WHERE r.tenant_id = :tenant AND r.location_id = :location
      AND (CAST(:products AS bigint[]) IS NULL OR r.product_id = ANY(CAST(:products AS bigint[])))
    ORDER BY r.product_id
    """
)
# apart from the rules: a join here turns into a nested loop on tables without statistics
_SKUS = text(
    "SELECT id, sku FROM products "
    "WHERE tenant_id = :tenant AND id = ANY(CAST(:products AS bigint[]))"
)
_LEVELS = text(
    """
    SELECT location_id, product_id, on_hand, reserved, in_transit FROM stock_levels
    WHERE tenant_id = :tenant AND product_id = ANY(CAST(:products AS bigint[]))
    """
)
_DONOR_RULES = text(
    """
    SELECT location_id, product_id, safety_stock FROM replenishment_rules
    WHERE tenant_id = :tenant AND product_id = ANY(CAST(:products AS bigint[]))
      AND location_id <> :location
    """
)
_OPEN_PO = text(
    """
    SELECT l.product_id, SUM(l.quantity - l.received) AS units
    FROM purchase_orders o
    JOIN purchase_order_lines l ON l.tenant_id = o.tenant_id AND l.purchase_order_id = o.id
    WHERE o.tenant_id = :tenant AND o.location_id = :location
      AND o.status = ANY(CAST(:statuses AS text[]))
      AND l.product_id = ANY(CAST(:products AS bigint[]))
    GROUP BY 1
    """
)
_UNSHIPPED = text(
    """
    SELECT t.from_location_id, t.to_location_id, l.product_id, SUM(l.quantity) AS units
    FROM transfers t
    JOIN transfer_lines l ON l.tenant_id = t.tenant_id AND l.transfer_id = t.id
    WHERE t.tenant_id = :tenant AND t.status = ANY(CAST(:statuses AS text[]))
      AND l.product_id = ANY(CAST(:products AS bigint[]))
    GROUP BY 1, 2, 3
    """
)
_DECISIONS = text(
    """
    SELECT product_id, decision, purchase_quantity, purchase_order_id,
           CAST(created_at AT TIME ZONE :tz AS date) AS day
    FROM replenishment_decisions
    WHERE tenant_id = :tenant AND location_id = :location
      AND product_id = ANY(CAST(:products AS bigint[]))
      AND ((decision = 'ACCEPTED' AND purchase_order_id IS NULL AND purchase_quantity > 0)
           OR (decision = 'DISMISSED' AND created_at >= :since))
    """
)
_SUPPLY = text(
    """
    SELECT sp.product_id, sp.supplier_id, sp.unit_cost, sp.pack_size, sp.min_order_quantity,
           s.lead_time_days, s.order_days, s.min_order_value, s.currency
    FROM supplier_products sp
    JOIN suppliers s ON s.tenant_id = sp.tenant_id AND s.id = sp.supplier_id
    WHERE sp.tenant_id = :tenant AND s.active AND sp.product_id = ANY(CAST(:products AS bigint[]))
    ORDER BY sp.product_id, sp.unit_cost, sp.supplier_id
    """
)


def _factors(profile: fc.Profile, start: date, days: int) -> list[tuple[date, float, float, Any]]:
    out = []
    for i in range(days):
        d = start + timedelta(days=i)
        wf, ef, ev = profile.factor(d)
        out.append((d, wf, ef, ev))
    return out


async def suggest(
    session: AsyncSession,
    caller: Caller,
    location_id: int,
    product_ids: Sequence[int] | None = None,
    *,
    include_zero: bool = False,
    today: date | None = None,
) -> list[Suggestion]:
    """The suggestions of one location (``product_ids``: only those SKUs), as of ``today``
    (the tenant's date now, unless a scheduled job says which day it runs for)."""
    t = caller.tenant_id
    zone = await history.tenant_zone(session, t)
    today = today or await history.today(session, zone)
    rules = (
        await session.execute(
            _RULES,
            {
                "tenant": t,
                "location": location_id,
                "products": list(product_ids) if product_ids is not None else None,
            },
        )
    ).all()
    if not rules:
        return []
    products = [r.product_id for r in rules]
    p = {"tenant": t, "products": products, "location": location_id}
    skus: dict[int, str] = {r.id: r.sku for r in await session.execute(_SKUS, p)}
    levels: dict[tuple[int, int], Any] = {
        (r.location_id, r.product_id): r for r in await session.execute(_LEVELS, p)
    }
    region = await history.regions(session, t)
    locations = sorted(region)
    level_start = today - timedelta(days=fc.LEVEL_DAYS)
    sold = await history.sku_totals(session, t, zone, locations, level_start, today, products)
    profiles = await history.profiles(session, t, zone, locations, today)
    exposure = {
        loc: fc.exposure(
            profiles[loc], [level_start + timedelta(days=i) for i in range(fc.LEVEL_DAYS)]
        )
        for loc in locations
    }
    donor_safety = {
        (r.location_id, r.product_id): r.safety_stock
        for r in await session.execute(_DONOR_RULES, p)
    }
    open_po = {
        r.product_id: int(r.units)
        for r in await session.execute(_OPEN_PO, {**p, "statuses": list(OPEN_PO)})
    }
    inbound: dict[int, int] = defaultdict(int)
    owed: dict[tuple[int, int], int] = defaultdict(int)
    for r in await session.execute(_UNSHIPPED, {**p, "statuses": list(UNSHIPPED_TRANSFERS)}):
        if r.to_location_id == location_id:
            inbound[r.product_id] += int(r.units)
        owed[(r.from_location_id, r.product_id)] += int(r.units)
    accepted: dict[int, int] = defaultdict(int)
    dismissed: set[int] = set()
    since = history.local_midnight(today, zone)
    for r in await session.execute(_DECISIONS, {**p, "tz": zone.key, "since": since}):
        if r.decision == "ACCEPTED":
            accepted[r.product_id] += int(r.purchase_quantity)
        else:
            dismissed.add(r.product_id)
    supply: dict[int, list[Any]] = defaultdict(list)
    for r in await session.execute(_SUPPLY, p):
        supply[r.product_id].append(r)
    here = region.get(location_id, "HK")
    max_cover = max(
        [
            (max((s.lead_time_days for s in supply[r.product_id]), default=TRANSFER_LEAD_DAYS))
            + r.review_period_days
            + 6  # waiting for the supplier's next order day
            for r in rules
        ]
        + [DONOR_COVER_DAYS]
    )
    factors = {loc: _factors(profiles[loc], today, max_cover) for loc in locations}
    # exposure[loc][n]: ordinary days' worth of demand in the first n days from today
    cumulative = {}
    for loc in locations:
        running = [0.0]
        for _, wf, ef, _ in factors[loc]:
            running.append(running[-1] + wf * ef)
        cumulative[loc] = running
    donor_factor = {loc: cumulative[loc][DONOR_COVER_DAYS] for loc in locations}

    def daily_level(loc: int, product: int) -> float:
        units = sold.get((loc, product), 0.0)
        return units / exposure[loc] if exposure[loc] > 0 else 0.0

    out: list[Suggestion] = []
    for rule in rules:
        product = rule.product_id
        if product in dismissed:
            continue
        offers = supply[product]
        chosen = next((s for s in offers if s.supplier_id == rule.source_supplier_id), None)
        chosen = chosen or (offers[0] if offers else None)
        lead = chosen.lead_time_days if chosen is not None else TRANSFER_LEAD_DAYS
        wait = order_wait(today, chosen.order_days) if chosen is not None else 0
        cover = wait + lead + rule.review_period_days
        lvl = daily_level(location_id, product)
        level_row = levels.get((location_id, product))
        s = Suggestion(
            location_id=location_id,
            product_id=product,
            sku=skus[product],
            method=rule.method,
            alert_only=rule.alert_only,
            lead_time_days=lead,
            order_wait_days=wait,
            review_period_days=rule.review_period_days,
            daily_level=lvl,
            factors=factors[location_id],
            cover_exposure=cumulative[location_id][cover],
            safety_stock=rule.safety_stock,
            on_hand=level_row.on_hand if level_row else 0,
            reserved=level_row.reserved if level_row else 0,
            in_transit=level_row.in_transit if level_row else 0,
            open_purchase_orders=open_po.get(product, 0),
            transfers_not_shipped=inbound.get(product, 0),
            accepted_not_ordered=accepted.get(product, 0),
            target=0.0,
        )
        if rule.method == RuleMethod.MIN_MAX.value:
            low = s.position <= (rule.min_quantity or 0)
            s.target = float(rule.max_quantity or 0) if low else float(s.position)
        else:
            s.target = s.forecast_units + rule.safety_stock
            if rule.reorder_point is not None and s.position > rule.reorder_point:
                s.target = min(s.target, float(s.position))
        need = s.need
        if need > 0:
            donors = []
            for loc in locations:
                if loc == location_id:
                    continue
                row = levels.get((loc, product))
                if row is None:
                    continue
                target = daily_level(loc, product) * donor_factor[loc] + donor_safety.get(
                    (loc, product), 0
                )
                surplus = math.floor(
                    row.on_hand - row.reserved - owed.get((loc, product), 0) - target
                )
                if surplus > 0:
                    rank = 0 if loc == rule.source_location_id else 1 if region[loc] == here else 2
                    donors.append((rank, -surplus, loc, surplus))
            for _, _, loc, surplus in sorted(donors):
                take = min(need, surplus)
                s.transfers.append(Source(loc, take, surplus))
                need -= take
                if need == 0:
                    break
        if need > 0 and chosen is not None:
            s.purchase_needed = need
            s.supplier_id = chosen.supplier_id
            s.pack_size = chosen.pack_size
            s.min_order_quantity = chosen.min_order_quantity
            s.unit_cost = chosen.unit_cost
            s.min_order_value = chosen.min_order_value
            s.supplier_currency = chosen.currency
            s.purchase_quantity = round_purchase(need, chosen.pack_size, chosen.min_order_quantity)
        elif need > 0:
            s.purchase_needed = need
        if include_zero or s.quantity > 0 or s.purchase_needed > 0:
            out.append(s)
    return out


async def for_location(session: AsyncSession, caller: Caller, location_id: int) -> list[Suggestion]:
    """``suggest`` for a location of the caller's tenant (NOT_FOUND otherwise)."""
    location = await location_row(session, caller, location_id, ["locationId"])
    return await suggest(session, caller, location.id)
