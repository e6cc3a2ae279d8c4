"""The body a partner receives, built from one outbox event.

The body depends only on the event (and the names of its location and
product), so every retry and redelivery of an event carries the same body
under the same ``webhook-id``; receivers deduplicate on that id.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from domain import ids
from domain.stock.ledger import STOCK_CHANGED, STOCK_LOW

EVENT_TYPES = (STOCK_CHANGED, STOCK_LOW)


def webhook_id(tenant_id: int, sequence: int) -> str:
    """Stable per event: the same for every endpoint, retry and redelivery of it."""
    return ids.encode("Event", f"{tenant_id}-{sequence}")


def _movement(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": ids.encode("StockMovement", data["id"]),
        "kind": data["kind"],
        "delta": data["delta"],
        "onHandAfter": data["on_hand_after"],
        "reason": data.get("reason"),
        "reference": data.get("reference"),
        "occurredAt": data["occurred_at"],
        "oversell": data.get("oversell", False),
    }


def _level(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": ids.encode("StockLevel", data["id"]),
        "onHand": data["on_hand"],
        "reserved": data["reserved"],
        "available": data["on_hand"] - data["reserved"],
        "inTransit": data["in_transit"],
        "incoming": data["incoming"],
        "version": str(data["version"]),
    }


def build_body(
    event_type: str,
    sequence: int,
    created_at: datetime,
    payload: dict[str, Any],
    location_code: str | None,
    sku: str | None,
) -> dict[str, Any]:
    """The Standard Webhooks envelope: ``type``, ``timestamp``, ``data``.

    Field names follow the GraphQL schema (camelCase; BigInt as a string).
    """
    level = payload["level"]
    data: dict[str, Any] = {
        "sequence": str(sequence),
        "location": {"id": ids.encode("Location", level["location_id"]), "code": location_code},
        "product": {"id": ids.encode("Product", level["product_id"]), "sku": sku},
    }
    if event_type == STOCK_CHANGED:
        data["movement"] = _movement(payload["movement"])
    data["stockLevel"] = _level(level)
    if event_type == STOCK_LOW:
        data["reorderPoint"] = level.get("reorder_point")
    return {"type": event_type, "timestamp": created_at.isoformat(), "data": data}


def encode_body(body: dict[str, Any]) -> str:
    """Compact JSON: the exact text that is signed and sent."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)
