"""purchaseOrderUpdated: a purchase order's outbox event as the subscription's root value."""

from __future__ import annotations

from domain.purchasing.records import PurchaseOrderRecord
from schema.purchasing import PurchaseOrder, PurchaseOrderUpdatedEvent
from subscriptions.broker import LiveEvent


def purchase_order_updated_root(event: LiveEvent) -> PurchaseOrderUpdatedEvent:
    record = PurchaseOrderRecord.from_json(event.payload["purchaseOrder"])
    return PurchaseOrderUpdatedEvent(
        sequence=event.sequence,  # type: ignore[arg-type]
        action=str(event.payload.get("action", "")),
        purchase_order=PurchaseOrder.from_row(record),
    )
