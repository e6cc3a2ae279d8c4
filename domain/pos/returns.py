"""Returns and voids of synced sales, each exactly once per (tenant, client ID).

A return brings goods back (RETURN movements) with a reason and refunds
tenders (negative tender rows); it can never return more than was sold or
refund more than was paid. A void undoes the whole sale, and only before
settlement: once a tender of the sale is matched in a current reconciliation
run, the money has moved and a return is the way back.

Exactly once works as for sales: the client ID is claimed with
``INSERT … ON CONFLICT DO NOTHING``; the sale row is locked first, so two
reversals of one sale are checked one after the other.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from auth.permissions import Permission
from db.models import PosTender
from domain import ids
from domain.access import require
from domain.audit.service import AuditEntry
from domain.errors import InvalidInput, InvalidTransition, NotFound
from domain.pos.client_ids import client_id_of
from domain.pos.devices import caller_device
from domain.pos.tenders import Tender, check_tenders
from domain.stock.ledger import Posting, post
from domain.stock.records import MovementKind


@dataclass(frozen=True, slots=True)
class ReturnLine:
    quantity: int
    sku: str | None = None
    barcode: str | None = None


@dataclass(frozen=True, slots=True)
class RecordReturn:
    client_return_id: str
    client_sale_id: str
    lines: tuple[ReturnLine, ...]
    refunds: tuple[Tender, ...]
    reason: str
    occurred_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class VoidSale:
    client_void_id: str
    client_sale_id: str
    reason: str
    occurred_at: datetime | None = None


@dataclass(slots=True)
class ReversalResult:
    status: str  # ACCEPTED | DUPLICATE
    reversal: Any


_SALE = text(
    """
    SELECT p.*, s.receipt_number FROM pos_sales p
    JOIN sales s ON s.tenant_id = p.tenant_id AND s.id = p.sale_id
    WHERE p.tenant_id = :t AND p.client_sale_id = :client
    FOR UPDATE OF p
    """
)
_EXISTING = text("SELECT * FROM pos_reversals WHERE tenant_id = :t AND client_id = :client")
_CLAIM = text(
    """
    INSERT INTO pos_reversals (tenant_id, client_id, kind, pos_sale_id, device_id, location_id,
                               reason, occurred_at, amount, lines, created_by)
    VALUES (:t, :client, :kind, :sale, :device, :location, :reason, :occurred, :amount,
            CAST(:lines AS jsonb), :actor)
    ON CONFLICT (tenant_id, client_id) DO NOTHING
    RETURNING *
    """
)
_SOLD = text(
    """
    SELECT m.product_id, p.sku, -SUM(m.delta) AS units FROM stock_movements m
    JOIN products p ON p.tenant_id = m.tenant_id AND p.id = m.product_id
    WHERE m.tenant_id = :t AND m.sale_id = :sale AND m.kind = 'SALE'
    GROUP BY m.product_id, p.sku
    """
)
_BARCODES = text(
    "SELECT sku, barcode FROM products WHERE tenant_id = :t AND barcode = ANY(CAST(:c AS text[]))"
)
_DONE = text(
    """
    SELECT kind, lines, amount FROM pos_reversals WHERE tenant_id = :t AND pos_sale_id = :sale
    """
)
_PAYMENTS = text(
    """
    SELECT * FROM pos_tenders WHERE tenant_id = :t AND pos_sale_id = :sale
      AND reversal_id IS NULL ORDER BY position
    """
)
_SETTLED = text(
    """
    SELECT 1 FROM reconciliation_lines l
    JOIN reconciliation_runs r ON r.tenant_id = l.tenant_id AND r.id = l.run_id
    JOIN pos_tenders t ON t.tenant_id = l.tenant_id AND t.id = l.tender_id
    WHERE l.tenant_id = :t AND t.pos_sale_id = :sale AND r.status = 'CURRENT'
      AND l.status = 'MATCHED'
    LIMIT 1
    """
)
_VOIDED = text(
    "UPDATE pos_sales SET status = 'VOIDED', voided_at = :now WHERE tenant_id = :t AND id = :id"
)


def _reason(value: str) -> str:
    reason = value.strip()
    if not 0 < len(reason) <= 200:
        raise InvalidInput("reason must be 1 to 200 characters", ["reason"])
    return reason


async def _sale(session: AsyncSession, caller: Caller, client_sale_id: str) -> Any:
    client = client_id_of(client_sale_id, ["clientSaleId"])
    row = (await session.execute(_SALE, {"t": caller.tenant_id, "client": client})).first()
    if row is None:
        raise NotFound("no synced sale with this client sale ID", ["clientSaleId"])
    require(caller, Permission.STOCK_WRITE, row.location_id, ["clientSaleId"])
    return row


async def _existing(session: AsyncSession, caller: Caller, client: str) -> Any:
    return (await session.execute(_EXISTING, {"t": caller.tenant_id, "client": client})).first()


async def _claim(
    session: AsyncSession,
    caller: Caller,
    client: str,
    kind: str,
    sale: Any,
    reason: str,
    occurred: datetime,
    amount: Decimal,
    lines: list[dict[str, Any]],
    device_id: int | None,
) -> Any:
    if device_id is None:
        device = await caller_device(session, caller)
        device_id = device.id if device is not None else None
    return (
        await session.execute(
            _CLAIM,
            {
                "t": caller.tenant_id,
                "client": client,
                "kind": kind,
                "sale": sale.id,
                "device": device_id,
                "location": sale.location_id,
                "reason": reason,
                "occurred": occurred,
                "amount": amount,
                "lines": json.dumps(lines),
                "actor": caller.subject,
            },
        )
    ).first()


async def _refund_rows(
    session: AsyncSession,
    caller: Caller,
    sale: Any,
    reversal: Any,
    tenders: list[tuple[str, Decimal, str | None, str | None]],
) -> None:
    if not tenders:
        return
    await session.execute(
        insert(PosTender),
        [
            {
                "tenant_id": caller.tenant_id,
                "pos_sale_id": sale.id,
                "reversal_id": reversal.id,
                "position": k,
                "device_id": reversal.device_id,
                "location_id": sale.location_id,
                "method": method,
                "amount": -amount,
                "provider_reference": reference,
                "terminal_id": terminal,
                "occurred_at": reversal.occurred_at,
            }
            for k, (method, amount, reference, terminal) in enumerate(tenders)
        ],
    )


async def record_return(
    session: AsyncSession,
    caller: Caller,
    cmd: RecordReturn,
    *,
    request_id: str | None = None,
    device_id: int | None = None,
) -> ReversalResult:
    """Goods back into stock and tenders refunded, within what was sold and paid."""
    client = client_id_of(cmd.client_return_id, ["clientReturnId"])
    found = await _existing(session, caller, client)
    if found is not None:
        return ReversalResult(status="DUPLICATE", reversal=found)
    sale = await _sale(session, caller, cmd.client_sale_id)
    reason = _reason(cmd.reason)
    if sale.status != "COMPLETED":
        raise InvalidTransition("a voided sale cannot be returned", ["clientSaleId"])
    if not 0 < len(cmd.lines) <= 200:
        raise InvalidInput("a return has 1 to 200 lines", ["lines"])
    t = caller.tenant_id
    sold = {r.sku: r for r in await session.execute(_SOLD, {"t": t, "sale": sale.sale_id})}
    codes = [ln.barcode for ln in cmd.lines if ln.barcode is not None]
    sku_of = (
        {r.barcode: r.sku for r in await session.execute(_BARCODES, {"t": t, "c": codes})}
        if codes
        else {}
    )
    returned: dict[str, int] = defaultdict(int)
    refunded = Decimal("0")
    for r in await session.execute(_DONE, {"t": t, "sale": sale.id}):
        refunded += r.amount
        for ln in r.lines:
            returned[ln["sku"]] += int(ln["quantity"])
    wanted: dict[str, int] = defaultdict(int)
    for i, ln in enumerate(cmd.lines):
        sku = ln.sku if ln.sku is not None else sku_of.get(ln.barcode or "")
        if sku is None or sku not in sold:
            raise NotFound("this sale has no such product", ["lines", str(i)])
        if not 0 < ln.quantity <= 1_000_000:
            raise InvalidInput("quantity must be positive", ["lines", str(i), "quantity"])
        wanted[sku] += ln.quantity
        if wanted[sku] > sold[sku].units - returned[sku]:
            raise InvalidInput(
                f"only {sold[sku].units - returned[sku]} of {sku} can still be returned",
                ["lines", str(i), "quantity"],
            )
    amount = check_tenders(cmd.refunds, ["refunds"])
    if amount > sale.total - refunded:
        raise InvalidInput(f"at most {sale.total - refunded} can still be refunded", ["refunds"])
    occurred = cmd.occurred_at or datetime.now(UTC)
    if occurred.tzinfo is None:
        raise InvalidInput("occurredAt needs a UTC offset", ["occurredAt"])
    lines = [{"sku": sku, "quantity": q} for sku, q in sorted(wanted.items())]
    reversal = await _claim(
        session, caller, client, "RETURN", sale, reason, occurred, amount, lines, device_id
    )
    if reversal is None:  # a concurrent twin committed first
        return ReversalResult(status="DUPLICATE", reversal=await _existing(session, caller, client))
    await post(
        session,
        caller,
        [
            Posting(
                location_id=sale.location_id,
                product_id=sold[sku].product_id,
                kind=MovementKind.RETURN,
                delta=q,
                reason="RETURN",
                note=reason,
                reference=sale.receipt_number,
                occurred_at=occurred,
            )
            for sku, q in sorted(wanted.items())
        ],
        request_id=request_id,
    )
    await _refund_rows(
        session,
        caller,
        sale,
        reversal,
        [(tn.method.value, tn.amount, tn.provider_reference, tn.terminal_id) for tn in cmd.refunds],
    )
    return ReversalResult(status="ACCEPTED", reversal=reversal)


async def void_sale(
    session: AsyncSession,
    caller: Caller,
    cmd: VoidSale,
    *,
    request_id: str | None = None,
    device_id: int | None = None,
) -> ReversalResult:
    """The whole sale undone: every unit back, every tender reversed. Before settlement only."""
    client = client_id_of(cmd.client_void_id, ["clientVoidId"])
    found = await _existing(session, caller, client)
    if found is not None:
        return ReversalResult(status="DUPLICATE", reversal=found)
    sale = await _sale(session, caller, cmd.client_sale_id)
    reason = _reason(cmd.reason)
    t = caller.tenant_id
    if sale.status != "COMPLETED":
        raise InvalidTransition("this sale is already voided", ["clientSaleId"])
    if (await session.execute(_DONE, {"t": t, "sale": sale.id})).first() is not None:
        raise InvalidTransition("this sale has returns; record a return instead", ["clientSaleId"])
    if (await session.execute(_SETTLED, {"t": t, "sale": sale.id})).first() is not None:
        raise InvalidTransition("this sale is settled; record a return instead", ["clientSaleId"])
    sold = list(await session.execute(_SOLD, {"t": t, "sale": sale.sale_id}))
    payments = list(await session.execute(_PAYMENTS, {"t": t, "sale": sale.id}))
    occurred = cmd.occurred_at or datetime.now(UTC)
    if occurred.tzinfo is None:
        raise InvalidInput("occurredAt needs a UTC offset", ["occurredAt"])
    lines = [{"sku": r.sku, "quantity": int(r.units)} for r in sold]
    reversal = await _claim(
        session, caller, client, "VOID", sale, reason, occurred, sale.total, lines, device_id
    )
    if reversal is None:
        return ReversalResult(status="DUPLICATE", reversal=await _existing(session, caller, client))
    await post(
        session,
        caller,
        [
            Posting(
                location_id=sale.location_id,
                product_id=r.product_id,
                kind=MovementKind.RETURN,
                delta=int(r.units),
                reason="VOID",
                note=reason,
                reference=sale.receipt_number,
                occurred_at=occurred,
            )
            for r in sold
            if r.units > 0
        ],
        request_id=request_id,
    )
    await _refund_rows(
        session,
        caller,
        sale,
        reversal,
        [(p.method, p.amount, p.provider_reference, p.terminal_id) for p in payments],
    )
    await session.execute(_VOIDED, {"t": t, "id": sale.id, "now": datetime.now(UTC)})
    return ReversalResult(status="ACCEPTED", reversal=reversal)


def audit_entry(action: str, result: ReversalResult) -> AuditEntry:
    r = result.reversal
    return AuditEntry(
        action=action,
        target_type="SaleReversal",
        target_id=ids.encode("SaleReversal", r.id),
        after={
            "status": result.status,
            "kind": r.kind,
            "clientId": r.client_id,
            "amount": str(r.amount),
            "lines": r.lines,
        },
    )
