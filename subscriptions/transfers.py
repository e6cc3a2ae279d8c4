"""transferUpdated: a transfer's outbox event as the subscription's root value."""

from __future__ import annotations

from domain.transfers.records import TransferRecord
from schema.transfers import Transfer, TransferUpdatedEvent
from subscriptions.broker import LiveEvent


def transfer_updated_root(event: LiveEvent) -> TransferUpdatedEvent:
    record = TransferRecord.from_json(event.payload["transfer"])
    return TransferUpdatedEvent(
        sequence=event.sequence,  # type: ignore[arg-type]
        action=str(event.payload.get("action", "")),
        transfer=Transfer.from_row(record),
    )
