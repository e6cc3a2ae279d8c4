"""The demo's tills and synthetic settlements: the planted mismatches come out as planned."""

from __future__ import annotations

import random
from datetime import date

from auth.caller import Caller
from domain import demo_data as dd
from domain.demo_pos import DAYS, SALES_PER_STORE_DAY, load_pos
from domain.tenancy import service as tenancy
from tests.helpers import count_rows, ledger_mismatches


async def test_a_week_of_tills_and_settlements(db):
    products = dd.generate_products(random.Random(5), 40)
    async with db.owner_transaction() as session:
        tenant = await tenancy.create_tenant(session, "demo-pos-test", "Demo POS", "HKD")
        system = Caller.system(tenant.tenant_id)
        locations = {}
        for store in dd.STORES:
            locations[store.code] = await tenancy.create_location(
                session,
                system,
                tenancy.NewLocation(store.code, store.name_zh, store.name_en, "STORE"),
            )
        for p in products:
            await tenancy.create_product(
                session,
                system,
                tenancy.NewProduct(p.sku, p.name_zh, p.name_en, retail_price=p.price_hkd),
            )
        result = await load_pos(session, system, locations, products, date(2026, 12, 7))
    stores = sum(1 for s in dd.STORES if s.region == "HK")
    sales = stores * DAYS * SALES_PER_STORE_DAY
    assert result["pos_sales"] == sales
    alipay, octopus = result["settlements"]["ALIPAYHK"], result["settlements"]["OCTOPUS"]
    assert alipay == {
        "MATCHED": sales // 2 - 2,
        "AMOUNT_MISMATCH": 1,
        "MISSING_IN_SETTLEMENT": 1,
        "DUPLICATE": 1,
        "MISSING_IN_POS": 1,
    }
    assert octopus == {
        "MATCHED": sales // 2 - 2,
        "AMOUNT_MISMATCH": 1,
        "MISSING_IN_SETTLEMENT": 1,
        "DUPLICATE": 0,
        "MISSING_IN_POS": 1,
    }
    assert await count_rows(db, "pos_devices", tenant.tenant_id) == stores
    assert await ledger_mismatches(db, tenant.tenant_id) == []
