"""examples/pos, run as an integrator runs it against a real server; its output checked."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import httpx

from tests.api.conftest import app_token, new_client
from tests.api.test_subscriptions import adjust

EXAMPLE = Path(__file__).parents[2] / "examples" / "pos" / "pos_client.py"


async def test_pos_example_sells_replays_and_resumes(server, tenant):
    creds = await new_client(tenant, "stock:read stock:write")
    token = await app_token(server, creds)
    async with httpx.AsyncClient(base_url=server.url) as http:
        await adjust(http, token, tenant.loc("S1"), "A", 10)

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLE),
        "--url",
        server.url,
        "--client-id",
        creds.client_id,
        "--client-secret",
        creds.client_secret,
        "--location",
        "S1",
        "--sku",
        "A",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    steps = [json.loads(line) for line in out.decode().splitlines()]
    kinds = [s.pop("step") for s in steps]
    # a live event and the answer to the sale that caused it may print in either order
    assert [k for k in kinds if k != "event"] == [
        "token",
        "location",
        "sale",
        "sale-retried",
        "sale",
        "disconnected",
        "sale",
        "resuming",
        "done",
    ]
    event_at = [i for i, k in enumerate(kinds) if k == "event"]
    assert len(event_at) == 3
    assert event_at[0] < kinds.index("sale", kinds.index("sale-retried"))  # the replay first
    assert event_at[1] < kinds.index("disconnected") < kinds.index("resuming") < event_at[2]
    ev1, ev2, ev3 = (steps[i] for i in event_at)
    token_step, location, sale, retried, second, gone, third, resuming, done = (
        s for k, s in zip(kinds, steps, strict=True) if k != "event"
    )
    assert token_step == {"token_type": "Bearer", "expires_in": 3600}
    assert location == {"code": "S1", "name": "S1", "id": tenant.loc("S1")}
    # the resend is the first outcome replayed: same movement, stock moved once
    assert sale["delta"] == -2 and sale["onHandAfter"] == 8
    assert sale["replayedHeader"] is None and sale["replayedExtension"] is None
    assert retried["replayedHeader"] == "true" and retried["replayedExtension"] is True
    assert {k: retried[k] for k in ("sequence", "delta", "onHandAfter", "idempotencyKey")} == {
        k: sale[k] for k in ("sequence", "delta", "onHandAfter", "idempotencyKey")
    }
    assert (second["onHandAfter"], third["onHandAfter"]) == (7, 6)
    events = [(e["sequence"], e["kind"], e["delta"], e["onHand"]) for e in (ev1, ev2, ev3)]
    assert events == [
        (sale["sequence"], "SALE", -2, 8),
        (second["sequence"], "SALE", -1, 7),
        (third["sequence"], "SALE", -1, 6),  # made while disconnected, delivered on resume
    ]
    assert gone == {"lastSequence": second["sequence"]}
    assert resuming == {"afterSequence": second["sequence"]}
    assert done == {
        "sales": [sale["sequence"], second["sequence"], third["sequence"]],
        "lastSequence": third["sequence"],
    }
    async with httpx.AsyncClient(base_url=server.url) as http:
        level = await http.post(
            "/graphql",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "query": 'query($l: ID!) { stockLevel(locationId: $l, sku: "A") { onHand } }',
                "variables": {"l": tenant.loc("S1")},
            },
        )
    assert level.json()["data"]["stockLevel"] == {"onHand": 6}  # 10 - 2 - 1 - 1: sold once
