"""The row fields a type declares are copied verbatim by its from_row.

Compiled reads answer a selection of only these fields from the rows themselves
(schema/loading.py), so the declaration must hold for real rows.
"""

from __future__ import annotations

from db.loaders import Loaders
from schema.catalog import Product
from schema.locations import Location
from schema.stock import StockLevel


async def test_product_row_fields_are_copied_verbatim(tenant, db):
    loaders = Loaders(db, tenant.tenant_id)
    pks = list(tenant.products.values())
    rows = await loaders.product_by_id.batch_load_fn(pks)
    assert [r.id for r in rows] == pks
    for row in rows:
        product = Product.from_row(row)
        for name in Product.ROW_FIELDS:
            assert getattr(product, name) == getattr(row, name), name
            assert type(getattr(product, name)) is type(getattr(row, name)), name
    assert {r.sku for r in rows} == {"A", "B", "C"}


async def test_location_row_fields_are_copied_verbatim(tenant, db):
    loaders = Loaders(db, tenant.tenant_id)
    pks = list(tenant.locations.values())
    rows = await loaders.location_by_id.batch_load_fn(pks)
    for row in rows:
        location = Location.from_row(row)
        for name in Location.ROW_FIELDS:
            assert getattr(location, name) == getattr(row, name), name
    assert {r.code for r in rows} == {"WH", "S1", "S2"}


def test_only_plain_fields_are_declared():
    """A declared field must be a plain attribute: a resolver would not see the row."""
    for cls in (Product, Location):
        definition = cls.__strawberry_definition__  # type: ignore[attr-defined]
        plain = {f.python_name for f in definition.fields if f.base_resolver is None}
        assert cls.ROW_FIELDS <= plain, cls
    assert not hasattr(StockLevel, "ROW_FIELDS")


async def test_loaded_rows_of_another_tenant_are_not_returned(tenant, other_tenant, db):
    mine = Loaders(db, tenant.tenant_id)
    rows = await mine.product_by_id.batch_load_fn(list(other_tenant.products.values()))
    assert rows == [None, None, None]
