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
from schema.describe import enum_values
from schema.errors import UserError
from schema.locations import Location
from schema.members import Sale
from schema.relay import Node

TenderMethod = enum_values(
    CASH="Cash.",
    OCTOPUS="Octopus card.",
    ALIPAYHK="AlipayHK.",
    WECHATPAY_HK="WeChat Pay HK.",
    PAYME="PayMe.",
    FPS="Faster Payment System.",
    CARD="A credit or debit card.",
    COUPON="A coupon.",
)(
    strawberry.enum(
        DomainTenderMethod, description="How a sale was paid (amounts in the tenant's currency)."
    )
)


@enum_values(
    ACTIVE="It may sign in and sync.",
    DISABLED="Disabled: its credentials and tokens are refused.",
)
@strawberry.enum(description="Whether a till may sell.")
class DeviceStatus(Enum):
    ACTIVE = "ACTIVE"
    DISABLED = "DISABLED"


@enum_values(
    ACCEPTED="Recorded now.",
    DUPLICATE="Recorded before under this client ID; nothing changed.",
    REJECTED="Refused; see userErrors. The rest of the batch is unaffected.",
)
@strawberry.enum(description="What became of one sale, return or void of a batch.")
class SyncSaleStatus(Enum):
    ACCEPTED = "ACCEPTED"
    DUPLICATE = "DUPLICATE"
    REJECTED = "REJECTED"


@enum_values(
    RETURN="Some goods brought back and refunded (RETURN movements).",
    VOID="The whole sale undone, before its payments were settled.",
)
@strawberry.enum(description="How a sale was reversed.")
class SaleReversalKind(Enum):
    RETURN = "RETURN"
    VOID = "VOID"


@visible_with(Permission.STOCK_READ)
@strawberry.type(description="A till registered at one location.")
class PosDevice(Node):
    name: str = strawberry.field(description="The till's name, as registered.")
    status: DeviceStatus = strawberry.field(description="Active or disabled.")
    client_id: str = strawberry.field(description="The client credential the till signs in with.")
    created_at: datetime = strawberry.field(description="When it was created.")
    disabled_at: datetime | None = strawberry.field(
        description="When it was disabled; null while active."
    )
    last_sync_at: datetime | None = strawberry.field(
        description="When it last synced a batch; null before its first."
    )
    last_sale_at: datetime | None = strawberry.field(
        description="The latest synced sale's occurredAt; null before its first."
    )
    location_pk: strawberry.Private[int]

    @strawberry.field(description="The store it sells at.")
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


@strawberry.type(description="A product brought back.")
class ReversalLine:
    sku: str = strawberry.field(description="The product's SKU.")
    quantity: int = strawberry.field(description="Units brought back.")


@visible_with(Permission.STOCK_READ)
@strawberry.type(description="A return or a void of a synced sale.")
class SaleReversal(Node):
    client_id: str = strawberry.field(description="The client ID the till chose for it.")
    kind: SaleReversalKind = strawberry.field(description="Return or void.")
    reason: str = strawberry.field(description="Why, as given.")
    amount: Decimal = strawberry.field(description="Refunded, in the tenant's currency.")
    occurred_at: datetime = strawberry.field(description="When it happened at the till.")
    created_at: datetime = strawberry.field(description="When it was created.")
    lines: list[ReversalLine] = strawberry.field(description="The products brought back.")

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
    location_id: strawberry.ID = strawberry.field(
        description="The store it sells at (a Location ID); it can sell there and nowhere "
        "else. Needs admin."
    )
    name: str = strawberry.field(description="A name for people, 1 to 100 characters.")


@strawberry.type(description="The result of registerDevice: what changed, or userErrors.")
class RegisterDevicePayload:
    device: PosDevice | None = strawberry.field(
        description="The till registered; null when refused."
    )
    client_id: str | None = strawberry.field(
        description="The OAuth client_id the till signs in with (client credentials)."
    )
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
    id: strawberry.ID = strawberry.field(
        description="The till's global ID. Its client is disabled and its tokens refused."
    )
    reason: str | None = strawberry.field(default=None, description="Why, for the audit trail.")


@strawberry.type(description="The result of disableDevice: what changed, or userErrors.")
class DevicePayload:
    device: PosDevice | None = strawberry.field(
        description="The till after the change; null when refused."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused, each with a stable code and the path of the "
        "input field; empty when it succeeded."
    )

    @classmethod
    def failed(cls, errors: list[UserError]) -> DevicePayload:
        return cls(device=None, user_errors=errors)


@strawberry.input(description="One payment (or refund), in the tenant's currency.")
class TenderInput:
    method: TenderMethod = strawberry.field(description="How it was paid.")  # type: ignore[valid-type]
    amount: Decimal = strawberry.field(
        description="The amount: positive, at most 2 decimal places."
    )
    provider_reference: str | None = strawberry.field(
        default=None, description="The payment provider's transaction reference."
    )
    terminal_id: str | None = strawberry.field(
        default=None, description="The reader or terminal that took the payment."
    )


@strawberry.input(description="One product sold; give sku or barcode.")
class SyncSaleLineInput:
    quantity: int = strawberry.field(description="Units sold: 1 to 1,000,000.")
    sku: str | None = strawberry.field(default=None, description="The product's SKU.")
    barcode: str | None = strawberry.field(default=None, description="Instead of sku.")
    unit_price: Decimal | None = strawberry.field(
        default=None, description="Omitted: the product's retail price."
    )
    discount: Decimal = strawberry.field(
        default=Decimal("0"), description="An amount off the line."
    )


@strawberry.input(
    description="A sale rung up at the till, possibly while offline; recorded once per "
    "clientSaleId."
)
class SyncSaleInput:
    client_sale_id: str = strawberry.field(description="A UUID the till chose for the sale.")
    occurred_at: datetime = strawberry.field(
        description="When it was rung up, with a UTC offset; at most a day ahead of the server."
    )
    lines: list[SyncSaleLineInput] = strawberry.field(description="1 to 200 lines.")
    tenders: list[TenderInput] = strawberry.field(
        description="They must add up to the lines' total."
    )
    member_id: strawberry.ID | None = strawberry.field(
        default=None, description="The member who bought, if any (a Member ID)."
    )
    receipt_number: str | None = strawberry.field(
        default=None, description="Omitted: the client sale ID."
    )
    location_id: strawberry.ID | None = strawberry.field(
        default=None, description="When given, it must be the device's location."
    )


@strawberry.input(description="The input of syncSales.")
class SyncSalesInput:
    device_id: strawberry.ID = strawberry.field(
        description="The till's global ID (ACTIVE); needs stock:write at its location."
    )
    sales: list[SyncSaleInput] = strawberry.field(
        description="In any order; with returns and voids, 1 to 500 items per call."
    )
    returns: list[RecordReturnInput] | None = strawberry.field(
        default=None, description="Applied after the sales, each exactly once."
    )
    voids: list[VoidSaleInput] | None = strawberry.field(
        default=None, description="Applied after the returns, each exactly once."
    )


@strawberry.type(description="What became of one sale of a batch.")
class SyncSaleResult:
    client_sale_id: str = strawberry.field(description="The sale's client ID, as sent.")
    status: SyncSaleStatus = strawberry.field(description="Accepted, duplicate or rejected.")
    sale: Sale | None = strawberry.field(description="For DUPLICATE: the sale first recorded.")
    user_errors: list[UserError] = strawberry.field(
        description="Why it was rejected (paths start at the sale); empty otherwise."
    )


@strawberry.type(description="What became of one return or void of a batch.")
class SyncReversalResult:
    client_id: str = strawberry.field(description="The return's or void's client ID, as sent.")
    status: SyncSaleStatus = strawberry.field(description="Accepted, duplicate or rejected.")
    reversal: SaleReversal | None = strawberry.field(
        description="The return or void recorded; null when rejected."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why it was rejected; empty otherwise."
    )


@strawberry.type(description="The result of syncSales: what changed, or userErrors.")
class SyncSalesPayload:
    device: PosDevice | None = strawberry.field(
        description="The till, with its lastSyncAt; null when the whole batch was refused."
    )
    results: list[SyncSaleResult] = strawberry.field(description="One per sale, in the order sent.")
    accepted: int = strawberry.field(description="Sales recorded by this call.")
    duplicates: int = strawberry.field(
        description="Sales already recorded before (same clientSaleId)."
    )
    rejected: int = strawberry.field(description="Sales refused; see their userErrors.")
    return_results: list[SyncReversalResult] = strawberry.field(
        description="One per return, in the order sent."
    )
    void_results: list[SyncReversalResult] = strawberry.field(
        description="One per void, in the order sent."
    )
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


@strawberry.input(description="A product brought back; give sku or barcode.")
class ReturnLineInput:
    quantity: int = strawberry.field(description="Units brought back, at least 1.")
    sku: str | None = strawberry.field(default=None, description="The product's SKU.")
    barcode: str | None = strawberry.field(
        default=None, description="The product's barcode, instead of sku."
    )


@strawberry.input(description="The input of recordReturn.")
class RecordReturnInput:
    client_return_id: str = strawberry.field(description="A UUID the till chose for the return.")
    client_sale_id: str = strawberry.field(
        description="The client ID of the sale the goods came from; needs stock:write at "
        "its location."
    )
    lines: list[ReturnLineInput] = strawberry.field(
        description="What comes back: 1 to 200 lines, never more than was sold."
    )
    refunds: list[TenderInput] = strawberry.field(
        description="What is paid back; never more than was paid and not refunded yet."
    )
    reason: str = strawberry.field(description="Why, 1 to 200 characters.")
    occurred_at: datetime | None = strawberry.field(
        default=None, description="When, with a UTC offset; omitted: now."
    )


@strawberry.input(description="The input of voidSale.")
class VoidSaleInput:
    client_void_id: str = strawberry.field(description="A UUID the till chose for the void.")
    client_sale_id: str = strawberry.field(
        description="The client ID of the sale to undo; refused once its payments are "
        "matched in a reconciliation (record a return instead)."
    )
    reason: str = strawberry.field(description="Why, 1 to 200 characters.")
    occurred_at: datetime | None = strawberry.field(
        default=None, description="When, with a UTC offset; omitted: now."
    )


@strawberry.type(
    description="The result of recordReturn and voidSale: what changed, or userErrors."
)
class SaleReversalPayload:
    reversal: SaleReversal | None = strawberry.field(
        description="The return or void; null when refused."
    )
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
    device: PosDevice = strawberry.field(description="The till.")
    last_sync_at: datetime | None = strawberry.field(description="When it last synced a batch.")
    last_sale_at: datetime | None = strawberry.field(description="The latest sale's occurredAt.")
    last_client_sale_id: str | None = strawberry.field(
        description="The client sale ID of its latest sale."
    )
    sales_count: int = strawberry.field(description="Sales it has synced.")
    voided_count: int = strawberry.field(description="Of them, voided.")
    returns_count: int = strawberry.field(description="Returns it has synced.")
