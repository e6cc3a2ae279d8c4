"""What a manager does with a suggestion: accept it, dismiss it, draft the purchase orders.

Accepting recomputes the suggestion inside the transaction (so it acts on the
numbers of now, not of the page the manager looked at), creates the transfer
part through the transfers service (REQUESTED: the approval policies apply),
and records the purchase part as accepted; ``draft_purchase_orders`` turns the
accepted purchases of some locations into one DRAFT per supplier and location.
Until then, accepted purchases count as on the way in later suggestions.

A supplier's minimum order value is enforced there: an order that would come to
less (quantity × unit cost over its lines) is not drafted but *held* — its
accepted purchases stay pending, still counted as on the way, so the next
accepted suggestions for that supplier and location add to the same order — and
the answer says which orders were held and by how much they fall short. A buyer
who needs the goods anyway drafts with ``allow_below_minimum``; that order then
says it is below the minimum (``PurchaseOrder.belowMinimumOrder``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Table, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from auth.permissions import Permission
from db.models import ReplenishmentDecision, Supplier
from domain.access import require
from domain.catalog.lookup import location_row, products_by_sku
from domain.errors import InvalidInput, NotFound
from domain.purchasing import service as purchasing
from domain.purchasing.records import PurchaseOrderOutcome
from domain.replenishment.suggestions import Suggestion, suggest
from domain.transfers import service as transfers
from domain.transfers.records import TransferOutcome

DEC = cast(Table, ReplenishmentDecision.__table__)


class DismissReason(StrEnum):
    NOT_NEEDED = "NOT_NEEDED"
    PROMOTION_ENDED = "PROMOTION_ENDED"
    STOCK_ELSEWHERE = "STOCK_ELSEWHERE"
    SUPPLIER_UNAVAILABLE = "SUPPLIER_UNAVAILABLE"
    DISCONTINUED = "DISCONTINUED"
    OTHER = "OTHER"


@dataclass(frozen=True, slots=True)
class DecideSuggestion:
    location_id: int | None
    sku: str
    reason: DismissReason | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Decided:
    decision_id: int
    decision: str
    location_id: int
    product_id: int
    sku: str
    transfer_quantity: int
    purchase_quantity: int
    supplier_id: int | None
    transfer_ids: tuple[int, ...]
    reason: str | None
    suggestion: Suggestion | None = None
    transfers: tuple[TransferOutcome, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "decisionId": self.decision_id,
            "decision": self.decision,
            "locationId": self.location_id,
            "productId": self.product_id,
            "sku": self.sku,
            "transferQuantity": self.transfer_quantity,
            "purchaseQuantity": self.purchase_quantity,
            "supplierId": self.supplier_id,
            "transferIds": list(self.transfer_ids),
            "reason": self.reason,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Decided:
        return cls(
            decision_id=d["decisionId"],
            decision=d["decision"],
            location_id=d["locationId"],
            product_id=d["productId"],
            sku=d["sku"],
            transfer_quantity=d["transferQuantity"],
            purchase_quantity=d["purchaseQuantity"],
            supplier_id=d["supplierId"],
            transfer_ids=tuple(d["transferIds"]),
            reason=d["reason"],
        )


async def _current(
    session: AsyncSession, caller: Caller, cmd: DecideSuggestion
) -> tuple[int, Suggestion]:
    location = await location_row(session, caller, cmd.location_id, ["locationId"])
    require(caller, Permission.STOCK_WRITE, location.id, ["locationId"])
    product = (await products_by_sku(session, caller, [cmd.sku], lines=False))[cmd.sku]
    found = await suggest(session, caller, location.id, [product.id])
    if not found or found[0].quantity == 0:
        raise NotFound("there is no suggestion for this SKU here now", ["sku"])
    return location.id, found[0]


async def accept(session: AsyncSession, caller: Caller, cmd: DecideSuggestion) -> Decided:
    location_id, s = await _current(session, caller, cmd)
    if s.alert_only:
        raise InvalidInput("this SKU's rule is alert-only: order it by hand", ["sku"])
    if cmd.note is not None and len(cmd.note) > 1000:
        raise InvalidInput("note must be at most 1000 characters", ["note"])
    outcomes = []
    for source in s.transfers:
        outcomes.append(
            await transfers.create_transfer(
                session,
                caller,
                transfers.CreateTransfer(
                    from_location_id=source.location_id,
                    to_location_id=location_id,
                    lines=(transfers.Line(s.sku, source.quantity),),
                    note=cmd.note or "Replenishment suggestion",
                    submit=True,
                ),
            )
        )
    decision_id = int(
        (
            await session.execute(
                insert(DEC)
                .values(
                    tenant_id=caller.tenant_id,
                    location_id=location_id,
                    product_id=s.product_id,
                    decision="ACCEPTED",
                    transfer_quantity=s.transfer_quantity,
                    source_location_id=s.transfers[0].location_id if s.transfers else None,
                    transfer_id=outcomes[0].transfer.id if outcomes else None,
                    purchase_quantity=s.purchase_quantity,
                    supplier_id=s.supplier_id,
                    note=cmd.note,
                    decided_by=caller.subject[:100],
                )
                .returning(DEC.c.id)
            )
        ).scalar_one()
    )
    return Decided(
        decision_id=decision_id,
        decision="ACCEPTED",
        location_id=location_id,
        product_id=s.product_id,
        sku=s.sku,
        transfer_quantity=s.transfer_quantity,
        purchase_quantity=s.purchase_quantity,
        supplier_id=s.supplier_id,
        transfer_ids=tuple(o.transfer.id for o in outcomes),
        reason=None,
        suggestion=s,
        transfers=tuple(outcomes),
    )


async def dismiss(session: AsyncSession, caller: Caller, cmd: DecideSuggestion) -> Decided:
    """Recorded with its reason; the SKU is not suggested here again the same day."""
    if cmd.reason is None:
        raise InvalidInput("a dismissal needs a reason", ["reason"])
    if cmd.note is not None and len(cmd.note) > 1000:
        raise InvalidInput("note must be at most 1000 characters", ["note"])
    location_id, s = await _current(session, caller, cmd)
    decision_id = int(
        (
            await session.execute(
                insert(DEC)
                .values(
                    tenant_id=caller.tenant_id,
                    location_id=location_id,
                    product_id=s.product_id,
                    decision="DISMISSED",
                    transfer_quantity=s.transfer_quantity,
                    purchase_quantity=s.purchase_quantity,
                    supplier_id=s.supplier_id,
                    reason=cmd.reason.value,
                    note=cmd.note,
                    decided_by=caller.subject[:100],
                )
                .returning(DEC.c.id)
            )
        ).scalar_one()
    )
    return Decided(
        decision_id=decision_id,
        decision="DISMISSED",
        location_id=location_id,
        product_id=s.product_id,
        sku=s.sku,
        transfer_quantity=s.transfer_quantity,
        purchase_quantity=s.purchase_quantity,
        supplier_id=s.supplier_id,
        transfer_ids=(),
        reason=cmd.reason.value,
        suggestion=s,
    )


_PENDING = text(
    """
    SELECT d.id, d.location_id, d.product_id, d.supplier_id, d.purchase_quantity,
           sp.unit_cost, sp.supplier_sku
    FROM replenishment_decisions d
    JOIN supplier_products sp ON sp.tenant_id = d.tenant_id AND sp.supplier_id = d.supplier_id
                             AND sp.product_id = d.product_id
    WHERE d.tenant_id = :tenant AND d.decision = 'ACCEPTED' AND d.purchase_order_id IS NULL
      AND d.purchase_quantity > 0 AND d.location_id = ANY(CAST(:locations AS bigint[]))
    ORDER BY d.location_id, d.supplier_id, d.product_id, d.id
    FOR UPDATE OF d
    """
)


@dataclass(frozen=True, slots=True)
class HeldOrder:
    """An order not drafted: it comes to less than the supplier's minimum order value."""

    location_id: int
    supplier_id: int
    supplier_code: str
    currency: str
    order_value: Decimal
    min_order_value: Decimal
    lines: int
    units: int

    @property
    def shortfall(self) -> Decimal:
        return self.min_order_value - self.order_value

    def to_json(self) -> dict[str, Any]:
        return {
            "location_id": self.location_id,
            "supplier_id": self.supplier_id,
            "supplier_code": self.supplier_code,
            "currency": self.currency,
            "order_value": str(self.order_value),
            "min_order_value": str(self.min_order_value),
            "lines": self.lines,
            "units": self.units,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HeldOrder:
        return cls(
            **{
                **data,
                "order_value": Decimal(data["order_value"]),
                "min_order_value": Decimal(data["min_order_value"]),
            }
        )


@dataclass(frozen=True, slots=True)
class Drafts:
    """What ``draft_purchase_orders`` did: the orders drafted and the orders held."""

    orders: list[PurchaseOrderOutcome] = field(default_factory=list)
    held: list[HeldOrder] = field(default_factory=list)


async def _minimums(
    session: AsyncSession, caller: Caller, supplier_ids: set[int]
) -> dict[int, Any]:
    rows = await session.execute(
        select(Supplier.id, Supplier.code, Supplier.currency, Supplier.min_order_value).where(
            Supplier.tenant_id == caller.tenant_id, Supplier.id.in_(supplier_ids)
        )
    )
    return {r.id: r for r in rows}


async def draft_purchase_orders(
    session: AsyncSession,
    caller: Caller,
    location_ids: tuple[int, ...],
    allow_below_minimum: bool = False,
) -> Drafts:
    """One DRAFT per supplier and location from the accepted purchases not yet ordered.

    An order worth less than its supplier's minimum order value is held (not drafted,
    its purchases left pending) unless ``allow_below_minimum``.
    """
    if not 0 < len(location_ids) <= 250:
        raise InvalidInput("1 to 250 locations", ["locationIds"])
    for loc in location_ids:
        row = await location_row(session, caller, loc, ["locationIds"])
        require(caller, Permission.STOCK_WRITE, row.id, ["locationIds"])
    groups: dict[tuple[int, int], dict[int, Any]] = defaultdict(dict)
    ids: dict[tuple[int, int], list[int]] = defaultdict(list)
    pending = await session.execute(
        _PENDING, {"tenant": caller.tenant_id, "locations": list(location_ids)}
    )
    for r in pending:
        key = (r.location_id, r.supplier_id)
        line = groups[key].get(r.product_id)
        quantity = r.purchase_quantity + (line["quantity"] if line else 0)
        groups[key][r.product_id] = {
            "quantity": quantity,
            "unit_cost": r.unit_cost,
            "supplier_sku": r.supplier_sku,
        }
        ids[key].append(r.id)
    out = Drafts()
    minimums = await _minimums(session, caller, {supplier for _, supplier in groups})
    for (location_id, supplier_id), lines in sorted(groups.items()):
        supplier = minimums[supplier_id]
        value = sum((v["quantity"] * v["unit_cost"] for v in lines.values()), Decimal(0))
        if value < supplier.min_order_value and not allow_below_minimum:
            out.held.append(
                HeldOrder(
                    location_id=location_id,
                    supplier_id=supplier_id,
                    supplier_code=supplier.code,
                    currency=supplier.currency,
                    order_value=value.quantize(Decimal("0.01")),
                    min_order_value=supplier.min_order_value,
                    lines=len(lines),
                    units=sum(v["quantity"] for v in lines.values()),
                )
            )
            continue
        outcome = await purchasing.create_draft(
            session,
            caller,
            purchasing.CreateDraft(
                supplier_id=supplier_id,
                location_id=location_id,
                lines=tuple(
                    purchasing.DraftLine(p, v["quantity"], v["unit_cost"], v["supplier_sku"])
                    for p, v in sorted(lines.items())
                ),
                note="Drafted from accepted replenishment suggestions",
            ),
        )
        await session.execute(
            update(DEC)
            .where(
                DEC.c.tenant_id == caller.tenant_id, DEC.c.id.in_(ids[(location_id, supplier_id)])
            )
            .values(purchase_order_id=outcome.order.id)
        )
        out.orders.append(outcome)
    return out


async def decision_rows(session: AsyncSession, caller: Caller, location_id: int) -> list[Any]:
    rows = await session.execute(
        select(DEC)
        .where(DEC.c.tenant_id == caller.tenant_id, DEC.c.location_id == location_id)
        .order_by(DEC.c.id.desc())
        .limit(250)
    )
    return list(rows)
