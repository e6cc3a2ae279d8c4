"""A partner's webhook endpoint for tests: uvicorn + starlette on 127.0.0.1, in the test loop."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


@dataclass
class Received:
    webhook_id: str
    headers: dict[str, str]
    body: bytes
    status: int
    at: float

    @property
    def data(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers ``answer(n)`` to the n-th request (1-based) of each webhook-id."""

    answer: Callable[[int], int] = lambda n: 204
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    seen: Counter[str] = field(default_factory=Counter)
    in_flight: Counter[str] = field(default_factory=Counter)
    max_in_flight: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    url: str = ""

    async def hook(self, request: Request) -> Response:
        body = await request.body()
        wid = request.headers.get("webhook-id", "")
        key = self.key_of(body)
        self.in_flight[key] += 1
        self.max_in_flight[key] = max(self.max_in_flight[key], self.in_flight[key])
        try:
            self.seen[wid] += 1
            status = self.answer(self.seen[wid])
            if self.delay:
                await asyncio.sleep(self.delay)
            self.received.append(
                Received(wid, dict(request.headers), body, status, time.monotonic())
            )
            return Response(status_code=status)
        finally:
            self.in_flight[key] -= 1

    @staticmethod
    def key_of(body: bytes) -> str:
        try:
            data = json.loads(body)["data"]
            return f"{data['location']['id']}:{data['product']['id']}"
        except (ValueError, KeyError, TypeError):
            return "?"

    def accepted(self) -> Counter[str]:
        return Counter(r.webhook_id for r in self.received if 200 <= r.status < 300)

    def by_id(self) -> dict[str, list[Received]]:
        out: dict[str, list[Received]] = defaultdict(list)
        for r in self.received:
            out[r.webhook_id].append(r)
        return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RunningReceiver:
    """``async with RunningReceiver(receiver) as r:`` serves it until the block ends."""

    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver
        port = _free_port()
        app = Starlette(routes=[Route("/hook", receiver.hook, methods=["POST"])])
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
        self.server = uvicorn.Server(config)
        receiver.url = f"http://127.0.0.1:{port}/hook"
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Receiver:
        self.task = asyncio.create_task(self.server.serve())
        deadline = time.monotonic() + 10
        while not self.server.started:
            if self.task.done() or time.monotonic() > deadline:
                raise RuntimeError("webhook receiver did not start")
            await asyncio.sleep(0.01)
        return self.receiver

    async def __aexit__(self, *exc: object) -> None:
        self.server.should_exit = True
        if self.task is not None:
            await self.task
