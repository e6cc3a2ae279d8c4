"""Suppliers and the products they sell."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from auth.fields import requires, visible_with
from auth.permissions import Permission
from domain import ids
from domain.pagination import page_size
from domain.replenishment import suppliers as service
from schema.catalog import CURRENCIES, CurrencyCode, Money, Product
from schema.describe import enum_values
from schema.errors import UserError
from schema.locations import Locale
from schema.relay import After, Connection, First, Node, connection, int_cursor
from schema.scalars import BigInt
from schema.stock import load_product

COSTS = [requires(Permission.COSTS_READ)]


@enum_values(
    MONDAY="Monday.",
    TUESDAY="Tuesday.",
    WEDNESDAY="Wednesday.",
    THURSDAY="Thursday.",
    FRIDAY="Friday.",
    SATURDAY="Saturday.",
    SUNDAY="Sunday.",
)
@strawberry.enum(description="A day of the week (ISO: Monday first).")
class Weekday(Enum):
    MONDAY = 1
    TUESDAY = 2
    WEDNESDAY = 3
    THURSDAY = 4
    FRIDAY = 5
    SATURDAY = 6
    SUNDAY = 7


@strawberry.type(description="A product a supplier sells, on the supplier's terms.")
class SupplierProduct:
    supplier_sku: str | None = strawberry.field(
        description="The supplier's own code for the product, if known."
    )
    pack_size: int = strawberry.field(description="Orders are whole packs of this many units.")
    min_order_quantity: int = strawberry.field(
        description="The fewest units it sells in one order."
    )
    updated_at: datetime = strawberry.field(description="When it last changed.")
    product_pk: strawberry.Private[int]
    _cost: strawberry.Private[Money]

    @strawberry.field(description="The product.")
    async def product(self, info: Info) -> Product:
        return await load_product(info, self.product_pk)

    @strawberry.field(description="Per unit; needs costs:read.", permission_classes=COSTS)
    def unit_cost(self) -> Money | None:
        return self._cost

    @classmethod
    def from_row(cls, row: Any, currency: str) -> SupplierProduct:
        return cls(
            supplier_sku=row.supplier_sku,
            pack_size=row.pack_size,
            min_order_quantity=row.min_order_quantity,
            updated_at=row.updated_at,
            product_pk=row.product_id,
            _cost=Money(amount=row.unit_cost, currency=CURRENCIES[currency]),
        )


@visible_with(Permission.STOCK_READ)
@strawberry.type(
    description="A company the tenant buys from: its terms (currency, lead time, order "
    "days, minimum order) and the products it sells."
)
class Supplier(Node):
    code: str = strawberry.field(description="Short code, unique in the tenant.")
    name_zh: str = strawberry.field(description="The name in Traditional Chinese.")
    name_en: str = strawberry.field(description="The name in English.")
    currency: CurrencyCode = strawberry.field(
        description="The currency it invoices in; its unit costs are in it."
    )
    lead_time_days: int = strawberry.field(description="Days from order to delivery.")
    order_days: list[Weekday] = strawberry.field(description="The weekdays it takes orders.")
    min_order_value: Money = strawberry.field(
        description="The smallest order it accepts, in its currency; 0: none."
    )
    active: bool = strawberry.field(
        description="False once retired: no new suggestions or orders go to it."
    )
    version: BigInt = strawberry.field(
        description="Increases with every change; compare it to detect changes."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    pk: strawberry.Private[int]

    @strawberry.field(description="The name in one language (Traditional Chinese by default).")
    def name(
        self,
        locale: Annotated[
            Locale | None, strawberry.argument(description="ZH_HK (the default) or EN.")
        ] = Locale.ZH_HK,
    ) -> str:
        return self.name_en if locale is Locale.EN else self.name_zh

    @strawberry.field(description="What it sells, by product.")
    async def products(
        self,
        info: Info,
        first: First = None,
        after: After = None,
    ) -> Connection[SupplierProduct]:
        caller = info.context.viewer
        async with info.context.db.tenant_transaction(caller.tenant_id) as session:
            page = await service.list_supplier_products(
                session, caller, self.pk, limit=page_size(first), after=int_cursor(after)
            )
        cur = self.currency.value
        return connection(page, lambda r: SupplierProduct.from_row(r, cur), lambda r: r.product_id)

    @classmethod
    def from_row(cls, row: Any) -> Supplier:
        cur = CURRENCIES[row.currency]
        return cls(
            id=strawberry.ID(ids.encode("Supplier", row.id)),
            code=row.code,
            name_zh=row.name_zh,
            name_en=row.name_en,
            currency=cur,
            lead_time_days=row.lead_time_days,
            order_days=[Weekday(d) for d in row.order_days],
            min_order_value=Money(amount=Decimal(row.min_order_value), currency=cur),
            active=row.active,
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
            pk=row.id,
        )


@strawberry.input(description="The input of createSupplier.")
class SupplierInput:
    code: str = strawberry.field(
        description="Short code, 1 to 64 characters, unique in the tenant. Needs "
        "stock:write and costs:read (as every supplier mutation)."
    )
    name_zh: str = strawberry.field(
        description="The name in Traditional Chinese, 1 to 200 characters."
    )
    name_en: str = strawberry.field(description="The name in English, 1 to 200 characters.")
    currency: CurrencyCode = strawberry.field(
        default=CurrencyCode.HKD,
        description="The currency it invoices in: HKD (the default) or MOP.",
    )
    lead_time_days: int = strawberry.field(
        default=2, description="Days from order to delivery: 0 to 365 (default 2)."
    )
    order_days: list[Weekday] | None = strawberry.field(
        default=None, description="Omitted: Monday to Friday."
    )
    min_order_value: Decimal = strawberry.field(
        default=Decimal(0),
        description="The smallest order it accepts, in its currency; 0 or more (default 0: none).",
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Makes retries safe: the same key from the same caller with the same input "
        "answers the first response (a refusal included) and changes nothing again; "
        "with a different input, IDEMPOTENCY_KEY_REUSED. Kept at least 24 hours; at "
        "most 200 characters.",
    )


@strawberry.input(description="The input of updateSupplier.")
class UpdateSupplierInput:
    id: strawberry.ID = strawberry.field(
        description="The supplier's global ID. Needs stock:write and costs:read."
    )
    code: str | None = strawberry.field(
        default=None,
        description="A new code, 1 to 64 characters; omitted: unchanged (as every field here).",
    )
    name_zh: str | None = strawberry.field(
        default=None, description="A new Chinese name, 1 to 200 characters."
    )
    name_en: str | None = strawberry.field(
        default=None, description="A new English name, 1 to 200 characters."
    )
    currency: CurrencyCode | None = strawberry.field(
        default=None, description="A new currency: HKD or MOP."
    )
    lead_time_days: int | None = strawberry.field(
        default=None, description="A new lead time: 0 to 365 days."
    )
    order_days: list[Weekday] | None = strawberry.field(
        default=None, description="The weekdays it now takes orders, each at most once."
    )
    min_order_value: Decimal | None = strawberry.field(
        default=None, description="A new minimum order value, 0 or more."
    )
    active: bool | None = strawberry.field(
        default=None, description="false retires the supplier; true brings it back."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Makes retries safe: the same key from the same caller with the same input "
        "answers the first response (a refusal included) and changes nothing again; "
        "with a different input, IDEMPOTENCY_KEY_REUSED. Kept at least 24 hours; at "
        "most 200 characters.",
    )


@strawberry.input(description="One product on the supplier's terms.")
class SupplierProductInput:
    sku: str = strawberry.field(description="The product's SKU; at most once per request.")
    unit_cost: Decimal = strawberry.field(
        description="The cost per unit in the supplier's currency, 0 or more (4 decimal places)."
    )
    supplier_sku: str | None = strawberry.field(
        default=None, description="The supplier's own code, at most 64 characters."
    )
    pack_size: int = strawberry.field(
        default=1, description="Units per pack, 1 to 100,000 (default 1); orders are whole packs."
    )
    min_order_quantity: int = strawberry.field(
        default=1, description="The fewest units per order, 1 to 1,000,000 (default 1)."
    )


@strawberry.input(description="The input of setSupplierProducts.")
class SetSupplierProductsInput:
    supplier_id: strawberry.ID = strawberry.field(
        description="The supplier's global ID. Needs stock:write and costs:read."
    )
    products: list[SupplierProductInput] = strawberry.field(
        description="Added or replaced by SKU; products not listed stay as they are."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Makes retries safe: the same key from the same caller with the same input "
        "answers the first response (a refusal included) and changes nothing again; "
        "with a different input, IDEMPOTENCY_KEY_REUSED. Kept at least 24 hours; at "
        "most 200 characters.",
    )


@strawberry.type(
    description="The result of createSupplier and updateSupplier: what changed, or userErrors."
)
class SupplierPayload:
    supplier: Supplier | None = strawberry.field(
        description="The supplier after the change; null when refused."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused, each with a stable code and the path of the "
        "input field; empty when it succeeded."
    )

    @classmethod
    def failed(cls, errors: list[UserError]) -> SupplierPayload:
        return cls(supplier=None, user_errors=errors)


@strawberry.type(description="The result of setSupplierProducts: what changed, or userErrors.")
class SetSupplierProductsPayload:
    supplier: Supplier | None = strawberry.field(
        description="The supplier after the change; null when refused."
    )
    count: int = strawberry.field(description="Products added or replaced.")
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused, each with a stable code and the path of the "
        "input field; empty when it succeeded."
    )

    @classmethod
    def failed(cls, errors: list[UserError]) -> SetSupplierProductsPayload:
        return cls(supplier=None, count=0, user_errors=errors)
