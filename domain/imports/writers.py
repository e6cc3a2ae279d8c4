"""Writing checked rows, one batch at a time, each kind the way its own API writes it.

Suppliers, supplier products and replenishment rules go through the same domain
functions as createSupplier's table, setSupplierProducts and setReplenishmentRules;
opening stock through the ledger; members one by one (each gets its keys).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from db.models import Product, Supplier
from domain.imports.columns import ImportKind
from domain.imports.validation import Catalogue
from domain.members.service import CreateMember, create_member
from domain.replenishment import rules, suppliers
from domain.stock.ledger import Posting, post
from domain.stock.records import MovementKind

_REORDER = text(
    """
    INSERT INTO stock_levels (tenant_id, location_id, product_id, reorder_point)
    SELECT :tenant, r.location_id, r.product_id, r.point
    FROM unnest(CAST(:locations AS bigint[]), CAST(:products AS bigint[]),
                CAST(:points AS integer[])) AS r(location_id, product_id, point)
    ORDER BY r.location_id, r.product_id
    ON CONFLICT (tenant_id, location_id, product_id)
    DO UPDATE SET reorder_point = EXCLUDED.reorder_point, updated_at = now()
    """
)


async def write_batch(
    session: AsyncSession,
    caller: Caller,
    kind: ImportKind,
    master: bytes | None,
    catalogue: Catalogue,
    batch: list[dict[str, Any]],
) -> int:
    """Write checked rows of one kind; returns how many. Never commits."""
    tenant = caller.tenant_id
    if kind is ImportKind.PRODUCTS:
        await session.execute(
            insert(Product),
            [
                {
                    "tenant_id": tenant,
                    "sku": v["sku"],
                    "barcode": v["barcode"],
                    "name_zh": v["name_zh"],
                    "name_en": v["name_en"],
                    "category": v["category"],
                    "retail_price": v["price"],
                    "cost_price": v["cost"],
                }
                for v in batch
            ],
        )
    elif kind is ImportKind.SUPPLIERS:
        now = datetime.now(UTC)
        await session.execute(
            insert(Supplier),
            [
                {
                    "tenant_id": tenant,
                    "code": v["code"],
                    "name_zh": v["name_zh"],
                    "name_en": v["name_en"],
                    "currency": v["currency"] or "HKD",
                    "lead_time_days": v["lead_time_days"] if v["lead_time_days"] is not None else 2,
                    "order_days": list(v["order_days"] or (1, 2, 3, 4, 5)),
                    "min_order_value": v["min_order_value"] or Decimal(0),
                    "active": True,
                    "version": 1,
                    "updated_at": now,
                }
                for v in batch
            ],
        )
    elif kind is ImportKind.SUPPLIER_PRODUCTS:
        by_supplier: dict[str, list[dict[str, Any]]] = {}
        for v in batch:
            by_supplier.setdefault(v["supplier"], []).append(v)
        for code, lines in by_supplier.items():
            await suppliers.set_supplier_products(
                session,
                caller,
                suppliers.SetSupplierProducts(
                    catalogue.suppliers[code],
                    tuple(
                        suppliers.SupplierProductLine(
                            sku=v["sku"],
                            unit_cost=v["unit_cost"],
                            supplier_sku=v["supplier_sku"],
                            pack_size=v["pack_size"] or 1,
                            min_order_quantity=v["min_order_quantity"] or 1,
                        )
                        for v in lines
                    ),
                ),
            )
    elif kind is ImportKind.OPENING_STOCK:
        postings = [
            Posting(
                location_id=catalogue.locations[v["location"]],
                product_id=catalogue.products[v["sku"]],
                kind=MovementKind.OPENING,
                delta=v["quantity"],
                reason="OPENING",
                reference="import",
                unit_cost=v["unit_cost"],
            )
            for v in batch
        ]
        await post(session, caller, postings)
    elif kind is ImportKind.MEMBERS:
        assert master is not None
        for v in batch:  # one at a time: each member gets keys and a blind phone index
            home = v["home_location"]
            member = CreateMember(
                name=v["name"],
                phone=v["phone"],
                email=v["email"],
                birthday=v["birthday"],
                home_location_id=catalogue.locations[home] if home is not None else None,
                tier=v["tier"],
            )
            await create_member(session, caller, master, member)
    elif kind is ImportKind.REPLENISHMENT_RULES:
        await rules.set_rules(
            session,
            caller,
            rules.SetRules(
                tuple(
                    rules.RuleLine(
                        location_id=catalogue.locations[v["location"]],
                        sku=v["sku"],
                        method=rules.RuleMethod(v["method"] or "REORDER_POINT"),
                        min_quantity=v["min_quantity"],
                        max_quantity=v["max_quantity"],
                        reorder_point=v["reorder_point"],
                        safety_stock=v["safety_stock"] or 0,
                        review_period_days=(
                            v["review_period_days"] if v["review_period_days"] is not None else 7
                        ),
                        supplier_id=catalogue.suppliers[v["supplier"]] if v["supplier"] else None,
                        source_location_id=(
                            catalogue.locations[v["source_location"]]
                            if v["source_location"]
                            else None
                        ),
                    )
                    for v in batch
                )
            ),
        )
        await session.execute(
            _REORDER,
            {
                "tenant": tenant,
                "locations": [catalogue.locations[v["location"]] for v in batch],
                "products": [catalogue.products[v["sku"]] for v in batch],
                "points": [v["reorder_point"] for v in batch],
            },
        )
    return len(batch)
