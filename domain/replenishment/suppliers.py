"""Suppliers and what they sell: create, update, set products (an upsert, so repeatable)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Row, Table, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from auth.permissions import Permission
from db.models import Supplier, SupplierProduct
from domain.access import require
from domain.catalog.lookup import products_by_sku
from domain.errors import AlreadyExists, InvalidInput, NotFound
from domain.pagination import Page, make_page

SUP = cast(Table, Supplier.__table__)
SP = cast(Table, SupplierProduct.__table__)
CURRENCIES = ("HKD", "MOP")
MAX_PRODUCTS = 5000
MAX_LEAD_TIME = 365
MONEY_LIMIT = Decimal("1000000000000")


@dataclass(frozen=True, slots=True)
class SupplierFields:
    code: str | None = None
    name_zh: str | None = None
    name_en: str | None = None
    currency: str | None = None
    lead_time_days: int | None = None
    order_days: tuple[int, ...] | None = None  # ISO weekdays, 1 = Monday
    min_order_value: Decimal | None = None
    active: bool | None = None


@dataclass(frozen=True, slots=True)
class UpdateSupplier:
    id: int | None
    fields: SupplierFields


@dataclass(frozen=True, slots=True)
class SupplierProductLine:
    sku: str
    unit_cost: Decimal
    supplier_sku: str | None = None
    pack_size: int = 1
    min_order_quantity: int = 1


@dataclass(frozen=True, slots=True)
class SetSupplierProducts:
    supplier_id: int | None
    products: tuple[SupplierProductLine, ...]


def _require(caller: Caller) -> None:
    """Suppliers carry costs: managing them takes costs:read and stock:write."""
    require(caller, Permission.COSTS_READ)
    require(caller, Permission.STOCK_WRITE)


def _check(f: SupplierFields, creating: bool) -> None:
    for name, value, limit in (
        ("code", f.code, 64),
        ("nameZh", f.name_zh, 200),
        ("nameEn", f.name_en, 200),
    ):
        if value is None and creating:
            raise InvalidInput(f"{name} is required", [name])
        if value is not None and not 0 < len(value.strip()) <= limit:
            raise InvalidInput(f"{name} takes 1 to {limit} characters", [name])
    if f.currency is not None and f.currency not in CURRENCIES:
        raise InvalidInput("currency must be HKD or MOP", ["currency"])
    if f.lead_time_days is not None and not 0 <= f.lead_time_days <= MAX_LEAD_TIME:
        raise InvalidInput(f"leadTimeDays must be 0 to {MAX_LEAD_TIME}", ["leadTimeDays"])
    if f.order_days is not None and len(set(f.order_days)) != len(f.order_days):
        raise InvalidInput("orderDays lists a day twice", ["orderDays"])
    if f.min_order_value is not None and not Decimal(0) <= f.min_order_value < MONEY_LIMIT:
        raise InvalidInput("minOrderValue must be 0 or more", ["minOrderValue"])


async def create_supplier(session: AsyncSession, caller: Caller, f: SupplierFields) -> Row[Any]:
    _require(caller)
    _check(f, creating=True)
    exists = (
        await session.execute(
            select(SUP.c.id).where(SUP.c.tenant_id == caller.tenant_id, SUP.c.code == f.code)
        )
    ).first()
    if exists is not None:
        raise AlreadyExists("a supplier with this code exists", ["code"])
    return (
        await session.execute(
            insert(SUP)
            .values(
                tenant_id=caller.tenant_id,
                code=f.code,
                name_zh=f.name_zh,
                name_en=f.name_en,
                currency=f.currency or "HKD",
                lead_time_days=f.lead_time_days if f.lead_time_days is not None else 2,
                order_days=sorted(f.order_days or (1, 2, 3, 4, 5)),
                min_order_value=f.min_order_value or Decimal(0),
                active=True if f.active is None else f.active,
                version=1,
                updated_at=datetime.now(UTC),
            )
            .returning(SUP)
        )
    ).one()


async def update_supplier(session: AsyncSession, caller: Caller, cmd: UpdateSupplier) -> Row[Any]:
    _require(caller)
    _check(cmd.fields, creating=False)
    f = cmd.fields
    values: dict[str, Any] = {
        k: v
        for k, v in (
            ("code", f.code),
            ("name_zh", f.name_zh),
            ("name_en", f.name_en),
            ("currency", f.currency),
            ("lead_time_days", f.lead_time_days),
            ("order_days", sorted(f.order_days) if f.order_days is not None else None),
            ("min_order_value", f.min_order_value),
            ("active", f.active),
        )
        if v is not None
    }
    if f.code is not None:
        clash = (
            await session.execute(
                select(SUP.c.id).where(
                    SUP.c.tenant_id == caller.tenant_id, SUP.c.code == f.code, SUP.c.id != cmd.id
                )
            )
        ).first()
        if clash is not None:
            raise AlreadyExists("a supplier with this code exists", ["code"])
    row = None
    if cmd.id is not None:
        row = (
            await session.execute(
                update(SUP)
                .where(SUP.c.tenant_id == caller.tenant_id, SUP.c.id == cmd.id)
                .values(version=SUP.c.version + 1, updated_at=datetime.now(UTC), **values)
                .returning(SUP)
            )
        ).first()
    if row is None:
        raise NotFound("no such supplier", ["id"])
    return row


async def supplier_row(session: AsyncSession, caller: Caller, supplier_id: int | None) -> Row[Any]:
    row = None
    if supplier_id is not None:
        row = (
            await session.execute(
                select(SUP).where(SUP.c.tenant_id == caller.tenant_id, SUP.c.id == supplier_id)
            )
        ).first()
    if row is None:
        raise NotFound("no such supplier", ["supplierId"])
    return row


async def set_supplier_products(
    session: AsyncSession, caller: Caller, cmd: SetSupplierProducts
) -> int:
    """Adds or replaces each line (by SKU); products not listed are left alone."""
    _require(caller)
    supplier = await supplier_row(session, caller, cmd.supplier_id)
    if not 0 < len(cmd.products) <= MAX_PRODUCTS:
        raise InvalidInput(f"1 to {MAX_PRODUCTS} products", ["products"])
    seen: set[str] = set()
    for i, ln in enumerate(cmd.products):
        path = ["products", str(i)]
        if ln.sku in seen:
            raise InvalidInput(f"SKU {ln.sku!r} appears twice", [*path, "sku"])
        seen.add(ln.sku)
        if not Decimal(0) <= ln.unit_cost < MONEY_LIMIT:
            raise InvalidInput("unitCost must be 0 or more", [*path, "unitCost"])
        if not 0 < ln.pack_size <= 100_000:
            raise InvalidInput("packSize must be 1 to 100000", [*path, "packSize"])
        if not 0 < ln.min_order_quantity <= 1_000_000:
            raise InvalidInput("minOrderQuantity must be 1 to 1000000", [*path, "minOrderQuantity"])
        if ln.supplier_sku is not None and len(ln.supplier_sku) > 64:
            raise InvalidInput("supplierSku takes at most 64 characters", [*path, "supplierSku"])
    products = await products_by_sku(session, caller, [ln.sku for ln in cmd.products], lines=False)
    now = datetime.now(UTC)
    stmt = pg_insert(SP).values(
        [
            {
                "tenant_id": caller.tenant_id,
                "supplier_id": supplier.id,
                "product_id": products[ln.sku].id,
                "supplier_sku": ln.supplier_sku,
                "unit_cost": ln.unit_cost,
                "pack_size": ln.pack_size,
                "min_order_quantity": ln.min_order_quantity,
                "updated_at": now,
            }
            for ln in sorted(cmd.products, key=lambda x: products[x.sku].id)
        ]
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["tenant_id", "supplier_id", "product_id"],
        set_={
            "supplier_sku": stmt.excluded.supplier_sku,
            "unit_cost": stmt.excluded.unit_cost,
            "pack_size": stmt.excluded.pack_size,
            "min_order_quantity": stmt.excluded.min_order_quantity,
            "updated_at": stmt.excluded.updated_at,
        },
    )
    await session.execute(stmt)
    return len(cmd.products)


async def list_suppliers(
    session: AsyncSession, caller: Caller, *, limit: int, after: int | None
) -> Page[Row[Any]]:
    stmt = select(SUP).where(SUP.c.tenant_id == caller.tenant_id)
    if after is not None:
        stmt = stmt.where(SUP.c.id > after)
    rows = (await session.execute(stmt.order_by(SUP.c.id).limit(limit + 1))).all()
    return make_page(rows, limit, after is not None)


async def count_suppliers(session: AsyncSession, caller: Caller) -> int:
    stmt = select(func.count()).select_from(SUP).where(SUP.c.tenant_id == caller.tenant_id)
    return int((await session.execute(stmt)).scalar_one())


async def list_supplier_products(
    session: AsyncSession, caller: Caller, supplier_id: int, *, limit: int, after: int | None
) -> Page[Row[Any]]:
    stmt = select(SP).where(SP.c.tenant_id == caller.tenant_id, SP.c.supplier_id == supplier_id)
    if after is not None:
        stmt = stmt.where(SP.c.product_id > after)
    rows = (await session.execute(stmt.order_by(SP.c.product_id).limit(limit + 1))).all()
    return make_page(rows, limit, after is not None)
