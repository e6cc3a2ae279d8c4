"""Products and money."""

from __future__ import annotations

from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, ClassVar

import strawberry

from auth.fields import requires
from auth.permissions import Permission
from schema.describe import enum_values
from schema.loading import READS, compiled_type, loaded
from schema.locations import Locale
from schema.relay import Node, lazy_id, made


@enum_values(
    HKD="Hong Kong dollar.",
    MOP="Macanese pataca.",
    CNY="Chinese yuan (renminbi).",
)
@strawberry.enum(description="ISO 4217 currency codes in use.")
class CurrencyCode(Enum):
    HKD = "HKD"
    MOP = "MOP"
    CNY = "CNY"


CURRENCIES = {c.value: c for c in CurrencyCode}


@compiled_type
@strawberry.type(
    description="An amount in a currency. The amount is an exact decimal string, never a float."
)
class Money:
    amount: Decimal = strawberry.field(
        description="The amount: prices have 2 decimal places, costs up to 4."
    )
    currency: CurrencyCode = strawberry.field(description="The currency of the amount.")


@lazy_id
@compiled_type
@strawberry.type(description="An item the tenant stocks and sells, identified by its SKU.")
class Product(Node):
    sku: str = strawberry.field(
        description="Stock-keeping unit: the product's code, unique in the tenant."
    )
    barcode: str | None = strawberry.field(
        description="The barcode (EAN/UPC) printed on the item, if known."
    )
    name_zh: str = strawberry.field(description="The name in Traditional Chinese.")
    name_en: str = strawberry.field(description="The name in English.")
    category: str | None = strawberry.field(
        description="The category it is filed under, if any (free text; stocktakes and KPIs "
        "group by it)."
    )
    retail_price: Money | None = strawberry.field(
        description="The retail price per unit in the tenant's currency (2 decimal places), if set."
    )
    pk: strawberry.Private[int]
    _cost: strawberry.Private[Money | None]
    _price_mop: strawberry.Private[Money | None]

    @strawberry.field(
        description="The name in one language (Traditional Chinese by default).", metadata=READS
    )
    def name(
        self,
        locale: Annotated[
            Locale | None, strawberry.argument(description="ZH_HK (the default) or EN.")
        ] = Locale.ZH_HK,
    ) -> str:
        return self.name_en if locale is Locale.EN else self.name_zh

    @strawberry.field(
        description="Retail prices in every currency the product is priced in.", metadata=READS
    )
    def retail_prices(self) -> list[Money]:
        return [m for m in (self.retail_price, self._price_mop) if m is not None]

    @strawberry.field(
        description="Unit cost; needs costs:read (null with a FORBIDDEN error otherwise).",
        permission_classes=[requires(Permission.COSTS_READ)],
        metadata=READS,
    )
    def cost_price(self) -> Money | None:
        return self._cost

    # copied unchanged from the row's columns by from_row (see schema/loading.py)
    ROW_FIELDS: ClassVar[frozenset[str]] = frozenset(
        {"sku", "barcode", "name_zh", "name_en", "category"}
    )

    @classmethod
    def from_row(cls, row: Any) -> Product:
        cur = CURRENCIES[getattr(row, "currency", None) or "HKD"]
        price, cost, mop = row.retail_price, row.cost_price, row.retail_price_mop
        return made(
            cls,
            {
                "sku": row.sku,
                "barcode": row.barcode,
                "name_zh": row.name_zh,
                "name_en": row.name_en,
                "category": row.category,
                "retail_price": None if price is None else _money(price, cur),
                "pk": row.id,
                "_cost": None if cost is None else _money(cost, cur),
                "_price_mop": None if mop is None else _money(mop, CurrencyCode.MOP),
            },
        )


def _money(amount: Decimal, currency: CurrencyCode) -> Money:
    return made(Money, {"amount": amount, "currency": currency})


# The loader of a product by its id; a list may join its rows in (Loaders.seed).
PRODUCT_LOADER = "product_by_id"


def loaded_product(key: str, description: str) -> Any:
    """A ``Product`` field looked up by the product id the parent holds in ``key``."""
    return loaded(
        PRODUCT_LOADER,
        key,
        Product.from_row,
        row_fields=Product.ROW_FIELDS,
        description=description,
    )
