"""Objects made from rows: every attribute as the dataclass would set it, the ID on first read."""

from __future__ import annotations

import collections
from datetime import UTC, datetime
from decimal import Decimal

from domain import ids
from schema.catalog import CurrencyCode, Money, Product
from schema.locations import Location, LocationKind
from schema.stock import StockLevel

LevelRow = collections.namedtuple(
    "LevelRow",
    "id on_hand reserved in_transit incoming reorder_point version updated_at "
    "location_id product_id",
)
ProductRow = collections.namedtuple(
    "ProductRow",
    "id sku barcode name_zh name_en category retail_price cost_price retail_price_mop currency",
)
LocationRow = collections.namedtuple("LocationRow", "id code name_zh name_en kind")


def test_a_level_made_from_a_row_encodes_its_id_only_when_read() -> None:
    now = datetime.now(UTC)
    level = StockLevel.from_row(LevelRow(41, 9, 2, 1, 0, 5, 3, now, 7, 8))
    assert "id" not in vars(level)
    assert (level.on_hand, level.reserved, level.available, level.reorder_point) == (9, 2, 7, 5)
    assert (level.location_pk, level.product_pk, level.pk, level.updated_at) == (7, 8, 41, now)
    assert level._value is None and level._average is None
    assert level.id == ids.encode("StockLevel", 41)
    assert ids.decode_int(level.id, "StockLevel") == 41
    assert vars(level)["id"] == level.id  # encoded once, then kept


def test_an_object_made_with_an_id_keeps_it() -> None:
    made_here = Location(id="given", code="S1", name_zh="一", name_en="One",
                         kind=LocationKind.STORE, pk=3)  # fmt: skip
    assert made_here.id == "given"
    from_row = Location.from_row(LocationRow(3, "S1", "一", "One", "STORE"))
    assert from_row.id == ids.encode("Location", 3) and from_row.kind is LocationKind.STORE
    assert from_row.code == made_here.code and from_row.pk == made_here.pk


def test_a_product_made_from_a_row_prices_in_its_tenants_currency() -> None:
    row = ProductRow(5, "A", None, "甲", "A", None, Decimal("10.00"), Decimal("4.0000"),
                     Decimal("10.30"), "MOP")  # fmt: skip
    product = Product.from_row(row)
    assert product.retail_price == Money(amount=Decimal("10.00"), currency=CurrencyCode.MOP)
    assert product._cost == Money(amount=Decimal("4.0000"), currency=CurrencyCode.MOP)
    assert product.retail_prices() == [
        Money(amount=Decimal("10.00"), currency=CurrencyCode.MOP),
        Money(amount=Decimal("10.30"), currency=CurrencyCode.MOP),
    ]
    assert product.id == ids.encode("Product", 5)
    unpriced = Product.from_row(row._replace(retail_price=None, cost_price=None, currency=None))
    assert unpriced.retail_price is None and unpriced._cost is None
