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
from schema.errors import UserError
from schema.locations import Locale
from schema.relay import Connection, Node, connection, int_cursor
from schema.scalars import BigInt
from schema.stock import load_product

COSTS = [requires(Permission.COSTS_READ)]


@strawberry.enum(description="A day of the week (ISO: Monday first).")
class Weekday(Enum):
    MONDAY = 1
    TUESDAY = 2
    WEDNESDAY = 3
    THURSDAY = 4
    FRIDAY = 5
    SATURDAY = 6
    SUNDAY = 7


@strawberry.type
class SupplierProduct:
    supplier_sku: str | None
    pack_size: int = strawberry.field(description="Orders are whole packs of this many units.")
    min_order_quantity: int
    updated_at: datetime = strawberry.field(description="When it last changed.")
    product_pk: strawberry.Private[int]
    _cost: strawberry.Private[Money]

    @strawberry.field
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
@strawberry.type
class Supplier(Node):
    code: str
    name_zh: str
    name_en: str
    currency: CurrencyCode
    lead_time_days: int = strawberry.field(description="Days from order to delivery.")
    order_days: list[Weekday] = strawberry.field(description="The weekdays it takes orders.")
    min_order_value: Money
    active: bool
    version: BigInt
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    pk: strawberry.Private[int]

    @strawberry.field
    def name(self, locale: Locale | None = Locale.ZH_HK) -> str:
        return self.name_en if locale is Locale.EN else self.name_zh

    @strawberry.field(description="What it sells, by product.")
    async def products(
        self,
        info: Info,
        first: Annotated[
            int | None,
            strawberry.argument(description="How many items to return: 0 to 250 (default 50)."),
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="Return the items after this cursor (pageInfo.endCursor or an edge's "
                "cursor); omit for the first page."
            ),
        ] = None,
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
    code: str
    name_zh: str
    name_en: str
    currency: CurrencyCode = CurrencyCode.HKD
    lead_time_days: int = 2
    order_days: list[Weekday] | None = strawberry.field(
        default=None, description="Omitted: Monday to Friday."
    )
    min_order_value: Decimal = Decimal(0)
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Makes retries safe: the same key from the same caller with the same input "
        "answers the first response (a refusal included) and changes nothing again; "
        "with a different input, IDEMPOTENCY_KEY_REUSED. Kept at least 24 hours; at "
        "most 200 characters.",
    )


@strawberry.input(description="The input of updateSupplier.")
class UpdateSupplierInput:
    id: strawberry.ID
    code: str | None = None
    name_zh: str | None = None
    name_en: str | None = None
    currency: CurrencyCode | None = None
    lead_time_days: int | None = None
    order_days: list[Weekday] | None = None
    min_order_value: Decimal | None = None
    active: bool | None = None
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Makes retries safe: the same key from the same caller with the same input "
        "answers the first response (a refusal included) and changes nothing again; "
        "with a different input, IDEMPOTENCY_KEY_REUSED. Kept at least 24 hours; at "
        "most 200 characters.",
    )


@strawberry.input
class SupplierProductInput:
    sku: str
    unit_cost: Decimal
    supplier_sku: str | None = None
    pack_size: int = 1
    min_order_quantity: int = 1


@strawberry.input(description="The input of setSupplierProducts.")
class SetSupplierProductsInput:
    supplier_id: strawberry.ID
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
    supplier: Supplier | None
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused, each with a stable code and the path of the "
        "input field; empty when it succeeded."
    )

    @classmethod
    def failed(cls, errors: list[UserError]) -> SupplierPayload:
        return cls(supplier=None, user_errors=errors)


@strawberry.type(description="The result of setSupplierProducts: what changed, or userErrors.")
class SetSupplierProductsPayload:
    supplier: Supplier | None
    count: int = strawberry.field(description="Products added or replaced.")
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused, each with a stable code and the path of the "
        "input field; empty when it succeeded."
    )

    @classmethod
    def failed(cls, errors: list[UserError]) -> SetSupplierProductsPayload:
        return cls(supplier=None, count=0, user_errors=errors)
