"""Replenishment rules per SKU × location: set one or thousands at once, idempotently.

``set_rules`` is an upsert keyed by (location, SKU): sending the same rules
again changes nothing, so an integrator may resend a whole file after a
timeout. Each rule is checked before any is written (all or nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Row, Table, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from auth.permissions import Permission
from db.models import Location, ReplenishmentRule, Supplier
from domain.access import require
from domain.catalog.lookup import products_by_sku
from domain.errors import InvalidInput, NotFound
from domain.pagination import Page, make_page

RULES = cast(Table, ReplenishmentRule.__table__)
MAX_RULES = 5000
MAX_UNITS = 1_000_000


class RuleMethod(StrEnum):
    REORDER_POINT = "REORDER_POINT"
    MIN_MAX = "MIN_MAX"


@dataclass(frozen=True, slots=True)
class RuleLine:
    location_id: int | None
    sku: str
    method: RuleMethod = RuleMethod.REORDER_POINT
    min_quantity: int | None = None
    max_quantity: int | None = None
    reorder_point: int | None = None
    safety_stock: int = 0
    review_period_days: int = 7
    supplier_id: int | None = None
    source_location_id: int | None = None
    alert_only: bool = False


@dataclass(frozen=True, slots=True)
class SetRules:
    rules: tuple[RuleLine, ...]


@dataclass(frozen=True, slots=True)
class RulesSet:
    count: int
    changed: int


def _check(i: int, r: RuleLine) -> None:
    path = ["rules", str(i)]
    for name, value in (
        ("minQuantity", r.min_quantity),
        ("maxQuantity", r.max_quantity),
        ("reorderPoint", r.reorder_point),
        ("safetyStock", r.safety_stock),
    ):
        if value is not None and not 0 <= value <= MAX_UNITS:
            raise InvalidInput(f"{name} must be 0 to {MAX_UNITS}", [*path, name])
    if not 0 <= r.review_period_days <= 365:
        raise InvalidInput("reviewPeriodDays must be 0 to 365", [*path, "reviewPeriodDays"])
    if r.method is RuleMethod.MIN_MAX:
        if r.min_quantity is None or r.max_quantity is None:
            raise InvalidInput("MIN_MAX needs minQuantity and maxQuantity", [*path, "method"])
        if r.min_quantity > r.max_quantity:
            raise InvalidInput("minQuantity is above maxQuantity", [*path, "minQuantity"])
    if r.supplier_id is not None and r.source_location_id is not None:
        raise InvalidInput("a rule has one preferred source", [*path, "sourceLocationId"])
    if r.source_location_id is not None and r.source_location_id == r.location_id:
        raise InvalidInput("a location does not replenish itself", [*path, "sourceLocationId"])


async def set_rules(session: AsyncSession, caller: Caller, cmd: SetRules) -> RulesSet:
    if not 0 < len(cmd.rules) <= MAX_RULES:
        raise InvalidInput(f"1 to {MAX_RULES} rules", ["rules"])
    for i, r in enumerate(cmd.rules):
        _check(i, r)
    t = caller.tenant_id
    locations = {
        r.id
        for r in await session.execute(
            select(Location.id).where(
                Location.tenant_id == t,
                Location.id.in_(
                    {r.location_id for r in cmd.rules if r.location_id is not None}
                    | {r.source_location_id for r in cmd.rules if r.source_location_id is not None}
                ),
            )
        )
    }
    suppliers = {
        r.id
        for r in await session.execute(
            select(Supplier.id).where(
                Supplier.tenant_id == t,
                Supplier.id.in_({r.supplier_id for r in cmd.rules if r.supplier_id is not None}),
            )
        )
    }
    seen: set[tuple[int | None, str]] = set()
    for i, r in enumerate(cmd.rules):
        path = ["rules", str(i)]
        if r.location_id not in locations:
            raise NotFound("no such location", [*path, "locationId"])
        require(caller, Permission.STOCK_WRITE, r.location_id, [*path, "locationId"])
        if r.source_location_id is not None and r.source_location_id not in locations:
            raise NotFound("no such location", [*path, "sourceLocationId"])
        if r.supplier_id is not None and r.supplier_id not in suppliers:
            raise NotFound("no such supplier", [*path, "supplierId"])
        if (r.location_id, r.sku) in seen:
            raise InvalidInput("this location and SKU appear twice", [*path, "sku"])
        seen.add((r.location_id, r.sku))
    try:
        products = await products_by_sku(session, caller, [r.sku for r in cmd.rules])
    except NotFound as e:  # its path names "lines"; ours are "rules"
        raise NotFound(e.message, ["rules", *(e.field or [])[1:]]) from None
    rows = [
        {
            "tenant_id": t,
            "location_id": r.location_id,
            "product_id": products[r.sku].id,
            "method": r.method.value,
            "min_quantity": r.min_quantity,
            "max_quantity": r.max_quantity,
            "reorder_point": r.reorder_point,
            "safety_stock": r.safety_stock,
            "review_period_days": r.review_period_days,
            "source_supplier_id": r.supplier_id,
            "source_location_id": r.source_location_id,
            "alert_only": r.alert_only,
            "updated_at": datetime.now(UTC),
        }
        for r in cmd.rules
    ]
    rows.sort(key=lambda x: (x["location_id"], x["product_id"]))
    changed = 0
    for start in range(0, len(rows), 1000):
        stmt = pg_insert(RULES).values(rows[start : start + 1000])
        columns = [
            "method",
            "min_quantity",
            "max_quantity",
            "reorder_point",
            "safety_stock",
            "review_period_days",
            "source_supplier_id",
            "source_location_id",
            "alert_only",
        ]
        stmt = stmt.on_conflict_do_update(
            index_elements=["tenant_id", "location_id", "product_id"],
            set_={c: stmt.excluded[c] for c in [*columns, "updated_at"]},
            # unchanged rules are not rewritten: a resend is a no-op
            where=tuple_(*[RULES.c[c] for c in columns]).is_distinct_from(
                tuple_(*[stmt.excluded[c] for c in columns])
            ),
        )
        result = await session.execute(stmt.returning(RULES.c.product_id))
        changed += len(result.all())
    return RulesSet(count=len(rows), changed=changed)


async def list_rules(
    session: AsyncSession,
    caller: Caller,
    *,
    location_id: int | None,
    limit: int,
    after: tuple[int, int] | None,
) -> Page[Row[Any]]:
    stmt = select(RULES).where(RULES.c.tenant_id == caller.tenant_id)
    if location_id is not None:
        stmt = stmt.where(RULES.c.location_id == location_id)
    if after is not None:
        stmt = stmt.where(tuple_(RULES.c.location_id, RULES.c.product_id) > tuple_(*after))
    stmt = stmt.order_by(RULES.c.location_id, RULES.c.product_id).limit(limit + 1)
    rows = (await session.execute(stmt)).all()
    return make_page(rows, limit, after is not None)


async def count_rules(session: AsyncSession, caller: Caller, location_id: int | None) -> int:
    stmt = select(func.count()).select_from(RULES).where(RULES.c.tenant_id == caller.tenant_id)
    if location_id is not None:
        stmt = stmt.where(RULES.c.location_id == location_id)
    return int((await session.execute(stmt)).scalar_one())
