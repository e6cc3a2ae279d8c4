"""Pure parts of webhook dispatch: backoff, signing, the body."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook

from domain import ids
from domain.webhooks import dispatch
from domain.webhooks.payload import build_body, encode_body, webhook_id
from domain.webhooks.service import new_secret


@pytest.mark.parametrize(("attempts", "base"), [(1, 5.0), (2, 5.0), (3, 5.0), (6, 0.05)])
def test_backoff_doubles_with_a_little_jitter(attempts, base):
    expected = base * 2 ** (attempts - 1)
    for _ in range(50):
        delay = dispatch.retry_delay(attempts, base)
        assert expected <= delay <= expected * 1.1


def test_backoff_is_capped():
    assert dispatch.retry_delay(40, 5.0) <= dispatch.MAX_BACKOFF_SECONDS * 1.1


def test_headers_verify_and_the_id_is_the_events():
    secret = new_secret()
    assert secret.startswith("whsec_")
    body = encode_body({"type": "stock.low", "timestamp": "t", "data": {"x": "é"}})
    claim = dispatch.Claim(
        tenant_id=3,
        delivery_id=9,
        endpoint_id=1,
        event_sequence=42,
        attempts=0,
        leased_until=datetime.now(UTC),
        url="https://x.example/",
        secret=secret,
        webhook_id=webhook_id(3, 42),
        body=body,
    )
    headers = dispatch.signed_headers(claim, datetime.now(UTC))
    assert headers["webhook-id"] == webhook_id(3, 42) != webhook_id(4, 42)
    assert Webhook(secret).verify(body.encode(), headers)["data"] == {"x": "é"}
    with pytest.raises(Exception):
        Webhook(new_secret()).verify(body.encode(), headers)


def test_body_of_a_low_stock_event():
    level = {
        "id": 5, "location_id": 2, "product_id": 3, "on_hand": 4, "reserved": 1,
        "in_transit": 0, "incoming": 0, "reorder_point": 5, "version": 7,
        "updated_at": "2026-11-29T00:00:00+00:00",
    }  # fmt: skip
    at = datetime(2026, 11, 29, tzinfo=UTC)
    body = build_body("stock.low", 12, at, {"level": level, "movementSequence": 11}, "S1", "A")
    assert body == {
        "type": "stock.low",
        "timestamp": "2026-11-29T00:00:00+00:00",
        "data": {
            "sequence": "12",
            "location": {"id": ids.encode("Location", 2), "code": "S1"},
            "product": {"id": ids.encode("Product", 3), "sku": "A"},
            "stockLevel": {
                "id": ids.encode("StockLevel", 5),
                "onHand": 4,
                "reserved": 1,
                "available": 3,
                "inTransit": 0,
                "incoming": 0,
                "version": "7",
            },
            "reorderPoint": 5,
        },
    }
