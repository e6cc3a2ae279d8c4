"""Point-of-sale operations: arguments → one domain call → schema types."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from auth.caller import Caller
from domain import ids
from domain.errors import NotFound
from domain.pagination import page_size
from domain.pos import batch_reversals, devices, returns, sync
from domain.pos.tenders import Tender
from resolvers._mutation import MutationSpec, not_replayed, run_mutation
from schema.errors import UserError
from schema.members import Sale
from schema.pos import (
    DevicePayload,
    DeviceSyncStatus,
    DisableDeviceInput,
    PosDevice,
    RecordReturnInput,
    RegisterDeviceInput,
    RegisterDevicePayload,
    SaleReversal,
    SaleReversalPayload,
    SyncReversalResult,
    SyncSaleResult,
    SyncSalesInput,
    SyncSalesPayload,
    SyncSaleStatus,
    TenderInput,
    VoidSaleInput,
)
from schema.relay import After, Connection, First, connection, decode_id, int_cursor

REGISTER = MutationSpec(
    action="pos.device.register",
    audit=devices.audit_registered,
    snapshot=not_replayed,
    restore=not_replayed,
)
DISABLE = MutationSpec(
    action="pos.device.disable",
    audit=devices.audit_disabled,
    snapshot=not_replayed,
    restore=not_replayed,
)
SYNC = MutationSpec(
    action="pos.sales.sync",
    audit=sync.audit_entry,
    snapshot=not_replayed,
    restore=not_replayed,
    redact=lambda data: {"device_id": data.get("device_id"), "sales": len(data.get("sales", []))},
)
RETURN = MutationSpec(
    action="pos.sale.return",
    audit=lambda r: returns.audit_entry("pos.sale.return", r),
    snapshot=not_replayed,
    restore=not_replayed,
)
VOID = MutationSpec(
    action="pos.sale.void",
    audit=lambda r: returns.audit_entry("pos.sale.void", r),
    snapshot=not_replayed,
    restore=not_replayed,
)


def _tenders(values: list[TenderInput]) -> tuple[Tender, ...]:
    return tuple(
        Tender(
            method=t.method,
            amount=t.amount,
            provider_reference=t.provider_reference,
            terminal_id=t.terminal_id,
        )
        for t in values
    )


def _pk(value: strawberry.ID | None, type_name: str) -> int | None:
    """An ID inside one sale: unknown ones become 0, which matches nothing, so the
    refusal is that sale's alone."""
    if value is None:
        return None
    return ids.decode_int(str(value), type_name) or 0


async def register_device(
    info: Info,
    input: Annotated[
        RegisterDeviceInput, strawberry.argument(description="What to do; see RegisterDeviceInput.")
    ],
) -> RegisterDevicePayload:
    async def execute(session: AsyncSession, caller: Caller, request_id: str) -> Any:
        cmd = devices.RegisterDevice(
            location_id=decode_id(input.location_id, "Location", ["locationId"]), name=input.name
        )
        return await devices.register_device(session, caller, cmd)

    def render(r: devices.Registered) -> RegisterDevicePayload:
        return RegisterDevicePayload(
            device=PosDevice.from_row(r.device),
            client_id=r.client_id,
            client_secret=r.client_secret,
            user_errors=[],
        )

    return await run_mutation(info, REGISTER, RegisterDevicePayload, input, execute, render)


async def disable_device(
    info: Info,
    input: Annotated[
        DisableDeviceInput, strawberry.argument(description="What to do; see DisableDeviceInput.")
    ],
) -> DevicePayload:
    async def execute(session: AsyncSession, caller: Caller, request_id: str) -> Any:
        cmd = devices.DisableDevice(
            device_id=decode_id(input.id, "PosDevice", ["id"]), reason=input.reason
        )
        return await devices.disable_device(session, caller, cmd)

    def render(row: Any) -> DevicePayload:
        return DevicePayload(device=PosDevice.from_row(row), user_errors=[])

    return await run_mutation(info, DISABLE, DevicePayload, input, execute, render)


def _return_command(input: RecordReturnInput) -> returns.RecordReturn:
    return returns.RecordReturn(
        client_return_id=input.client_return_id,
        client_sale_id=input.client_sale_id,
        lines=tuple(
            returns.ReturnLine(quantity=ln.quantity, sku=ln.sku, barcode=ln.barcode)
            for ln in input.lines
        ),
        refunds=_tenders(input.refunds),
        reason=input.reason,
        occurred_at=input.occurred_at,
    )


def _void_command(input: VoidSaleInput) -> returns.VoidSale:
    return returns.VoidSale(
        client_void_id=input.client_void_id,
        client_sale_id=input.client_sale_id,
        reason=input.reason,
        occurred_at=input.occurred_at,
    )


def _sync_command(input: SyncSalesInput) -> sync.SyncSales:
    return sync.SyncSales(
        returns=tuple(_return_command(r) for r in input.returns or ()),
        voids=tuple(_void_command(v) for v in input.voids or ()),
        device_id=decode_id(input.device_id, "PosDevice", ["deviceId"]),
        sales=tuple(
            sync.SyncSale(
                client_sale_id=s.client_sale_id,
                occurred_at=s.occurred_at,
                lines=tuple(
                    sync.SyncLine(
                        quantity=ln.quantity,
                        sku=ln.sku,
                        barcode=ln.barcode,
                        unit_price=ln.unit_price,
                        discount=ln.discount,
                    )
                    for ln in s.lines
                ),
                tenders=_tenders(s.tenders),
                member_id=_pk(s.member_id, "Member"),
                receipt_number=s.receipt_number,
                location_id=_pk(s.location_id, "Location"),
            )
            for s in input.sales
        ),
    )


def _render_sync(result: sync.SyncResult) -> SyncSalesPayload:
    results = [
        SyncSaleResult(
            client_sale_id=o.client_sale_id,
            status=SyncSaleStatus(o.status),
            sale=Sale.from_row(o.sale) if o.sale is not None else None,
            user_errors=[UserError.from_domain(e) for e in o.errors],
        )
        for o in result.outcomes
    ]
    count = {s: sum(1 for o in result.outcomes if o.status == s.value) for s in SyncSaleStatus}
    return SyncSalesPayload(
        device=PosDevice.from_row(result.device),
        results=results,
        accepted=count[SyncSaleStatus.ACCEPTED],
        duplicates=count[SyncSaleStatus.DUPLICATE],
        rejected=count[SyncSaleStatus.REJECTED],
        return_results=[_reversal_result(o) for o in result.returns],
        void_results=[_reversal_result(o) for o in result.voids],
        user_errors=[],
    )


def _reversal_result(o: batch_reversals.ReversalOutcome) -> SyncReversalResult:
    return SyncReversalResult(
        client_id=o.client_id,
        status=SyncSaleStatus(o.status),
        reversal=SaleReversal.from_row(o.reversal) if o.reversal is not None else None,
        user_errors=[UserError.from_domain(e) for e in o.errors],
    )


async def sync_sales(
    info: Info,
    input: Annotated[
        SyncSalesInput, strawberry.argument(description="What to do; see SyncSalesInput.")
    ],
) -> SyncSalesPayload:
    async def execute(session: AsyncSession, caller: Caller, request_id: str) -> Any:
        return await sync.sync_sales(session, caller, _sync_command(input), request_id=request_id)

    return await run_mutation(info, SYNC, SyncSalesPayload, input, execute, _render_sync)


def _render_reversal(result: returns.ReversalResult) -> SaleReversalPayload:
    return SaleReversalPayload(
        reversal=SaleReversal.from_row(result.reversal),
        status=SyncSaleStatus(result.status),
        user_errors=[],
    )


async def record_return(
    info: Info,
    input: Annotated[
        RecordReturnInput, strawberry.argument(description="What to do; see RecordReturnInput.")
    ],
) -> SaleReversalPayload:
    async def execute(session: AsyncSession, caller: Caller, request_id: str) -> Any:
        cmd = _return_command(input)
        return await returns.record_return(session, caller, cmd, request_id=request_id)

    return await run_mutation(info, RETURN, SaleReversalPayload, input, execute, _render_reversal)


async def void_sale(
    info: Info,
    input: Annotated[
        VoidSaleInput, strawberry.argument(description="What to do; see VoidSaleInput.")
    ],
) -> SaleReversalPayload:
    async def execute(session: AsyncSession, caller: Caller, request_id: str) -> Any:
        cmd = _void_command(input)
        return await returns.void_sale(session, caller, cmd, request_id=request_id)

    return await run_mutation(info, VOID, SaleReversalPayload, input, execute, _render_reversal)


async def devices_(
    info: Info,
    first: First = None,
    after: After = None,
    location_id: Annotated[
        strawberry.ID | None, strawberry.argument(description="Only tills of this location.")
    ] = None,
) -> Connection[PosDevice]:
    caller = info.context.viewer
    limit = page_size(first)
    cursor = int_cursor(after)
    location = _pk(location_id, "Location")
    async with info.context.db.tenant_transaction(caller.tenant_id) as session:
        page = await devices.list_devices(
            session, caller, limit=limit, after=cursor, location_id=location
        )
    return connection(page, PosDevice.from_row, lambda r: r.id)


async def device_sync_status(
    info: Info,
    device_id: Annotated[strawberry.ID, strawberry.argument(description="The till's global ID.")],
) -> DeviceSyncStatus | None:
    caller = info.context.viewer
    pk = decode_id(device_id, "PosDevice", ["deviceId"])
    try:
        async with info.context.db.tenant_transaction(caller.tenant_id) as session:
            status = await devices.sync_status(session, caller, pk)
    except NotFound:
        return None  # unknown, foreign and other devices' alike
    d = status.device
    return DeviceSyncStatus(
        device=PosDevice.from_row(d),
        last_sync_at=d.last_sync_at,
        last_sale_at=d.last_sale_at,
        last_client_sale_id=d.last_client_sale_id,
        sales_count=status.sales,
        voided_count=status.voided,
        returns_count=status.returns,
    )
