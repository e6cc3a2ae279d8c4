"""Transfer operations: arguments → one domain call → schema types."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from auth.caller import Caller
from domain import ids
from domain.approvals.service import Decision
from domain.audit.service import AuditEntry
from domain.pagination import page_size
from domain.transfers import queries, service
from domain.transfers.records import TransferOutcome
from domain.transfers.state import TransferStatus as DomainStatus
from resolvers._mutation import MutationSpec, run_mutation
from schema.relay import After, Connection, First, connection, decode_id, int_cursor
from schema.transfers import (
    CreateTransferInput,
    ReceiveTransferInput,
    ResolveTransferDiscrepancyInput,
    ShipTransferInput,
    Transfer,
    TransferLineInput,
    TransferPayload,
    TransitionTransferInput,
)

Execute = Callable[[AsyncSession, Caller, str], Awaitable[TransferOutcome]]


def audit_entry(action: str, outcome: TransferOutcome) -> AuditEntry:
    t = outcome.transfer
    return AuditEntry(
        action=action,
        target_type="Transfer",
        target_id=ids.encode("Transfer", t.id),
        before={"status": outcome.before_status} if outcome.before_status else None,
        after={
            "status": t.status,
            "version": t.version,
            "movementSequences": list(outcome.movement_sequences),
            "decision": outcome.decision.to_json() if outcome.decision else None,
        },
        reason=outcome.decision.comment if outcome.decision else None,
    )


def _spec(action: str) -> MutationSpec:
    return MutationSpec(
        action=action,
        audit=lambda outcome: audit_entry(action, outcome),
        snapshot=lambda outcome: outcome.to_json(),
        restore=TransferOutcome.from_json,
    )


CREATE = _spec("transfer.create")
REQUEST = _spec("transfer.request")
APPROVE = _spec("transfer.approve")
REJECT = _spec("transfer.reject")
SHIP = _spec("transfer.ship")
RECEIVE = _spec("transfer.receive")
RESOLVE = _spec("transfer.resolve")
CANCEL = _spec("transfer.cancel")


async def _run(info: Info, spec: MutationSpec, input: Any, execute: Execute) -> TransferPayload:
    return await run_mutation(
        info, spec, TransferPayload, input, execute, TransferPayload.from_outcome
    )


def _id(value: strawberry.ID) -> int:
    return decode_id(value, "Transfer", ["id"])


def _lines(lines: list[TransferLineInput]) -> tuple[service.Line, ...]:
    return tuple(service.Line(sku=ln.sku, quantity=ln.quantity) for ln in lines)


async def create_transfer(
    info: Info,
    input: Annotated[
        CreateTransferInput, strawberry.argument(description="What to do; see CreateTransferInput.")
    ],
) -> TransferPayload:
    async def execute(session: AsyncSession, caller: Caller, request_id: str) -> TransferOutcome:
        cmd = service.CreateTransfer(
            from_location_id=decode_id(input.from_location_id, "Location", ["fromLocationId"]),
            to_location_id=decode_id(input.to_location_id, "Location", ["toLocationId"]),
            lines=_lines(input.lines),
            note=input.note,
            submit=input.submit,
        )
        return await service.create_transfer(session, caller, cmd)

    return await _run(info, CREATE, input, execute)


def _transition(
    spec: MutationSpec,
    call: Callable[[AsyncSession, Caller, service.TransitionTransfer], Awaitable[TransferOutcome]],
) -> Callable[[Info, TransitionTransferInput], Awaitable[TransferPayload]]:
    async def resolver(
        info: Info,
        input: Annotated[
            TransitionTransferInput,
            strawberry.argument(description="What to do; see TransitionTransferInput."),
        ],
    ) -> TransferPayload:
        async def execute(session: AsyncSession, caller: Caller, _: str) -> TransferOutcome:
            cmd = service.TransitionTransfer(id=_id(input.id), comment=input.comment)
            return await call(session, caller, cmd)

        return await _run(info, spec, input, execute)

    return resolver


async def _approve(
    session: AsyncSession, caller: Caller, cmd: service.TransitionTransfer
) -> TransferOutcome:
    return await service.decide_transfer(session, caller, cmd, Decision.APPROVE)


async def _reject(
    session: AsyncSession, caller: Caller, cmd: service.TransitionTransfer
) -> TransferOutcome:
    return await service.decide_transfer(session, caller, cmd, Decision.REJECT)


request_transfer = _transition(REQUEST, service.request_transfer)
approve_transfer = _transition(APPROVE, _approve)
reject_transfer = _transition(REJECT, _reject)
cancel_transfer = _transition(CANCEL, service.cancel_transfer)


async def ship_transfer(
    info: Info,
    input: Annotated[
        ShipTransferInput, strawberry.argument(description="What to do; see ShipTransferInput.")
    ],
) -> TransferPayload:
    async def execute(session: AsyncSession, caller: Caller, request_id: str) -> TransferOutcome:
        cmd = service.ShipTransfer(
            id=_id(input.id), lines=_lines(input.lines) if input.lines is not None else None
        )
        return await service.ship_transfer(session, caller, cmd, request_id=request_id)

    return await _run(info, SHIP, input, execute)


async def receive_transfer(
    info: Info,
    input: Annotated[
        ReceiveTransferInput,
        strawberry.argument(description="What to do; see ReceiveTransferInput."),
    ],
) -> TransferPayload:
    async def execute(session: AsyncSession, caller: Caller, request_id: str) -> TransferOutcome:
        cmd = service.ReceiveTransfer(
            id=_id(input.id),
            lines=tuple(
                service.ReceiveLine(
                    sku=ln.sku,
                    quantity=ln.quantity,
                    rejected_quantity=ln.rejected_quantity or 0,
                    rejection_reason=ln.rejection_reason,
                )
                for ln in input.lines
            ),
        )
        return await service.receive_transfer(session, caller, cmd, request_id=request_id)

    return await _run(info, RECEIVE, input, execute)


async def resolve_transfer_discrepancy(
    info: Info,
    input: Annotated[
        ResolveTransferDiscrepancyInput,
        strawberry.argument(description="What to do; see ResolveTransferDiscrepancyInput."),
    ],
) -> TransferPayload:
    async def execute(session: AsyncSession, caller: Caller, request_id: str) -> TransferOutcome:
        cmd = service.ResolveDiscrepancy(
            id=_id(input.id),
            lines=tuple(
                service.ResolveLine(sku=ln.sku, quantity=ln.quantity) for ln in input.lines
            ),
            reason=input.reason,
            note=input.note,
        )
        return await service.resolve_discrepancy(session, caller, cmd, request_id=request_id)

    return await _run(info, RESOLVE, input, execute)


async def transfer(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="The transfer's global ID.")],
) -> Transfer | None:
    pk = decode_id(id, "Transfer", ["id"])
    row = await info.context.loaders.transfer_by_id.load(pk)
    return Transfer.from_row(row) if row is not None else None


async def transfers(
    info: Info,
    first: First = None,
    after: After = None,
    status: Annotated[
        DomainStatus | None, strawberry.argument(description="Only transfers in this status.")
    ] = None,
    location_id: Annotated[
        strawberry.ID | None,
        strawberry.argument(description="Only transfers from or to this location."),
    ] = None,
) -> Connection[Transfer]:
    caller = info.context.viewer
    limit = page_size(first)
    cursor = int_cursor(after)
    loc = None
    if location_id is not None:
        loc = decode_id(location_id, "Location", ["locationId"])
    db = info.context.db
    async with db.tenant_transaction(caller.tenant_id) as session:
        page = await queries.list_transfers(
            session, caller, limit=limit, after=cursor, status=status, location_id=loc
        )

    async def count() -> int:
        async with db.tenant_transaction(caller.tenant_id) as s:
            return await queries.count_transfers(s, caller, status, loc)

    return connection(page, Transfer.from_row, lambda r: r.id, count)
