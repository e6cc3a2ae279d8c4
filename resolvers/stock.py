"""Stock operations: arguments → one domain call → schema types."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from auth.caller import Caller
from domain import ids
from domain.audit.service import AuditEntry
from domain.pagination import page_size
from domain.stock import ledger, queries, service
from domain.stock.records import LevelRecord, StockChange
from resolvers._mutation import MutationSpec, run_mutation
from schema.catalog import PRODUCT_LOADER
from schema.loading import selected_below
from schema.relay import (
    After,
    Connection,
    First,
    connection,
    decode_id,
    decode_ids,
    int_cursor,
    pair_cursor,
)
from schema.scalars import BigInt
from schema.stock import (
    AdjustStockInput,
    ReceiveStockInput,
    RecordSaleInput,
    SetReorderPointInput,
    StockChangePayload,
    StockLevel,
    StockLevelPayload,
    StockMovement,
)


def _spec(action: str) -> MutationSpec:
    return MutationSpec(action, result=StockChange, settle=ledger.settle)


RECEIVE = _spec("stock.receive")
ADJUST = _spec("stock.adjust")
SALE = _spec("stock.sale")


async def receive_stock(
    info: Info,
    input: Annotated[
        ReceiveStockInput, strawberry.argument(description="What to do; see ReceiveStockInput.")
    ],
) -> StockChangePayload:
    async def execute(session: AsyncSession, caller: Caller, request_id: str) -> StockChange:
        cmd = service.ReceiveStock(
            location_id=decode_id(input.location_id, "Location", ["locationId"]),
            lines=tuple(
                service.ReceiptLine(sku=ln.sku, quantity=ln.quantity, unit_cost=ln.unit_cost)
                for ln in input.lines
            ),
            reference=input.reference,
        )
        return await service.receive_stock(session, caller, cmd, request_id=request_id)

    return await run_mutation(
        info, RECEIVE, StockChangePayload, input, execute, StockChangePayload.from_change
    )


async def adjust_stock(
    info: Info,
    input: Annotated[
        AdjustStockInput, strawberry.argument(description="What to do; see AdjustStockInput.")
    ],
) -> StockChangePayload:
    async def execute(session: AsyncSession, caller: Caller, request_id: str) -> StockChange:
        cmd = service.AdjustStock(
            location_id=decode_id(input.location_id, "Location", ["locationId"]),
            sku=input.sku,
            delta=input.delta,
            reason=input.reason,
            note=input.note,
            expected_on_hand=input.expected_on_hand,
        )
        return await service.adjust_stock(session, caller, cmd, request_id=request_id)

    return await run_mutation(
        info, ADJUST, StockChangePayload, input, execute, StockChangePayload.from_change
    )


async def record_sale(
    info: Info,
    input: Annotated[
        RecordSaleInput, strawberry.argument(description="What to do; see RecordSaleInput.")
    ],
) -> StockChangePayload:
    async def execute(session: AsyncSession, caller: Caller, request_id: str) -> StockChange:
        cmd = service.RecordSale(
            location_id=decode_id(input.location_id, "Location", ["locationId"]),
            receipt_number=input.receipt_number,
            lines=tuple(
                service.SaleLine(sku=ln.sku, quantity=ln.quantity, unit_price=ln.unit_price)
                for ln in input.lines
            ),
            occurred_at=input.occurred_at,
            member_id=decode_id(input.member_id, "Member", ["memberId"])
            if input.member_id is not None
            else None,
            payments=tuple(
                service.Payment(method=p.method, amount=p.amount, reference=p.reference)
                for p in input.payments or ()
            ),
            currency=input.currency.value if input.currency is not None else None,
        )
        return await service.record_sale(
            session, caller, cmd, request_id=request_id, audits_itself=True
        )

    return await run_mutation(
        info, SALE, StockChangePayload, input, execute, StockChangePayload.from_change
    )


async def stock_level(
    info: Info,
    location_id: Annotated[
        strawberry.ID, strawberry.argument(description="The location's global ID.")
    ],
    sku: Annotated[str, strawberry.argument(description="The product's SKU.")],
) -> StockLevel | None:
    pk = decode_id(location_id, "Location", ["locationId"])
    caller = info.context.viewer
    async with info.context.db.tenant_transaction(caller.tenant_id) as session:
        row = await queries.level_at(session, caller, pk, sku)
    return StockLevel.from_row(row) if row is not None else None


async def stock_levels(
    info: Info,
    first: First = None,
    after: After = None,
    location_ids: Annotated[
        list[strawberry.ID] | None,
        strawberry.argument(description="Only levels at these locations (Location IDs)."),
    ] = None,
    skus: Annotated[
        list[str] | None, strawberry.argument(description="Only levels of these SKUs.")
    ] = None,
    below_reorder_point: Annotated[
        bool | None,
        strawberry.argument(
            description="true: only levels whose available quantity is at or below (<=) "
            "their reorder point; false: only those above it or without one. "
            "Omit for all."
        ),
    ] = None,
) -> Connection[StockLevel]:
    caller = info.context.viewer
    limit = page_size(first)
    key = pair_cursor(after)
    locs = decode_ids(location_ids, "Location", "locationIds")
    db = info.context.db
    # the products the selection reads come in the same statement (one fewer per page)
    products: dict[int, Any] | None = {} if "product" in selected_below(info) else None
    page = await db.read(
        caller.tenant_id,
        lambda reader: queries.list_levels(
            reader,
            caller,
            limit=limit,
            after=key,
            location_ids=locs,
            skus=skus,
            below_reorder_point=below_reorder_point,
            products=products,
        ),
    )
    if products:
        info.context.loaders.seed(PRODUCT_LOADER, products)

    async def count() -> int:
        return await db.read(
            caller.tenant_id,
            lambda reader: queries.count_levels(reader, caller, locs, skus, below_reorder_point),
        )

    return connection(page, StockLevel.from_row, lambda r: [r.location_id, r.product_id], count)


async def stock_movements(
    info: Info,
    first: First = None,
    after: After = None,
    location_id: Annotated[
        strawberry.ID | None, strawberry.argument(description="Only movements at this location.")
    ] = None,
    sku: Annotated[
        str | None, strawberry.argument(description="Only movements of this SKU.")
    ] = None,
    after_sequence: Annotated[
        BigInt | None,
        strawberry.argument(
            description="Only movements with a sequence above this one (to resume from the "
            "last sequence seen); after: wins when both are given."
        ),
    ] = None,
) -> Connection[StockMovement]:
    """Ledger rows in commit order; `after` (a cursor) wins over `afterSequence`."""
    caller = info.context.viewer
    limit = page_size(first)
    cursor = int_cursor(after)
    start = cursor if cursor is not None else after_sequence
    loc = None
    if location_id is not None:
        loc = decode_id(location_id, "Location", ["locationId"])
    async with info.context.db.tenant_transaction(caller.tenant_id) as session:
        page = await queries.list_movements(
            session, caller, limit=limit, after_sequence=start, location_id=loc, sku=sku
        )
    return connection(page, StockMovement.from_row, lambda r: r.sequence)


def _point_audit(result: tuple[LevelRecord, int | None]) -> AuditEntry:
    level, before = result
    return AuditEntry(
        action="stock.set_reorder_point",
        target_type="StockLevel",
        target_id=ids.encode("StockLevel", level.id),
        before={"reorderPoint": before},
        after={"reorderPoint": level.reorder_point},
    )


SET_POINT = MutationSpec(
    action="stock.set_reorder_point",
    audit=_point_audit,
    snapshot=lambda result: {"level": result[0].to_json(), "before": result[1]},
    restore=lambda data: (LevelRecord.from_json(data["level"]), data["before"]),
)


async def set_reorder_point(
    info: Info,
    input: Annotated[
        SetReorderPointInput,
        strawberry.argument(description="What to do; see SetReorderPointInput."),
    ],
) -> StockLevelPayload:
    async def execute(
        session: AsyncSession, caller: Caller, request_id: str
    ) -> tuple[LevelRecord, int | None]:
        cmd = service.SetReorderPoint(
            location_id=decode_id(input.location_id, "Location", ["locationId"]),
            sku=input.sku,
            reorder_point=input.reorder_point,
        )
        return await service.set_reorder_point(session, caller, cmd)

    return await run_mutation(
        info,
        SET_POINT,
        StockLevelPayload,
        input,
        execute,
        lambda result: StockLevelPayload(
            stock_level=StockLevel.from_row(result[0]), user_errors=[]
        ),
    )
