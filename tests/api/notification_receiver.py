"""An SMS gateway or chat robot for tests: any method on /send, every request recorded."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import uvicorn
from aiosmtpd.controller import Controller
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.api.webhook_receiver import _free_port


@dataclass
class Request_:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def key(self) -> str:
        return self.headers.get("idempotency-key", "")

    @property
    def data(self) -> Any:
        return json.loads(self.body)


@dataclass
class Gateway:
    """Answers ``answer(n)`` (status, JSON body or None) to the n-th request of each key."""

    answer: Callable[[int], tuple[int, Any]] = lambda n: (200, None)
    delay: float = 0.0
    received: list[Request_] = field(default_factory=list)
    seen: Counter[str] = field(default_factory=Counter)
    url: str = ""

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        key = request.headers.get("idempotency-key", "")
        self.seen[key] += 1
        status, payload = self.answer(self.seen[key])
        if self.delay:
            await asyncio.sleep(self.delay)
        self.received.append(
            Request_(
                request.method,
                request.url.path,
                parse_qs(request.url.query),
                dict(request.headers),
                body,
                status,
            )
        )
        content = json.dumps(payload) if payload is not None else ""
        return Response(content, status_code=status, media_type="application/json")


class RunningGateway:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        port = _free_port()
        app = Starlette(routes=[Route("/send", gateway.handle, methods=["GET", "POST", "PUT"])])
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
        self.server = uvicorn.Server(config)
        gateway.url = f"http://127.0.0.1:{port}/send"
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Gateway:
        self.task = asyncio.create_task(self.server.serve())
        deadline = time.monotonic() + 10
        while not self.server.started:
            if self.task.done() or time.monotonic() > deadline:
                raise RuntimeError("gateway did not start")
            await asyncio.sleep(0.01)
        return self.gateway

    async def __aexit__(self, *exc: object) -> None:
        self.server.should_exit = True
        if self.task is not None:
            await self.task


@dataclass
class Mailbox:
    """An aiosmtpd handler keeping every envelope."""

    envelopes: list[Any] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


class RunningSmtp:
    """``with RunningSmtp() as (mailbox, port):`` an SMTP server on 127.0.0.1 (own thread)."""

    def __init__(self) -> None:
        self.mailbox = Mailbox()
        self.port = _free_port()
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> tuple[Mailbox, int]:
        self.controller.start()
        return self.mailbox, self.port

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
