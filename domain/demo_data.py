"""Deterministic demo data for 康健藥妝 / Hong Kong Wellness Pharmacy & Beauty.

Pure functions and frozen dataclasses only: no database, no I/O. The same
seeded ``random.Random`` always yields the same chain, so demos, screenshots
and tests agree. Storing it is the job of the seeding code.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from itertools import accumulate
from typing import Literal, get_args
from zoneinfo import ZoneInfo

import holidays

from domain.demo_catalog import CATEGORIES, CLERK_NAMES, STORE_MANAGER_NAMES

TENANT_CODE = "demo"
TENANT_NAME_ZH = "康健藥妝"
TENANT_NAME_EN = "Hong Kong Wellness Pharmacy & Beauty"
CURRENCY = "HKD"
TIMEZONE = "Asia/Hong_Kong"
HKT = ZoneInfo(TIMEZONE)

LocationKind = Literal["CENTRAL_WAREHOUSE", "STORE", "TEMPORARY_WAREHOUSE"]
Region = Literal["HK", "MO"]
Role = Literal["OWNER", "REGIONAL_MANAGER", "STORE_MANAGER", "PURCHASER", "CLERK", "AUDITOR"]
ROLES: tuple[Role, ...] = get_args(Role)


@dataclass(frozen=True, slots=True)
class DemoLocation:
    code: str
    name_zh: str
    name_en: str
    kind: LocationKind
    region: Region


@dataclass(frozen=True, slots=True)
class DemoProduct:
    sku: str
    barcode: str
    name_zh: str
    name_en: str
    category: str
    price_hkd: Decimal
    price_mop: Decimal
    cost_hkd: Decimal
    daily_demand: float
    """Mean units sold per store per day before demand and store-size factors."""


@dataclass(frozen=True, slots=True)
class DemoStaff:
    code: str
    name: str
    role: Role
    location_codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DemoApp:
    name: str
    scopes: str
    location_codes: tuple[str, ...] | None
    """``None`` means every location of the tenant."""


@dataclass(frozen=True, slots=True)
class DemoSaleLine:
    sku: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True, slots=True)
class DemoSale:
    store_code: str
    receipt_number: str
    occurred_at: dt.datetime
    lines: tuple[DemoSaleLine, ...]


LOCATIONS: tuple[DemoLocation, ...] = (
    DemoLocation(
        "KC-WH", "葵涌中央貨倉", "Kwai Chung Central Warehouse", "CENTRAL_WAREHOUSE", "HK"
    ),
    DemoLocation("MK", "旺角店", "Mong Kok", "STORE", "HK"),
    DemoLocation("CWB", "銅鑼灣店", "Causeway Bay", "STORE", "HK"),
    DemoLocation("TST", "尖沙咀店", "Tsim Sha Tsui", "STORE", "HK"),
    DemoLocation("ST", "沙田店", "Sha Tin", "STORE", "HK"),
    DemoLocation("MO-SEN", "澳門議事亭店", "Macau Senado Square", "STORE", "MO"),
    DemoLocation("MO-TPA", "氹仔店", "Taipa", "STORE", "MO"),
    DemoLocation(
        "WC-POP",
        "灣仔會展展銷會臨時貨倉",
        "Wan Chai Convention Centre Fair Stock",
        "TEMPORARY_WAREHOUSE",
        "HK",
    ),
)
STORES: tuple[DemoLocation, ...] = tuple(loc for loc in LOCATIONS if loc.kind == "STORE")
_ALL_CODES = tuple(loc.code for loc in LOCATIONS)
_STORE_CODES = tuple(loc.code for loc in STORES)

STORE_SIZE: dict[str, float] = {
    "MK": 1.3,
    "CWB": 1.4,
    "TST": 1.2,
    "ST": 1.0,
    "MO-SEN": 1.1,
    "MO-TPA": 0.8,
}
"""Relative foot traffic; busy tourist districts sell more than the suburbs."""


def store_size_factor(location: DemoLocation) -> float:
    return STORE_SIZE.get(location.code, 1.0)


def _staff() -> tuple[DemoStaff, ...]:
    hk = tuple(loc.code for loc in LOCATIONS if loc.region == "HK")
    mo = tuple(loc.code for loc in LOCATIONS if loc.region == "MO")
    staff = [
        DemoStaff("E001", "陳大文 Chan Tai Man", "OWNER", _ALL_CODES),
        DemoStaff("E002", "李嘉欣 Lee Ka Yan", "REGIONAL_MANAGER", hk),
        DemoStaff("E003", "何家豪 Ho Ka Ho", "REGIONAL_MANAGER", mo),
        DemoStaff("E004", "黃志明 Wong Chi Ming", "PURCHASER", ("KC-WH", "WC-POP")),
        DemoStaff("E005", "林美玲 Lam Mei Ling", "AUDITOR", _ALL_CODES),
        DemoStaff("E006", "張偉強 Cheung Wai Keung", "CLERK", ("KC-WH",)),
        DemoStaff("E007", "吳詠欣 Ng Wing Yan", "CLERK", ("WC-POP", "KC-WH")),
    ]
    people = zip(STORES, STORE_MANAGER_NAMES, CLERK_NAMES, strict=True)
    for i, (store, mgr, clerk) in enumerate(people):
        staff.append(DemoStaff(f"E{10 + 2 * i:03d}", mgr, "STORE_MANAGER", (store.code,)))
        staff.append(DemoStaff(f"E{11 + 2 * i:03d}", clerk, "CLERK", (store.code,)))
    return tuple(staff)


STAFF: tuple[DemoStaff, ...] = _staff()

APPS: tuple[DemoApp, ...] = (
    DemoApp(
        "門市收銀 POS",
        "stock:read stock:write transfers:read members:read members:write",
        _STORE_CODES,
    ),
    DemoApp(
        "店長手機 App",
        "stock:read stock:write transfers:read transfers:write transfers:approve members:read",
        None,
    ),
)

_CENT = Decimal("0.01")
_TEN_CENTS = Decimal("0.1")
_MOP_RATE = Decimal("1.03")
_PRICE_ENDINGS = (Decimal("0.90"), Decimal("0.50"), Decimal("0.00"))
_MEAN_DAILY_DEMAND = 0.10
"""Average units/SKU/store/day; keeps 90 days x 6 stores near 30,000 lines."""


def ean13_check_digit(first12: str) -> int:
    """GS1 check digit: weights 1,3,1,3... from the left over twelve digits."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return (10 - total % 10) % 10


def is_valid_ean13(code: str) -> bool:
    return len(code) == 13 and code.isdigit() and ean13_check_digit(code[:12]) == int(code[12])


def _allocate(count: int) -> list[int]:
    """Split ``count`` SKUs over categories by weight (largest remainder)."""
    total = sum(c.weight for c in CATEGORIES)
    exact = [count * c.weight / total for c in CATEGORIES]
    shares = [int(x) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: shares[i] - exact[i])
    for i in by_remainder[: count - sum(shares)]:
        shares[i] += 1
    return shares


def _shelf_price(rng: random.Random, raw: float) -> Decimal:
    """Snap to the endings HK shelves use: mostly $x.90, some $x.50 and $x.00."""
    whole = max(int(raw), 5)
    return Decimal(whole) + rng.choices(_PRICE_ENDINGS, weights=(60, 25, 15))[0]


def generate_products(rng: random.Random, count: int = 520) -> list[DemoProduct]:
    """Brands x types x variants per category, sampled without repeats.

    ``daily_demand`` is log-normal around the category's pace (masks and cold
    medicine fastest), then scaled so the catalogue averages 0.10 a day.
    """
    capacity = sum(len(c.brands) * len(c.types) * len(c.variants) for c in CATEGORIES)
    if not 0 < count <= capacity:
        raise ValueError(f"count must be between 1 and {capacity}")
    brand_prefix: dict[str, int] = {}
    brand_items: Counter[str] = Counter()
    drafts: list[DemoProduct] = []
    for category, n in zip(CATEGORIES, _allocate(count), strict=True):
        combos = [
            (b, t, v) for b in category.brands for t in category.types for v in category.variants
        ]
        if n > len(combos):
            raise ValueError(f"{category.code} has only {len(combos)} distinct products")
        for seq, (brand, ptype, variant) in enumerate(rng.sample(combos, n), start=1):
            # One invented GS1 company prefix per brand, items numbered within it.
            prefix = brand_prefix.setdefault(brand.name_en, 5100 + 7 * len(brand_prefix))
            brand_items[brand.name_en] += 1
            first12 = f"489{prefix:04d}{brand_items[brand.name_en]:05d}"
            raw = ptype.base_price_hkd * brand.tier * variant.price_factor
            price = _shelf_price(rng, raw * rng.uniform(0.92, 1.08))
            margin = Decimal(str(round(rng.uniform(0.40, 0.70), 3)))
            pace = category.demand_weight * variant.demand_factor / brand.tier
            drafts.append(
                DemoProduct(
                    sku=f"{category.sku_prefix}-{seq:04d}",
                    barcode=first12 + str(ean13_check_digit(first12)),
                    name_zh=f"{brand.name_zh} {ptype.name_zh} {variant.name_zh}",
                    name_en=f"{brand.name_en} {ptype.name_en} {variant.name_en}",
                    category=category.code,
                    price_hkd=price,
                    price_mop=(price * _MOP_RATE)
                    .quantize(_TEN_CENTS, ROUND_HALF_UP)
                    .quantize(_CENT),
                    cost_hkd=(price * margin).quantize(_CENT, ROUND_HALF_UP),
                    daily_demand=pace * rng.lognormvariate(0.0, 0.8),
                )
            )
    scale = _MEAN_DAILY_DEMAND * count / sum(p.daily_demand for p in drafts)
    return [replace(p, daily_demand=round(max(p.daily_demand * scale, 0.002), 4)) for p in drafts]


_WEEKDAY_FACTOR = (0.85, 0.90, 0.95, 1.00, 1.10, 1.30, 1.25)
_HOLIDAY_FLOOR = 1.25
_HOLIDAY_UPLIFT = 1.15
_PRE_LNY_DAYS = 7
_PRE_LNY_UPLIFT = 1.40
_LNY_OPENING_DAYS = (0.35, 0.60, 0.80)
_PRE_CHRISTMAS = range(18, 25)
_PRE_CHRISTMAS_UPLIFT = 1.25


@lru_cache(maxsize=64)
def _holiday_dates(region: str, year: int) -> frozenset[dt.date]:
    """Public holidays once per region and year; lookups in the loop stay O(1)."""
    return frozenset(holidays.country_holidays(region, years=year))


@lru_cache(maxsize=64)
def lunar_new_year(year: int) -> dt.date | None:
    """First day of Lunar New Year, read from the Macau calendar (it always lists it)."""
    for day, name in holidays.country_holidays("MO", years=year).items():
        if name == "Chinese New Year's Day":
            return day
    return None


@lru_cache(maxsize=4096)
def demand_factor(day: dt.date, region: str) -> float:
    """Multiplier on ``daily_demand`` for one day in ``region`` ("HK" or "MO").

    - Weekday: Mon 0.85, Tue 0.90, Wed 0.95, Thu 1.00, Fri 1.10, Sat 1.30, Sun 1.25.
    - Public holiday of the region (``holidays`` HK / MO): trades like a Sunday
      at least, plus 15% (1.25 x 1.15 = 1.44 on a weekday holiday).
    - The 7 days before Lunar New Year: x1.40 (gift boxes, stocking up).
    - Lunar New Year days 1-3: 0.35, 0.60, 0.80 flat; most shops shut or are quiet,
      so this replaces the holiday uplift.
    - 18-24 December: x1.25 (Christmas shopping); Christmas Day is a holiday above.
    """
    lny = lunar_new_year(day.year)
    if lny is not None and 0 <= (day - lny).days < len(_LNY_OPENING_DAYS):
        return _LNY_OPENING_DAYS[(day - lny).days]
    factor = _WEEKDAY_FACTOR[day.weekday()]
    if day in _holiday_dates(region, day.year):
        factor = max(factor, _HOLIDAY_FLOOR) * _HOLIDAY_UPLIFT
    next_lny = lunar_new_year(day.year + 1) if day.month == 12 else lny
    if next_lny is not None and 0 < (next_lny - day).days <= _PRE_LNY_DAYS:
        factor *= _PRE_LNY_UPLIFT
    if day.month == 12 and day.day in _PRE_CHRISTMAS:
        factor *= _PRE_CHRISTMAS_UPLIFT
    return factor


_OPENING_TIME = dt.time(10, 0)
_HOUR_CUM_WEIGHTS = tuple(accumulate((3, 5, 8, 8, 6, 5, 6, 8, 10, 10, 8, 5)))
"""Receipts per hour from 10:00 to 21:00: lunch and after-work peaks."""


def _poisson(rng: random.Random, lam: float) -> int:
    """Knuth for small means, a rounded normal for large ones (fast enough, close enough)."""
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _line_quantity(rng: random.Random) -> int:
    r = rng.random()
    return 1 if r < 0.70 else 2 if r < 0.90 else 3


def _basket_size(rng: random.Random) -> int:
    r = rng.random()
    return 1 if r < 0.45 else 2 if r < 0.75 else 3 if r < 0.90 else 4


def _store_day(
    rng: random.Random,
    products: Sequence[DemoProduct],
    cum_demand: Sequence[float],
    prices: Sequence[Decimal],
    store: DemoLocation,
    day: dt.date,
) -> list[DemoSale]:
    """One store's receipts for one day, numbered in time order.

    Total units are Poisson(sum of means) spread over SKUs by demand weight, which
    is the same as an independent Poisson per SKU but costs one draw per unit
    rather than one per SKU; slow sellers simply do not come up most days.
    """
    lam = cum_demand[-1] * demand_factor(day, store.region) * store_size_factor(store)
    units = _poisson(rng, lam)
    if units == 0:
        return []
    picks = Counter(rng.choices(range(len(products)), cum_weights=cum_demand, k=units))
    chunks: list[tuple[int, int]] = []
    for idx, qty in sorted(picks.items()):
        while qty > 0:
            take = min(qty, _line_quantity(rng))
            chunks.append((idx, take))
            qty -= take
    rng.shuffle(chunks)
    baskets: list[dict[int, int]] = []
    pos = 0
    while pos < len(chunks):
        size = _basket_size(rng)
        basket: dict[int, int] = {}
        for idx, qty in chunks[pos : pos + size]:
            basket[idx] = basket.get(idx, 0) + qty
        baskets.append(basket)
        pos += size
    hours = rng.choices(range(12), cum_weights=_HOUR_CUM_WEIGHTS, k=len(baskets))
    seconds = sorted(h * 3600 + rng.randrange(3600) for h in hours)
    opening = dt.datetime.combine(day, _OPENING_TIME, tzinfo=HKT)
    prefix = f"{store.code}-{day:%Y%m%d}-"
    return [
        DemoSale(
            store_code=store.code,
            receipt_number=f"{prefix}{n:04d}",
            occurred_at=opening + dt.timedelta(seconds=sec),
            lines=tuple(
                DemoSaleLine(products[idx].sku, qty, prices[idx]) for idx, qty in basket.items()
            ),
        )
        for n, (sec, basket) in enumerate(zip(seconds, baskets, strict=True), start=1)
    ]


def generate_sales(
    rng: random.Random,
    products: Sequence[DemoProduct],
    start: dt.date,
    days: int,
    stores: Sequence[DemoLocation],
) -> Iterator[DemoSale]:
    """Receipts for ``days`` days from ``start``, day by day, in time order.

    Within a day, receipts of all stores are merged by ``occurred_at`` (ties by
    store code), so replaying them in order is chronological. Hong Kong stores
    charge ``price_hkd``; Macau stores charge ``price_mop``.
    """
    if not products or not stores:
        return
    cum_demand = list(accumulate(p.daily_demand for p in products))
    prices = {"HK": [p.price_hkd for p in products], "MO": [p.price_mop for p in products]}
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        sales: list[DemoSale] = []
        for store in stores:
            sales.extend(_store_day(rng, products, cum_demand, prices[store.region], store, day))
        sales.sort(key=lambda s: (s.occurred_at, s.store_code))
        yield from sales


_MEAN_FACTOR = 1.10
"""Average ``demand_factor`` over ordinary weeks, with a little headroom."""
_EXTRA_DAYS = 21
_WAREHOUSE_DAYS = 42
_TEMP_WAREHOUSE_DAYS = 10


def _store_pace(product: DemoProduct, location: DemoLocation) -> float:
    return product.daily_demand * store_size_factor(location) * _MEAN_FACTOR


def _chain_pace(product: DemoProduct) -> float:
    return product.daily_demand * sum(STORE_SIZE.values()) * _MEAN_FACTOR


def is_deliberately_low(product: DemoProduct, location: DemoLocation) -> bool:
    """About one SKU in forty is short at the central warehouse and at roughly half
    the stores: the demo's low-stock cases, with plenty elsewhere to transfer from.

    Uses CRC32, not ``hash()``, so the choice is the same in every process.
    """
    sku = product.sku.encode()
    if zlib.crc32(sku) % 40 != 0:
        return False
    if location.kind == "CENTRAL_WAREHOUSE":
        return True
    return location.kind == "STORE" and zlib.crc32(sku + location.code.encode()) % 2 == 0


def reorder_point(product: DemoProduct, location: DemoLocation) -> int:
    """About a week of demand at a store (at least 2 so a facing stays on the shelf),
    two weeks of chain demand at the central warehouse, 0 for a temporary warehouse."""
    if location.kind == "TEMPORARY_WAREHOUSE":
        return 0
    if location.kind == "CENTRAL_WAREHOUSE":
        return max(2, math.ceil(14 * _chain_pace(product)))
    return max(2, math.ceil(7 * _store_pace(product, location)))


def opening_quantity(product: DemoProduct, location: DemoLocation, days: int) -> int:
    """Stock on hand before ``days`` days of sales history.

    A store gets the expected sales of the history plus three weeks and a
    three-sigma margin, so it practically never goes negative. The central
    warehouse (which sells nothing) holds six weeks of chain demand, and a fair's
    temporary stock ten days of one store. Deliberately low pairs: the warehouse
    starts at a third of its reorder point, so low stock always shows there; a
    store gets only the expected history plus 1.5 sigma, so it runs down towards
    its reorder point (now and then a unit or two below zero, a flagged oversell).
    """
    low = is_deliberately_low(product, location)
    if location.kind == "TEMPORARY_WAREHOUSE":
        return math.ceil(product.daily_demand * _TEMP_WAREHOUSE_DAYS)
    if location.kind == "CENTRAL_WAREHOUSE":
        if low:
            return reorder_point(product, location) // 3
        return math.ceil(_chain_pace(product) * _WAREHOUSE_DAYS) + 12
    pace = _store_pace(product, location)
    sigma = math.sqrt(pace * days)
    if low:
        return math.ceil(pace * days + 1.5 * sigma) + 1
    return math.ceil(pace * (days + _EXTRA_DAYS) + 3 * sigma) + 3
