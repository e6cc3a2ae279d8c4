"""The demo chain's replenishment: suppliers for every SKU, rules for every store, one open
purchase order partly received, and a year of older sales so that Lunar New Year and the
Hong Kong and Macau holidays show in the forecast.

The older sales are daily store totals (the demand the main history would have had, with
its weekday, holiday and Lunar New Year pattern) booked on each store's best sellers,
received beforehand in one receipt each: on hand is unchanged by them.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from domain import demo_data as dd
from domain.approvals.service import Decision
from domain.purchasing import service as purchasing
from domain.replenishment import rules, suppliers
from domain.replenishment.calendar import lunar_new_year
from domain.stock.ledger import Posting, post
from domain.stock.records import MovementKind

SEED = 1207
BEST_SELLERS = 3
LEAD_IN_DAYS = 40  # older history starts this long before the last Lunar New Year

HEALTH = frozenset({"MASK", "COLD_FLU", "VITAMINS", "HEALTH_FOOD", "FIRST_AID"})
SUPPLIERS = (
    # code, zh, en, currency, lead time, order weekdays, minimum order value
    (
        "HKDIST",
        "港九美容日用品批發",
        "Kowloon Beauty and Household Wholesale",
        "HKD",
        2,
        (1, 3, 5),
        "800",
    ),
    ("HKHEALTH", "康健藥業", "Healthy Life Pharma Supply", "HKD", 3, (2, 4), "1500"),
    ("MODIST", "澳門聯合貿易", "Macau United Trading", "MOP", 3, (2, 5), "1000"),
)


def _pack(product: dd.DemoProduct) -> int:
    return 12 if product.daily_demand > 0.2 else 6 if product.daily_demand > 0.08 else 1


async def load_replenishment(
    session: AsyncSession,
    tenant_id: int,
    products: Sequence[dd.DemoProduct],
    product_id: Mapping[str, int],
    location_id: Mapping[str, int],
    history_start: date,
) -> dict[str, int]:
    """Add the replenishment part of the demo to a freshly loaded chain (owner session)."""
    rng = random.Random(SEED)
    system = Caller.system(tenant_id)
    supplier_ids = {}
    for code, zh, en, currency, lead, days, mov in SUPPLIERS:
        row = await suppliers.create_supplier(
            session,
            system,
            suppliers.SupplierFields(code, zh, en, currency, lead, days, Decimal(mov)),
        )
        supplier_ids[code] = row.id
    health = HEALTH
    for code in supplier_ids:
        lines = []
        for p in products:
            if code == "HKHEALTH" and p.category not in health:
                continue
            if code == "HKDIST" and p.category in health:
                continue
            factor = Decimal("1.00") if code != "MODIST" else Decimal("1.04")
            lines.append(
                suppliers.SupplierProductLine(
                    p.sku,
                    (p.cost_hkd * factor).quantize(Decimal("0.0001")),
                    f"{code}-{p.sku}",
                    _pack(p),
                    _pack(p),
                )
            )
        await suppliers.set_supplier_products(
            session, system, suppliers.SetSupplierProducts(supplier_ids[code], tuple(lines))
        )
    rule_lines = []
    for store in dd.STORES:
        for p in products:
            preferred = (
                "MODIST"
                if store.region == "MO"
                else "HKHEALTH"
                if p.category in health
                else "HKDIST"
            )
            rule_lines.append(
                rules.RuleLine(
                    location_id[store.code],
                    p.sku,
                    safety_stock=max(1, math.ceil(p.daily_demand * 3)),
                    review_period_days=7,
                    supplier_id=supplier_ids[preferred],
                )
            )
    count = 0
    for start in range(0, len(rule_lines), rules.MAX_RULES):
        chunk = tuple(rule_lines[start : start + rules.MAX_RULES])
        count += (await rules.set_rules(session, system, rules.SetRules(chunk))).count
    older = await _older_history(
        session, system, rng, products, product_id, location_id, history_start
    )
    order = await _open_order(
        session, system, products, location_id, supplier_ids["HKDIST"], product_id
    )
    return {
        "suppliers": len(supplier_ids),
        "rules": count,
        "olderSales": older,
        "purchaseOrder": order,
    }


async def _older_history(
    session: AsyncSession,
    system: Caller,
    rng: random.Random,
    products: Sequence[dd.DemoProduct],
    product_id: Mapping[str, int],
    location_id: Mapping[str, int],
    history_start: date,
) -> int:
    lny = lunar_new_year(history_start.year)
    if lny >= history_start:
        lny = lunar_new_year(history_start.year - 1)
    first = lny - timedelta(days=LEAD_IN_DAYS)
    best = sorted(products, key=lambda p: -p.daily_demand)[:BEST_SELLERS]
    weights = [p.daily_demand for p in best]
    chain_demand = sum(p.daily_demand for p in products)
    sold: dict[tuple[str, str], int] = defaultdict(int)
    postings: list[Posting] = []
    day = first
    while day < history_start:
        for store in dd.STORES:
            mean = chain_demand * dd.store_size_factor(store) * dd.demand_factor(day, store.region)
            units = max(0, round(rng.gauss(mean, math.sqrt(mean))))
            split: dict[str, int] = defaultdict(int)
            for p in rng.choices(best, weights, k=units):
                split[p.sku] += 1
            at = datetime.combine(day, time(15, 0), dd.HKT).astimezone(UTC)
            for sku, qty in sorted(split.items()):
                sold[(store.code, sku)] += qty
                postings.append(
                    Posting(
                        location_id[store.code],
                        product_id[sku],
                        MovementKind.SALE,
                        -qty,
                        reference="DEMO-HISTORY",
                        occurred_at=at,
                        allow_negative=True,
                    )
                )
        day += timedelta(days=1)
    received_at = datetime.combine(first - timedelta(days=1), time(9, 0), dd.HKT)
    receipts = [
        Posting(
            location_id[store],
            product_id[sku],
            MovementKind.RECEIPT,
            qty,
            reference="DEMO-HISTORY",
            occurred_at=received_at,
        )
        for (store, sku), qty in sorted(sold.items())
    ]
    await post(session, system, receipts)
    for start in range(0, len(postings), 2000):
        await post(session, system, postings[start : start + 2000])
    return len(postings)


async def _open_order(
    session: AsyncSession,
    system: Caller,
    products: Sequence[dd.DemoProduct],
    location_id: Mapping[str, int],
    supplier: int,
    product_id: Mapping[str, int],
) -> int:
    """Mong Kok's order from the general wholesaler: sent, and half of it received."""
    picks = [p for p in products if p.category not in HEALTH][:6]
    draft = await purchasing.create_draft(
        session,
        system,
        purchasing.CreateDraft(
            supplier,
            location_id["MK"],
            tuple(
                purchasing.DraftLine(product_id[p.sku], _pack(p) * 2, p.cost_hkd, f"HKDIST-{p.sku}")
                for p in picks
            ),
            note="Weekly top-up",
        ),
    )
    oid = draft.order.id
    step = purchasing.TransitionPurchaseOrder(oid)
    await purchasing.submit(session, system, step)
    await purchasing.decide(session, system, step, Decision.APPROVE)
    await purchasing.send(session, system, step)
    await purchasing.receive(
        session,
        system,
        purchasing.ReceivePurchaseOrder(
            oid, tuple(purchasing.ReceiveLine(p.sku, _pack(p) * 2) for p in picks[:3])
        ),
    )
    return int(oid)
