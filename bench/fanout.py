"""Fan-out: one server process, 1 / 100 / 1,000 subscribers, changes at a steady rate.

Prints, per subscriber count: commit-to-frame latency p50/p99 (from the movement's
recordedAt, stamped in the committing transaction, to the frame's arrival),
deliveries per second, lost and duplicated events, and the server's RSS per idle
subscribed socket; then the ratio of each figure to this issue's bar.

    python -m bench.fanout [--subscribers 1,100,1000] [--rate 10] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import time
from dataclasses import dataclass, field
from datetime import datetime

import httpx
import websockets

from auth.caller import Caller
from bench.common import percentile, rss_kib, scratch_database, server, signing_key
from db.session import Database
from domain.tenancy import service as tenancy

QUERY = (
    "subscription { stockChanged { sequence stockLevel { onHand available } "
    "movement { kind delta recordedAt } } }"
)
MUTATION = """mutation($loc: ID!, $sku: String!) { adjustStock(input: {locationId: $loc,
  sku: $sku, delta: 1, reason: FOUND}) { movements { sequence } userErrors { code } } }"""
BARS = {"p99_ms": 250.0, "deliveries_per_s": 10_000.0, "kib_per_socket": 100.0}


async def setup(url: str) -> tuple[str, dict[str, str]]:
    db = Database.connect(url, pool_size=2)
    try:
        async with db.owner_transaction() as s:
            tenant = await tenancy.create_tenant(s, "bench", "Bench")
            system = Caller.system(tenant.tenant_id)
            loc = await tenancy.create_location(s, system, tenancy.NewLocation("S1", "店", "S1"))
            for sku in ("A", "B", "C"):
                await tenancy.create_product(s, system, tenancy.NewProduct(sku, sku, sku))
            creds = await tenancy.create_client(s, system, "bench", "stock:read stock:write", None)
    finally:
        await db.dispose()
    from domain import ids

    return ids.encode("Location", loc), {"id": creds.client_id, "secret": creds.client_secret}


@dataclass
class Sub:
    ws: object
    sequences: list[int] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)


async def subscribe(base: str, token: str) -> Sub:
    ws = await websockets.connect(
        base.replace("http", "ws") + "/graphql",
        subprotocols=["graphql-transport-ws"],
        max_queue=None,
        open_timeout=30,
    )
    await ws.send(
        json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
    )
    await ws.recv()
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": QUERY}}))
    return Sub(ws)


async def listen(sub: Sub) -> None:
    """Read until the socket is closed; keep the per-frame work small (this is the client)."""
    with contextlib.suppress(websockets.ConnectionClosed):
        async for raw in sub.ws:  # type: ignore[attr-defined]
            record(sub, raw, time.time())


def record(sub: Sub, raw: str | bytes, arrived: float) -> None:
    """Pick the two fields out by position: a full JSON parse per frame would make the
    client, not the server, the thing being measured."""
    text = raw if isinstance(raw, str) else raw.decode()
    start = text.index('"sequence":"') + 12
    sub.sequences.append(int(text[start : text.index('"', start)]))
    start = text.index('"recordedAt":"') + 14
    recorded = datetime.fromisoformat(text[start : text.index('"', start)]).timestamp()
    sub.latencies.append((arrived - recorded) * 1000)


async def run(
    base: str, pid: int, loc: str, creds: dict[str, str], count: int, rate: float, seconds: float
) -> dict[str, float]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        token = (
            await http.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(creds["id"], creds["secret"]),
            )
        ).json()["access_token"]
        before = rss_kib(pid)
        subs: list[Sub] = []
        for start in range(0, count, 100):
            subs += await asyncio.gather(
                *(subscribe(base, token) for _ in range(min(100, count - start)))
            )
        await asyncio.sleep(2)
        per_socket = (rss_kib(pid) - before) / count
        listeners = [asyncio.create_task(listen(s)) for s in subs]
        gc.collect()
        gc.disable()  # the client's own collector pauses would show up as server latency
        committed: list[int] = []
        interval = 1 / rate
        started = time.perf_counter()
        n = 0
        while time.perf_counter() - started < seconds:
            r = await http.post(
                "/graphql",
                headers={"Authorization": f"Bearer {token}"},
                json={"query": MUTATION, "variables": {"loc": loc, "sku": "ABC"[n % 3]}},
            )
            committed.append(int(r.json()["data"]["adjustStock"]["movements"][0]["sequence"]))
            n += 1
            delay = started + n * interval - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        elapsed = time.perf_counter() - started
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(len(s.sequences) < len(committed) for s in subs):
            await asyncio.sleep(0.1)
        drained = time.perf_counter() - started
        gc.enable()
        for s in subs:
            await s.ws.close()  # type: ignore[attr-defined]
        await asyncio.gather(*listeners)
    expected = set(committed)
    lost = sum(len(expected - set(s.sequences)) for s in subs)
    duplicated = sum(len(s.sequences) - len(set(s.sequences)) for s in subs)
    latencies = [x for s in subs for x in s.latencies]
    delivered = sum(len(s.sequences) for s in subs)
    return {
        "subscribers": count,
        "changes": len(committed),
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "deliveries_per_s": delivered / drained,
        "offered_per_s": len(committed) * count / elapsed,
        "lost": lost,
        "duplicated": duplicated,
        "kib_per_socket": per_socket,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", default="1,100,1000")
    parser.add_argument("--rate", type=float, default=10.0, help="changes per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    counts = [int(x) for x in args.subscribers.split(",")]
    key = signing_key()
    rows = []
    with scratch_database() as url:
        loc, creds = asyncio.run(setup(url))
        for count in counts:
            with server(url, key) as (base, pid):
                rows.append(asyncio.run(run(base, pid, loc, creds, count, args.rate, args.seconds)))
    print(f"\nfan-out, 1 server process, {args.rate:g} changes/s for {args.seconds:g} s")
    print(
        f"{'subs':>6} {'changes':>7} {'p50 ms':>8} {'p99 ms':>8} {'deliv/s':>9} "
        f"{'offered/s':>9} {'lost':>5} {'dup':>4} {'KiB/socket':>10}"
    )
    for r in rows:
        print(
            f"{r['subscribers']:>6} {r['changes']:>7} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} "
            f"{r['deliveries_per_s']:>9.0f} {r['offered_per_s']:>9.0f} {r['lost']:>5} "
            f"{r['duplicated']:>4} {r['kib_per_socket']:>10.1f}"
        )
    top = rows[-1]
    print(f"\nbars at {top['subscribers']} subscribers (ratio > 1 is better than the bar):")
    print(
        f"  p99 {top['p99_ms']:.1f} ms vs {BARS['p99_ms']:.0f} ms: "
        f"{BARS['p99_ms'] / top['p99_ms']:.2f}x"
    )
    print(
        f"  memory {top['kib_per_socket']:.1f} KiB/socket vs {BARS['kib_per_socket']:.0f}: "
        f"{BARS['kib_per_socket'] / max(top['kib_per_socket'], 0.1):.2f}x"
    )
    print(
        "  deliveries/s: see --rate; the capacity figure is the highest rate with p99 under the bar"
    )
    print(
        "  reference (stack notes, strawberry per-subscriber execution, 1,000 subscribers): "
        f"p50 204 ms, p99 593 ms -> p99 ratio {593 / top['p99_ms']:.2f}x"
    )


if __name__ == "__main__":
    main()
