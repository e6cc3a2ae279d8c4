"""Point of sale: devices, offline sale batches, returns and voids."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from auth.fields import visible_with
from auth.permissions import Permission
from domain import ids
from domain.pos.tenders import TenderMethod as DomainTenderMethod
from schema.errors import UserError
from schema.locations import Location
from schema.members import Sale
from schema.relay import Node

TenderMethod = strawberry.enum(
    DomainTenderMethod, description="How a sale was paid (amounts in the tenant's currency)."
)


@strawberry.enum
class DeviceStatus(Enum):
    ACTIVE = "ACTIVE"
    DISABLED = "DISABLED"


@strawberry.enum(description="What became of one sale, return or void of a batch.")
class SyncSaleStatus(Enum):
    ACCEPTED = "ACCEPTED"
    DUPLICATE = "DUPLICATE"
    REJECTED = "REJECTED"


@strawberry.enum
class SaleReversalKind(Enum):
    RETURN = "RETURN"
    VOID = "VOID"


@visible_with(Permission.STOCK_READ)
@strawberry.type(description="A till registered at one location.")
class PosDevice(Node):
    name: str
    status: DeviceStatus
    client_id: str = strawberry.field(description="The client credential the till signs in with.")
    created_at: datetime = strawberry.field(description="When it was created.")
    disabled_at: datetime | None
    last_sync_at: datetime | None
    last_sale_at: datetime | None
    location_pk: strawberry.Private[int]

    @strawberry.field
    async def location(self, info: Info) -> Location:
        return Location.from_row(await info.context.loaders.location_by_id.load(self.location_pk))

    @classmethod
    def from_row(cls, row: Any) -> PosDevice:
        return cls(
            id=strawberry.ID(ids.encode("PosDevice", row.id)),
            name=row.name,
            status=DeviceStatus(row.status),
            client_id=row.client_id,
            created_at=row.created_at,
            disabled_at=row.disabled_at,
            last_sync_at=row.last_sync_at,
            last_sale_at=row.last_sale_at,
            location_pk=row.location_id,
        )


@strawberry.type
class ReversalLine:
    sku: str
    quantity: int


@visible_with(Permission.STOCK_READ)
@strawberry.type(description="A return or a void of a synced sale.")
class SaleReversal(Node):
    client_id: str
    kind: SaleReversalKind
    reason: str
    amount: Decimal = strawberry.field(description="Refunded, in the tenant's currency.")
    occurred_at: datetime
    created_at: datetime = strawberry.field(description="When it was created.")
    lines: list[ReversalLine]

    @classmethod
    def from_row(cls, row: Any) -> SaleReversal:
        return cls(
            id=strawberry.ID(ids.encode("SaleReversal", row.id)),
            client_id=row.client_id,
            kind=SaleReversalKind(row.kind),
            reason=row.reason,
            amount=row.amount,
            occurred_at=row.occurred_at,
            created_at=row.created_at,
            lines=[ReversalLine(sku=ln["sku"], quantity=int(ln["quantity"])) for ln in row.lines],
        )


@strawberry.input(description="The input of registerDevice.")
class RegisterDeviceInput:
    location_id: strawberry.ID
    name: str


@strawberry.type(description="The result of registerDevice: what changed, or userErrors.")
class RegisterDevicePayload:
    device: PosDevice | None
    client_id: str | None
    client_secret: str | None = strawberry.field(description="Shown once; store it in the till.")
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused, each with a stable code and the path of the "
        "input field; empty when it succeeded."
    )

    @classmethod
    def failed(cls, errors: list[UserError]) -> RegisterDevicePayload:
        return cls(device=None, client_id=None, client_secret=None, user_errors=errors)


@strawberry.input(description="The input of disableDevice.")
class DisableDeviceInput:
    id: strawberry.ID
    reason: str | None = None


@strawberry.type(description="The result of disableDevice: what changed, or userErrors.")
class DevicePayload:
    device: PosDevice | None
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused, each with a stable code and the path of the "
        "input field; empty when it succeeded."
    )

    @classmethod
    def failed(cls, errors: list[UserError]) -> DevicePayload:
        return cls(device=None, user_errors=errors)


@strawberry.input
class TenderInput:
    method: TenderMethod  # type: ignore[valid-type]
    amount: Decimal
    provider_reference: str | None = strawberry.field(
        default=None, description="The payment provider's transaction reference."
    )
    terminal_id: str | None = strawberry.field(
        default=None, description="The reader or terminal that took the payment."
    )


@strawberry.input
class SyncSaleLineInput:
    quantity: int
    sku: str | None = None
    barcode: str | None = strawberry.field(default=None, description="Instead of sku.")
    unit_price: Decimal | None = strawberry.field(
        default=None, description="Omitted: the product's retail price."
    )
    discount: Decimal = strawberry.field(
        default=Decimal("0"), description="An amount off the line."
    )


@strawberry.input
class SyncSaleInput:
    client_sale_id: str = strawberry.field(description="A UUID the till chose for the sale.")
    occurred_at: datetime
    lines: list[SyncSaleLineInput]
    tenders: list[TenderInput] = strawberry.field(
        description="They must add up to the lines' total."
    )
    member_id: strawberry.ID | None = None
    receipt_number: str | None = strawberry.field(
        default=None, description="Omitted: the client sale ID."
    )
    location_id: strawberry.ID | None = strawberry.field(
        default=None, description="When given, it must be the device's location."
    )


@strawberry.input(description="The input of syncSales.")
class SyncSalesInput:
    device_id: strawberry.ID
    sales: list[SyncSaleInput] = strawberry.field(
        description="In any order; with returns and voids, 1 to 500 items per call."
    )
    returns: list[RecordReturnInput] | None = strawberry.field(
        default=None, description="Applied after the sales, each exactly once."
    )
    voids: list[VoidSaleInput] | None = strawberry.field(
        default=None, description="Applied after the returns, each exactly once."
    )


@strawberry.type
class SyncSaleResult:
    client_sale_id: str
    status: SyncSaleStatus
    sale: Sale | None = strawberry.field(description="For DUPLICATE: the sale first recorded.")
    user_errors: list[UserError]


@strawberry.type
class SyncReversalResult:
    client_id: str
    status: SyncSaleStatus
    reversal: SaleReversal | None
    user_errors: list[UserError]


@strawberry.type(description="The result of syncSales: what changed, or userErrors.")
class SyncSalesPayload:
    device: PosDevice | None
    results: list[SyncSaleResult]
    accepted: int
    duplicates: int
    rejected: int
    return_results: list[SyncReversalResult]
    void_results: list[SyncReversalResult]
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused, each with a stable code and the path of the "
        "input field; empty when it succeeded."
    )

    @classmethod
    def failed(cls, errors: list[UserError]) -> SyncSalesPayload:
        return cls(
            device=None,
            results=[],
            accepted=0,
            duplicates=0,
            rejected=0,
            return_results=[],
            void_results=[],
            user_errors=errors,
        )


@strawberry.input
class ReturnLineInput:
    quantity: int
    sku: str | None = None
    barcode: str | None = None


@strawberry.input(description="The input of recordReturn.")
class RecordReturnInput:
    client_return_id: str = strawberry.field(description="A UUID the till chose for the return.")
    client_sale_id: str
    lines: list[ReturnLineInput]
    refunds: list[TenderInput]
    reason: str
    occurred_at: datetime | None = None


@strawberry.input(description="The input of voidSale.")
class VoidSaleInput:
    client_void_id: str = strawberry.field(description="A UUID the till chose for the void.")
    client_sale_id: str
    reason: str
    occurred_at: datetime | None = None


@strawberry.type(
    description="The result of recordReturn and voidSale: what changed, or userErrors."
)
class SaleReversalPayload:
    reversal: SaleReversal | None
    status: SyncSaleStatus | None = strawberry.field(
        description="DUPLICATE: this client ID was already applied; its first result."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused, each with a stable code and the path of the "
        "input field; empty when it succeeded."
    )

    @classmethod
    def failed(cls, errors: list[UserError]) -> SaleReversalPayload:
        return cls(reversal=None, status=None, user_errors=errors)


@strawberry.type(description="What a till shows in its settings screen.")
class DeviceSyncStatus:
    device: PosDevice
    last_sync_at: datetime | None
    last_sale_at: datetime | None = strawberry.field(description="The latest sale's occurredAt.")
    last_client_sale_id: str | None
    sales_count: int
    voided_count: int
    returns_count: int
