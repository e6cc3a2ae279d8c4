"""ASGI middleware: request metrics and a cap on request bodies."""

from __future__ import annotations

import functools
import time
from typing import Any

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.protocol import error_body
from auth.backend import caller_of

REQUESTS = Counter("stockgraph_http_requests_total", "HTTP requests", ["route", "status"])
LATENCY = Histogram(
    "stockgraph_http_request_seconds",
    "HTTP request latency",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


class Metrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = scope["path"] if scope["path"] in KNOWN_ROUTES else "other"
        status = 500
        start = time.perf_counter()

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            _latency(route).observe(time.perf_counter() - start)
            _requests(route, status).inc()


KNOWN_ROUTES = {
    "/graphql",
    "/oauth/token",
    "/.well-known/jwks.json",
    "/.well-known/oauth-authorization-server",
    "/healthz",
    "/readyz",
    "/metrics",
}


@functools.cache
def _latency(route: str) -> Any:
    """The route's histogram child, looked up once (``labels`` takes a lock and builds
    a key on every call)."""
    return LATENCY.labels(route)


@functools.cache
def _requests(route: str, status: int) -> Any:
    return REQUESTS.labels(route, str(status))


class BodyLimit:
    """413 for a body larger than ``limit`` bytes, declared or streamed.

    A multipart upload (``createImport``'s file) from an authenticated caller may
    be up to ``upload_limit``: it runs inside the authentication middleware, so
    only a verified token opens the larger limit. Starlette spools uploaded files
    to disk, so memory does not grow with them.
    """

    def __init__(self, app: ASGIApp, limit: int, upload_limit: int | None = None) -> None:
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit if upload_limit is not None else limit

    def _limit(self, scope: Scope) -> int:
        if self.upload_limit <= self.limit or caller_of(scope) is None:
            return self.limit
        for name, value in scope.get("headers", []):
            if name == b"content-type" and value.lower().startswith(b"multipart/form-data"):
                return self.upload_limit
        return self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        graphql = scope["path"] == "/graphql"
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await _too_large(send, graphql)
                return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except BodyTooLarge:
            await _too_large(send, graphql)


class BodyTooLarge(Exception):
    pass


async def _too_large(send: Send, graphql: bool) -> None:
    """413; on /graphql in GraphQL's error shape, like every other refusal there."""
    body = (
        error_body("request body too large", "PAYLOAD_TOO_LARGE")
        if graphql
        else b'{"error":"request body too large"}'
    )
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})
