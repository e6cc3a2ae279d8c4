"""The demo chain generator: deterministic, realistic enough to demo, fast."""

from __future__ import annotations

import datetime as dt
import random
import re
import time
from collections import Counter, defaultdict
from decimal import ROUND_HALF_UP, Decimal

import pytest

from domain.demo_data import (
    APPS,
    LOCATIONS,
    STAFF,
    STORES,
    DemoLocation,
    DemoProduct,
    DemoSale,
    demand_factor,
    ean13_check_digit,
    generate_products,
    generate_sales,
    is_deliberately_low,
    lunar_new_year,
    opening_quantity,
    reorder_point,
    store_size_factor,
)

CJK = re.compile(r"[\u4e00-\u9fff]")
START = dt.date(2026, 9, 1)
DAYS = 90
HKT_OFFSET = dt.timedelta(hours=8)


@pytest.fixture(scope="module")
def products() -> list[DemoProduct]:
    return generate_products(random.Random(42))


@pytest.fixture(scope="module")
def sales(products: list[DemoProduct]) -> list[DemoSale]:
    return list(generate_sales(random.Random(7), products, START, DAYS, STORES))


def _loc(code: str) -> DemoLocation:
    return next(loc for loc in LOCATIONS if loc.code == code)


def _ean13_ok(code: str) -> bool:
    """Independent of the module's helper, so a shared bug cannot hide."""
    digits = [int(c) for c in code]
    return sum(d * w for d, w in zip(digits, [1, 3] * 6 + [1], strict=True)) % 10 == 0


# --------------------------------------------------------------------------- products


def test_same_seed_same_chain_different_seed_different_chain() -> None:
    a = generate_products(random.Random(1))
    b = generate_products(random.Random(1))
    c = generate_products(random.Random(2))
    assert a == b
    assert a != c
    sales_a = list(generate_sales(random.Random(3), a, START, 5, STORES))
    sales_b = list(generate_sales(random.Random(3), b, START, 5, STORES))
    assert sales_a == sales_b
    assert sales_a != list(generate_sales(random.Random(4), a, START, 5, STORES))


def test_catalogue_size_and_uniqueness(products: list[DemoProduct]) -> None:
    assert len(products) == 520
    assert len({p.sku for p in products}) == len(products)
    assert len({p.barcode for p in products}) == len(products)
    assert len({p.name_en for p in products}) == len(products)
    assert all(re.fullmatch(r"[A-Z]{3}-\d{4}", p.sku) for p in products)
    assert len(generate_products(random.Random(5), count=50)) == 50
    with pytest.raises(ValueError):
        generate_products(random.Random(5), count=100_000)


def test_barcodes_are_valid_hong_kong_ean13(products: list[DemoProduct]) -> None:
    assert ean13_check_digit("400638133393") == 1  # a published EAN-13: 4006381333931
    assert _ean13_ok("4006381333931")
    for p in products:
        assert len(p.barcode) == 13 and p.barcode.isdigit(), p
        assert p.barcode.startswith("489"), p
        assert _ean13_ok(p.barcode), p


def test_names_are_bilingual(products: list[DemoProduct]) -> None:
    for p in products:
        assert CJK.search(p.name_zh), p
        assert p.name_en.strip() and re.search(r"[A-Za-z]{3}", p.name_en), p
        assert not CJK.search(p.name_en), p


def test_every_category_is_stocked(products: list[DemoProduct]) -> None:
    per_category = Counter(p.category for p in products)
    assert set(per_category) == {
        "MASK",
        "COLD_FLU",
        "VITAMINS",
        "SKINCARE",
        "COSMETICS",
        "PERSONAL_CARE",
        "BABY",
        "HEALTH_FOOD",
        "FIRST_AID",
    }
    assert min(per_category.values()) >= 20


def test_prices_are_two_place_decimals_with_a_margin(products: list[DemoProduct]) -> None:
    for p in products:
        for amount in (p.price_hkd, p.price_mop, p.cost_hkd):
            assert isinstance(amount, Decimal)
            assert amount.as_tuple().exponent == -2, p
        assert Decimal("5") <= p.price_hkd <= Decimal("2000"), p
        assert p.price_hkd % 1 in {Decimal("0.90"), Decimal("0.50"), Decimal("0.00")}, p
        assert Decimal("0") < p.cost_hkd < p.price_hkd, p
        assert p.price_hkd * Decimal("0.39") <= p.cost_hkd <= p.price_hkd * Decimal("0.71"), p
        expected_mop = (p.price_hkd * Decimal("1.03")).quantize(Decimal("0.1"), ROUND_HALF_UP)
        assert p.price_mop == expected_mop, p


def test_category_price_ranges_are_sensible(products: list[DemoProduct]) -> None:
    def median(category: str) -> Decimal:
        prices = sorted(p.price_hkd for p in products if p.category == category)
        return prices[len(prices) // 2]

    assert median("FIRST_AID") < median("VITAMINS") < median("HEALTH_FOOD")
    assert median("PERSONAL_CARE") < median("SKINCARE")


def test_daily_demand_is_long_tailed_and_masks_sell_fastest(
    products: list[DemoProduct],
) -> None:
    demand = sorted(p.daily_demand for p in products)
    assert demand[0] > 0
    assert demand[-1] > 10 * demand[len(demand) // 2]  # a long tail of slow sellers

    def mean(category: str) -> float:
        values = [p.daily_demand for p in products if p.category == category]
        return sum(values) / len(values)

    for slow in ("SKINCARE", "COSMETICS", "VITAMINS", "HEALTH_FOOD"):
        assert mean("MASK") > 3 * mean(slow)
        assert mean("COLD_FLU") > mean(slow)


# --------------------------------------------------------------------------- chain


def test_locations() -> None:
    expected = {
        "KC-WH": ("CENTRAL_WAREHOUSE", "HK"),
        "MK": ("STORE", "HK"),
        "CWB": ("STORE", "HK"),
        "TST": ("STORE", "HK"),
        "ST": ("STORE", "HK"),
        "MO-SEN": ("STORE", "MO"),
        "MO-TPA": ("STORE", "MO"),
        "WC-POP": ("TEMPORARY_WAREHOUSE", "HK"),
    }
    by_code = {loc.code: loc for loc in LOCATIONS}
    assert len(by_code) == len(LOCATIONS)
    for code, (kind, region) in expected.items():
        assert (by_code[code].kind, by_code[code].region) == (kind, region)
        assert CJK.search(by_code[code].name_zh) and by_code[code].name_en
    assert {s.code for s in STORES} == {"MK", "CWB", "TST", "ST", "MO-SEN", "MO-TPA"}


def test_staff_ranks_and_coverage() -> None:
    assert {s.role for s in STAFF} == {
        "OWNER",
        "REGIONAL_MANAGER",
        "STORE_MANAGER",
        "PURCHASER",
        "CLERK",
        "AUDITOR",
    }
    assert len({s.code for s in STAFF}) == len(STAFF)
    codes = {loc.code for loc in LOCATIONS}
    assert all(s.location_codes and set(s.location_codes) <= codes for s in STAFF)
    for store in STORES:
        roles_here = Counter(s.role for s in STAFF if store.code in s.location_codes)
        assert roles_here["STORE_MANAGER"] == 1, store.code
        assert roles_here["CLERK"] >= 1, store.code
    regional = [s for s in STAFF if s.role == "REGIONAL_MANAGER"]
    regions = {_loc(s.location_codes[0]).region for s in regional}
    assert regions == {"HK", "MO"}
    for s in regional:
        assert len({_loc(c).region for c in s.location_codes}) == 1
    assert all(CJK.search(s.name) and re.search(r"[A-Z][a-z]+", s.name) for s in STAFF)


def test_partner_apps() -> None:
    by_name = {a.name: a for a in APPS}
    pos, manager = by_name["門市收銀 POS"], by_name["店長手機 App"]
    assert pos.scopes.split() == [
        "stock:read",
        "stock:write",
        "transfers:read",
        "members:read",
        "members:write",
    ]
    assert "transfers:approve" in manager.scopes.split()
    assert manager.location_codes is None
    assert pos.location_codes is not None
    assert set(pos.location_codes) == {s.code for s in STORES}


# --------------------------------------------------------------------------- demand


def test_weekend_beats_monday() -> None:
    monday, saturday = dt.date(2026, 9, 28), dt.date(2026, 10, 3)
    assert monday.weekday() == 0 and saturday.weekday() == 5
    for region in ("HK", "MO"):
        assert demand_factor(saturday, region) > demand_factor(monday, region)
    assert demand_factor(dt.date(2026, 9, 12), "HK") == pytest.approx(1.30)


def test_public_holidays_lift_demand() -> None:
    national_day = dt.date(2026, 10, 1)  # Thursday, a holiday in both regions
    for ordinary in (dt.date(2026, 9, 30), dt.date(2026, 10, 2)):
        assert demand_factor(national_day, "HK") > demand_factor(ordinary, "HK")
    assert demand_factor(national_day, "MO") > demand_factor(dt.date(2026, 9, 30), "MO")
    # 20 December is Macau SAR Establishment Day but not a Hong Kong holiday.
    assert demand_factor(dt.date(2026, 12, 20), "MO") > demand_factor(dt.date(2026, 12, 20), "HK")


def test_lunar_new_year_and_christmas() -> None:
    assert lunar_new_year(2026) == dt.date(2026, 2, 17)
    assert lunar_new_year(2027) == dt.date(2027, 2, 6)
    day_one, ordinary_tuesday = dt.date(2026, 2, 17), dt.date(2026, 3, 3)
    assert demand_factor(day_one, "HK") < 0.5 * demand_factor(ordinary_tuesday, "HK")
    assert demand_factor(dt.date(2026, 2, 12), "HK") > demand_factor(dt.date(2026, 3, 5), "HK")
    # Late December already sees next year's Lunar New Year run-up only when close.
    assert demand_factor(dt.date(2026, 12, 22), "HK") > demand_factor(dt.date(2026, 12, 1), "HK")
    assert demand_factor(dt.date(2027, 2, 1), "MO") > demand_factor(dt.date(2027, 2, 22), "MO")


# --------------------------------------------------------------------------- sales


def test_receipts_are_unique_numbered_and_chronological(sales: list[DemoSale]) -> None:
    numbers = [s.receipt_number for s in sales]
    assert len(set(numbers)) == len(numbers)
    times = [s.occurred_at for s in sales]
    assert times == sorted(times)
    by_store_day: dict[tuple[str, dt.date], list[DemoSale]] = defaultdict(list)
    for s in sales:
        assert re.fullmatch(rf"{re.escape(s.store_code)}-\d{{8}}-\d{{4}}", s.receipt_number)
        assert s.receipt_number[len(s.store_code) + 1 :][:8] == s.occurred_at.strftime("%Y%m%d")
        by_store_day[(s.store_code, s.occurred_at.date())].append(s)
    for receipts in by_store_day.values():
        seqs = [int(r.receipt_number[-4:]) for r in receipts]
        assert seqs == list(range(1, len(receipts) + 1))
    assert {code for code, _ in by_store_day} == {s.code for s in STORES}
    assert len(by_store_day) >= 0.97 * DAYS * len(STORES)


def test_receipts_are_local_time_within_opening_hours(sales: list[DemoSale]) -> None:
    first, last = START, START + dt.timedelta(days=DAYS - 1)
    for s in sales:
        assert s.occurred_at.tzinfo is not None
        assert s.occurred_at.utcoffset() == HKT_OFFSET
        assert dt.time(10, 0) <= s.occurred_at.timetz().replace(tzinfo=None) < dt.time(22, 0)
        assert first <= s.occurred_at.date() <= last


def test_lines_are_positive_and_priced_in_the_store_currency(
    products: list[DemoProduct], sales: list[DemoSale]
) -> None:
    by_sku = {p.sku: p for p in products}
    region = {loc.code: loc.region for loc in LOCATIONS}
    macau_lines = 0
    for s in sales:
        assert 1 <= len(s.lines) <= 4
        assert len({line.sku for line in s.lines}) == len(s.lines)
        for line in s.lines:
            assert isinstance(line.quantity, int) and line.quantity > 0
            product = by_sku[line.sku]
            if region[s.store_code] == "MO":
                macau_lines += 1
                assert line.unit_price == product.price_mop
            else:
                assert line.unit_price == product.price_hkd
    assert macau_lines > 1000
    assert any(p.price_mop != p.price_hkd for p in products)


def test_volume_is_demo_sized_and_follows_demand(
    products: list[DemoProduct], sales: list[DemoSale]
) -> None:
    lines = sum(len(s.lines) for s in sales)
    assert 20_000 <= lines <= 40_000
    units = sum(line.quantity for s in sales for line in s.lines)
    total_demand = sum(p.daily_demand for p in products)
    expected = sum(
        total_demand
        * demand_factor(START + dt.timedelta(days=d), store.region)
        * store_size_factor(store)
        for d in range(DAYS)
        for store in STORES
    )
    assert units == pytest.approx(expected, rel=0.05)
    per_store = Counter(s.store_code for s in sales)
    assert per_store["CWB"] > per_store["ST"] > per_store["MO-TPA"]
    # Slow sellers miss most days in a store; masks and cold medicine sell daily.
    days_sold = {
        (line.sku, s.occurred_at.date()) for s in sales if s.store_code == "MK" for line in s.lines
    }
    per_sku = Counter(sku for sku, _ in days_sold)
    ranked = sorted(per_sku.get(p.sku, 0) for p in products)
    assert ranked[len(ranked) // 2] < DAYS // 2
    assert ranked[-1] > DAYS * 0.8


def test_generation_is_fast(products: list[DemoProduct]) -> None:
    started = time.perf_counter()
    count = sum(1 for _ in generate_sales(random.Random(11), products, START, DAYS, STORES))
    elapsed = time.perf_counter() - started
    assert count > 5_000
    assert elapsed < 3.0, f"{elapsed:.2f}s"


def test_empty_inputs_generate_nothing(products: list[DemoProduct]) -> None:
    assert list(generate_sales(random.Random(1), [], START, DAYS, STORES)) == []
    assert list(generate_sales(random.Random(1), products, START, 0, STORES)) == []
    assert list(generate_sales(random.Random(1), products, START, DAYS, [])) == []


# --------------------------------------------------------------------------- stock


def test_opening_stock_covers_history_except_deliberate_shortages(
    products: list[DemoProduct], sales: list[DemoSale]
) -> None:
    sold: Counter[tuple[str, str]] = Counter()
    for s in sales:
        for line in s.lines:
            sold[(s.store_code, line.sku)] += line.quantity
    negative, low_pairs, low_showing = [], 0, 0
    for p in products:
        for store in STORES:
            left = opening_quantity(p, store, DAYS) - sold[(store.code, p.sku)]
            if is_deliberately_low(p, store):
                low_pairs += 1
                low_showing += left < 2 * reorder_point(p, store)
            elif left < 0:
                negative.append((p.sku, store.code, left))
    assert negative == []
    assert 5 <= low_pairs <= 100
    assert low_showing >= 1


def test_warehouse_holds_more_and_shows_low_stock(products: list[DemoProduct]) -> None:
    warehouse, fair, store = _loc("KC-WH"), _loc("WC-POP"), _loc("MK")
    low_at_warehouse = 0
    for p in products:
        assert reorder_point(p, fair) == 0
        assert opening_quantity(p, fair, DAYS) >= 0
        assert reorder_point(p, store) >= 2
        assert reorder_point(p, warehouse) >= reorder_point(p, store)
        if is_deliberately_low(p, warehouse):
            low_at_warehouse += 1
            assert opening_quantity(p, warehouse, DAYS) < reorder_point(p, warehouse)
        else:
            assert opening_quantity(p, warehouse, DAYS) > opening_quantity(p, store, DAYS)
            assert opening_quantity(p, warehouse, DAYS) > reorder_point(p, warehouse)
    assert low_at_warehouse >= 3


def test_reorder_point_is_about_a_week_of_store_demand(products: list[DemoProduct]) -> None:
    fastest = max(products, key=lambda p: p.daily_demand)
    store = _loc("CWB")
    week = 7 * fastest.daily_demand * store_size_factor(store)
    assert 0.9 * week <= reorder_point(fastest, store) <= 1.4 * week + 1
    assert opening_quantity(fastest, store, DAYS) > DAYS * fastest.daily_demand
