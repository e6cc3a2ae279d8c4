"""Loading the demo chain into the database: through the ledger, like real data.

Opening stock is received the day before the history starts; then every day's
receipts of every store are posted as sales, in time order. Levels therefore
equal the sum of the ledger, and the audit chain records each step.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from db.models import Location, Product, Sale, Tenant
from db.session import set_tenant
from domain import demo_data as dd
from domain import demo_members, demo_pos, ids
from domain.audit.service import AuditEntry, append
from domain.demo_replenishment import load_replenishment
from domain.stock.ledger import Posting, post
from domain.stock.records import MovementKind
from domain.tenancy import service as tenancy

HISTORY_DAYS = 90
MEMBER_SHARE = 0.2  # of receipts, made by a member
SEED = 20261129
FIXED_STEPS = 5  # people, opening stock, sales begun, replenishment, done

Progress = Callable[[str, int, int], None]
"""Told (what is being loaded, steps done, steps in all) as the load advances."""


@dataclass(frozen=True, slots=True)
class DemoResult:
    tenant: str
    tenant_id: int
    clients: list[dict[str, Any]]
    staff: list[dict[str, Any]]
    products: int
    locations: int
    sales: int
    movements: int
    members: int = 0


async def demo_exists(session: AsyncSession) -> bool:
    found = await session.execute(select(Tenant.tenant_id).where(Tenant.code == dd.TENANT_CODE))
    return found.first() is not None


async def load_demo(
    session: AsyncSession,
    today: date | None = None,
    days: int = HISTORY_DAYS,
    product_count: int = 520,
    master: bytes | None = None,
    progress: Progress | None = None,
) -> DemoResult:
    """Create the demo tenant with ``days`` of history ending yesterday (owner session).

    ``progress`` lets a command line show a bar: the load takes a minute or two."""
    total = days + FIXED_STEPS
    done = 0

    def step(label: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(label, done, total)

    if progress is not None:
        progress("catalog", 0, total)
    rng = random.Random(SEED)
    today = today or datetime.now(dd.HKT).date()
    start = today - timedelta(days=days)
    tenant = await tenancy.create_tenant(
        session,
        dd.TENANT_CODE,
        f"{dd.TENANT_NAME_ZH} {dd.TENANT_NAME_EN}",
        dd.CURRENCY,
        dd.TIMEZONE,
    )
    tid = tenant.tenant_id
    await set_tenant(session, tid)
    system = Caller.system(tid)

    loc_rows = (
        await session.execute(
            insert(Location).returning(Location.code, Location.id),
            [
                {
                    "tenant_id": tid,
                    "code": loc.code,
                    "name_zh": loc.name_zh,
                    "name_en": loc.name_en,
                    "kind": loc.kind,
                    "region": loc.region,
                }
                for loc in dd.LOCATIONS
            ],
        )
    ).all()
    location_id = {r.code: r.id for r in loc_rows}

    products = dd.generate_products(rng, product_count)
    prod_rows = (
        await session.execute(
            insert(Product).returning(Product.sku, Product.id),
            [
                {
                    "tenant_id": tid,
                    "sku": p.sku,
                    "barcode": p.barcode,
                    "name_zh": p.name_zh,
                    "name_en": p.name_en,
                    "category": p.category,
                    "retail_price": p.price_hkd,
                    "retail_price_mop": p.price_mop,
                    "cost_price": p.cost_hkd,
                }
                for p in products
            ],
        )
    ).all()
    product_id = {r.sku: r.id for r in prod_rows}
    await append(
        session,
        system,
        AuditEntry(
            "demo.catalog",
            "Tenant",
            ids.encode("Tenant", tid),
            None,
            {"locations": len(loc_rows), "products": len(prod_rows)},
        ),
    )

    step("staff, partner apps and members")
    staff_out = []
    for member in dd.STAFF:
        staff_pk = await tenancy.create_staff(
            session, system, member.code, member.name, member.role, list(member.location_codes)
        )
        staff_out.append(
            {
                "code": member.code,
                "name": member.name,
                "role": member.role,
                "id": staff_pk,
                "locations": list(member.location_codes),
            }
        )
    clients_out = []
    for app in dd.APPS:
        creds = await tenancy.create_client(
            session,
            system,
            app.name,
            app.scopes,
            list(app.location_codes) if app.location_codes is not None else None,
        )
        clients_out.append(
            {
                "name": app.name,
                "client_id": creds.client_id,
                "client_secret": creds.client_secret,
                "scopes": app.scopes,
            }
        )

    member_ids: list[int] = []
    if master is not None:
        stores = {loc.code: location_id[loc.code] for loc in dd.STORES}
        member_ids = await demo_members.create_members(session, tid, master, stores, rng)
        await append(
            session,
            system,
            AuditEntry(
                "demo.members",
                "Tenant",
                ids.encode("Tenant", tid),
                None,
                {"members": len(member_ids)},
            ),
        )
    # A few loyal regulars and a long tail of occasional shoppers.
    member_weights = [1 / (rank + 1) ** 1.1 for rank in range(len(member_ids))]
    step("opening stock")
    opening_at = datetime.combine(start - timedelta(days=1), time(9, 0), dd.HKT)
    opening = [
        Posting(
            location_id[loc.code],
            product_id[p.sku],
            MovementKind.RECEIPT,
            qty,
            reference=f"OPENING-{loc.code}",
            unit_cost=p.cost_hkd,
            occurred_at=opening_at,
        )
        for loc in dd.LOCATIONS
        for p in products
        if (qty := dd.opening_quantity(p, loc, days)) > 0
    ]
    movements = len(opening)
    await post(session, system, opening)
    await append(
        session,
        system,
        AuditEntry(
            "demo.opening_stock", "Tenant", ids.encode("Tenant", tid), None, {"lines": len(opening)}
        ),
    )

    step(f"{days} days of sales")
    sales = 0
    by_day: dict[date, list[dd.DemoSale]] = defaultdict(list)
    for sale in dd.generate_sales(rng, products, start, days, dd.STORES):
        by_day[sale.occurred_at.date()].append(sale)
    for day in sorted(by_day):
        day_sales = by_day[day]
        sale_ids = (
            (
                await session.execute(
                    insert(Sale).returning(Sale.id),
                    [
                        {
                            "tenant_id": tid,
                            "location_id": location_id[s.store_code],
                            "receipt_number": s.receipt_number,
                            "occurred_at": s.occurred_at,
                            "currency": "MOP" if s.store_code.startswith("MO-") else "HKD",
                            "total": sum((ln.unit_price * ln.quantity for ln in s.lines), start=0),
                            "payments": [],
                            "member_id": rng.choices(member_ids, member_weights)[0]
                            if member_ids and rng.random() < MEMBER_SHARE
                            else None,
                            "oversold": False,
                        }
                        for s in day_sales
                    ],
                )
            )
            .scalars()
            .all()
        )
        postings = [
            Posting(
                location_id[s.store_code],
                product_id[ln.sku],
                MovementKind.SALE,
                -ln.quantity,
                reference=s.receipt_number,
                unit_price=ln.unit_price,
                sale_id=sid,
                occurred_at=s.occurred_at,
                allow_negative=True,
            )
            for s, sid in zip(day_sales, sale_ids, strict=True)
            for ln in s.lines
        ]
        change = await post(session, system, postings)
        oversold = {m.sale_id for m in change.movements if m.oversell}
        if oversold:
            await session.execute(
                text("UPDATE sales SET oversold = true WHERE tenant_id = :t AND id = ANY(:ids)"),
                {"t": tid, "ids": list(oversold)},
            )
        sales += len(day_sales)
        movements += len(postings)
        await append(
            session,
            system,
            AuditEntry(
                "demo.sales",
                "Tenant",
                ids.encode("Tenant", tid),
                None,
                {"day": day.isoformat(), "receipts": len(day_sales), "lines": len(postings)},
            ),
        )
        step(f"sales up to {day.isoformat()}")

    await demo_pos.load_pos(session, system, location_id, products, today)
    for loc in dd.LOCATIONS:
        points = [(product_id[p.sku], dd.reorder_point(p, loc)) for p in products]
        await session.execute(
            text("""
                UPDATE stock_levels s SET reorder_point = r.point
                FROM unnest(CAST(:products AS bigint[]), CAST(:points AS integer[]))
                     AS r(pid, point)
                WHERE s.tenant_id = :t AND s.location_id = :loc AND s.product_id = r.pid
                  AND r.point > 0
            """),
            {
                "t": tid,
                "loc": location_id[loc.code],
                "products": [p for p, _ in points],
                "points": [q for _, q in points],
            },
        )
    step("suppliers and purchase history")
    await load_replenishment(session, tid, products, product_id, location_id, start)
    if member_ids:
        await demo_members.tag_members(session, tid, datetime.now(dd.HKT))
    step("done")
    return DemoResult(
        tenant=dd.TENANT_CODE,
        tenant_id=tid,
        clients=clients_out,
        staff=staff_out,
        products=len(products),
        locations=len(loc_rows),
        sales=sales,
        movements=movements,
        members=len(member_ids),
    )
