"""A point-of-sale client of stockgraph, with the Python gql library.

It does what a till does, and prints one JSON line per step:

1. gets a token with its app's client credentials (OAuth 2.0 client_credentials);
2. records a sale with an idempotency key, then sends the very same request again,
   as a till does when the network dropped before the answer came: the second
   answer is the first one replayed, and the stock moved once;
3. follows the store's stock live (``stockChanged`` over graphql-transport-ws),
   drops the connection, records a sale while it is away, and resumes with
   ``afterSequence`` set to the last event it saw: the missed change comes first,
   nothing is lost and nothing is seen twice.

usage: python pos_client.py --url http://127.0.0.1:8000 --client-id ID \\
           --client-secret SECRET --location CWB --sku SKU
(or STOCKGRAPH_URL, STOCKGRAPH_CLIENT_ID, STOCKGRAPH_CLIENT_SECRET in the environment)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import uuid
from typing import Any

import httpx
from gql import Client, GraphQLRequest
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

LOCATION = "query($code: String!) { location(code: $code) { id code nameEn } }"

RECORD_SALE = """
mutation Sale($input: RecordSaleInput!) {
  recordSale(input: $input) {
    stockLevels { onHand product { sku } }
    movements { sequence kind delta onHandAfter }
    userErrors { code message field }
  }
}"""

STOCK_CHANGED = """
subscription Changes($locationIds: [ID!], $skus: [String!], $afterSequence: BigInt) {
  stockChanged(locationIds: $locationIds, skus: $skus, afterSequence: $afterSequence) {
    sequence
    movement { kind delta reference }
    stockLevel { onHand product { sku } }
  }
}"""


def say(step: str, **fields: Any) -> None:
    print(json.dumps({"step": step, **fields}), flush=True)


def get_token(url: str, client_id: str, client_secret: str) -> str:
    """An access token for this app (valid for an hour; a real till renews it before then)."""
    response = httpx.post(
        f"{url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, client_secret),
        timeout=10,
    )
    response.raise_for_status()
    body = response.json()
    say("token", token_type=body["token_type"], expires_in=body["expires_in"])
    return str(body["access_token"])


class Till:
    def __init__(self, url: str, token: str, location_id: str, sku: str) -> None:
        self.url, self.token, self.location_id, self.sku = url, token, location_id, sku
        self.http = HTTPXAsyncTransport(
            url=f"{url}/graphql", headers={"Authorization": f"Bearer {token}"}
        )

    async def sell(self, receipt: str, quantity: int, key: str, step: str = "sale") -> int:
        """Record one receipt; the idempotency key makes a resend harmless."""
        request = GraphQLRequest(
            RECORD_SALE,
            variable_values={
                "input": {
                    "locationId": self.location_id,
                    "receiptNumber": receipt,
                    "lines": [{"sku": self.sku, "quantity": quantity, "unitPrice": "39.90"}],
                    "payments": [{"method": "OCTOPUS", "amount": f"{39.90 * quantity:.2f}"}],
                    "idempotencyKey": key,
                }
            },
        )
        async with Client(transport=self.http, fetch_schema_from_transport=False) as session:
            result = await session.execute(request, get_execution_result=True)
        assert result.data is not None
        payload = result.data["recordSale"]
        if payload["userErrors"]:
            raise SystemExit(f"sale refused: {payload['userErrors']}")
        movement = payload["movements"][0]
        headers = self.http.response_headers or httpx.Headers()
        say(
            step,
            receipt=receipt,
            idempotencyKey=key,
            sequence=int(movement["sequence"]),
            delta=movement["delta"],
            onHandAfter=movement["onHandAfter"],
            # how the server marks a replay, where it does: a header and an extension
            replayedHeader=headers.get("idempotent-replayed"),
            replayedExtension=(result.extensions or {}).get("idempotentReplayed"),
        )
        return int(movement["sequence"])

    def subscription(self) -> Client:
        transport = WebsocketsTransport(
            url=self.url.replace("http", "ws", 1) + "/graphql",
            init_payload={"Authorization": f"Bearer {self.token}"},
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],  # graphql-transport-ws
        )
        return Client(transport=transport, fetch_schema_from_transport=False)

    async def follow(self, after: int, count: int, seen: asyncio.Queue[int] | None = None) -> int:
        """Print ``count`` stock changes after sequence ``after``; the last one's sequence.

        Each sequence also goes to ``seen``, for whoever waits for an event."""
        last = after
        request = GraphQLRequest(
            STOCK_CHANGED,
            variable_values={
                "locationIds": [self.location_id],
                "skus": [self.sku],
                "afterSequence": str(after),
            },
        )
        async with self.subscription() as session:
            async for event in session.subscribe(request):
                change = event["stockChanged"]
                last = int(change["sequence"])
                say(
                    "event",
                    sequence=last,
                    kind=change["movement"]["kind"],
                    delta=change["movement"]["delta"],
                    reference=change["movement"]["reference"],
                    onHand=change["stockLevel"]["onHand"],
                )
                if seen is not None:
                    seen.put_nowait(last)
                count -= 1
                if count == 0:
                    break
        return last


async def main(args: argparse.Namespace) -> None:
    token = get_token(args.url, args.client_id, args.client_secret)
    async with httpx.AsyncClient(base_url=args.url, timeout=10) as http:
        response = await http.post(
            "/graphql",
            json={"query": LOCATION, "variables": {"code": args.location}},
            headers={"Authorization": f"Bearer {token}"},
        )
    location = response.json()["data"]["location"]
    if location is None:
        raise SystemExit(f"no location {args.location!r} for this app")
    say("location", code=location["code"], name=location["nameEn"], id=location["id"])
    till = Till(args.url, token, location["id"], args.sku)
    run = uuid.uuid4().hex[:8]

    # 2. a sale, and the same request again with the same key: a replay, not a second sale
    key = f"till-1-{run}-0001"
    first = await till.sell(f"R-{run}-1", 2, key)
    again = await till.sell(f"R-{run}-1", 2, key, step="sale-retried")
    assert again == first, "the resend was answered with the first outcome"

    # 3. live changes from just before that sale: it is replayed first, then one more
    # sale is made while connected
    seen: asyncio.Queue[int] = asyncio.Queue()
    following = asyncio.create_task(till.follow(after=first - 1, count=2, seen=seen))
    await asyncio.wait_for(seen.get(), 30)
    second = await till.sell(f"R-{run}-2", 1, f"till-1-{run}-0002")
    last_seen = await asyncio.wait_for(following, 30)
    say("disconnected", lastSequence=last_seen)
    # ... and one while the connection is down
    third = await till.sell(f"R-{run}-3", 1, f"till-1-{run}-0003")
    say("resuming", afterSequence=last_seen)
    last_seen = await asyncio.wait_for(till.follow(after=last_seen, count=1), 30)
    say("done", sales=[first, second, third], lastSequence=last_seen)


def arguments() -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=env("STOCKGRAPH_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--client-id", default=env("STOCKGRAPH_CLIENT_ID"), required=False)
    parser.add_argument("--client-secret", default=env("STOCKGRAPH_CLIENT_SECRET"))
    parser.add_argument("--location", required=True, help="the store's location code, e.g. CWB")
    parser.add_argument("--sku", required=True, help="the product sold")
    args = parser.parse_args()
    if not args.client_id or not args.client_secret:
        parser.error("--client-id and --client-secret (or STOCKGRAPH_CLIENT_ID/_SECRET)")
    args.url = args.url.rstrip("/")
    return args


if __name__ == "__main__":
    asyncio.run(main(arguments()))
