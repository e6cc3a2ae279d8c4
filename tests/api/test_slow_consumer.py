"""A subscriber that stops reading is cut off with a resume point; nobody else waits for it."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest
import websockets

from domain.stock.ledger import STOCK_CHANGED
from subscriptions.broker import LiveEvent, Subscriber
from subscriptions.stock import SlowConsumer
from tests.api.conftest import app_token, new_client, start_server, stop_server
from tests.api.test_subscriptions import CHANGED
from tests.api.wsclient import SUBPROTOCOL, WSClient

RECEIPT = """mutation($loc: ID!, $lines: [ReceiveStockLineInput!]!) {
  receiveStock(input: {locationId: $loc, lines: $lines}) { userErrors { code } } }"""
# About 5 KB a frame, so that a few thousand frames overrun every buffer on the way.
WIDE = (
    "subscription { stockChanged { sequence "
    + " ".join(
        f"m{i}: movement {{ id kind delta onHandAfter reference occurredAt recordedAt actor }}"
        for i in range(28)
    )
    + " } }"
)


def test_a_full_queue_marks_the_subscriber_and_never_blocks():
    from auth.caller import Caller
    from auth.permissions import Permission

    overflowed: list[bool] = []
    caller = Caller.for_app(1, "c", frozenset({Permission.STOCK_READ}), None)
    sub = Subscriber(
        caller, STOCK_CHANGED, None, None, asyncio.Queue(3), lambda: overflowed.append(True)
    )
    for seq in range(1, 10):
        sub.offer(LiveEvent(1, seq, STOCK_CHANGED, {}, 1, 1))
    assert sub.queue.qsize() == 3 and sub.overflowed and overflowed == [True]
    other_tenant = Subscriber(
        Caller.for_app(2, "d", frozenset({Permission.STOCK_READ}), None),
        STOCK_CHANGED,
        None,
        None,
        asyncio.Queue(3),
        lambda: None,
    )
    other_tenant.offer(LiveEvent(1, 11, STOCK_CHANGED, {}, 1, 1))
    assert other_tenant.queue.qsize() == 0
    assert "afterSequence: 7" in str(SlowConsumer(7, 3))


@pytest.fixture
def small_queue_server(database_url, signing_key, tmp_path):
    srv = start_server(
        database_url, signing_key, tmp_path, extra_env={"STOCKGRAPH_SUBSCRIPTION_QUEUE_SIZE": "600"}
    )
    yield srv
    stop_server(srv)


async def test_stalled_socket_gets_slow_consumer_error_while_others_keep_up(
    small_queue_server, tenant
):
    server = small_queue_server
    token = await app_token(server, await new_client(tenant, "stock:read stock:write"))
    # A client that never reads, with a tiny receive window so the server's buffers fill.
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect(("127.0.0.1", int(server.url.rsplit(":", 1)[1])))
    stalled = await websockets.connect(
        server.url.replace("http", "ws") + "/graphql",
        subprotocols=[SUBPROTOCOL],
        sock=raw,
        max_queue=1,
    )
    stuck = WSClient(stalled)
    await stuck.send({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
    assert await stuck.recv() == {"type": "connection_ack"}
    await stuck.subscribe("slow", WIDE)
    healthy = await WSClient.connect(server.url, token)
    await healthy.subscribe("fast", CHANGED)
    await asyncio.sleep(0.3)

    seen: list[int] = []

    async def keep_up() -> None:
        while len(seen) < 3000:
            seen.append(int((await healthy.next_data(timeout=30))["stockChanged"]["sequence"]))

    reader = asyncio.create_task(keep_up())
    lines = [{"sku": "ABC"[i % 3], "quantity": 1} for i in range(250)]
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        for _ in range(12):
            r = await http.post(
                "/graphql",
                headers={"Authorization": f"Bearer {token}"},
                json={"query": RECEIPT, "variables": {"loc": tenant.loc("S1"), "lines": lines}},
            )
            assert r.json()["data"]["receiveStock"]["userErrors"] == []
    await asyncio.wait_for(reader, 60)
    assert seen == sorted(seen) and len(set(seen)) == 3000  # the healthy one missed nothing

    # The stalled one, once it reads again: some events, then the error with a resume point.
    error = None
    count = 0
    while error is None:
        try:
            message = await stuck.recv(timeout=30)
        except TimeoutError:
            raise AssertionError(f"no error after {count} events") from None
        if message["type"] == "error":
            error = message
        else:
            count += 1
            last = int(message["payload"]["data"]["stockChanged"]["sequence"])
    assert count < 3000
    assert error["id"] == "slow"
    extensions = error["payload"][0]["extensions"]
    assert extensions["code"] == "SLOW_CONSUMER"
    assert count == 0 or int(extensions["afterSequence"]) >= last
    await stuck.close()
    await healthy.close()
