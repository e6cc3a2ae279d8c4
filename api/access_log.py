"""The access log: off in production unless asked for, structured when written.

A line per request costs a formatted write on the event loop for every call a
POS till makes; production relies on the request metrics (``api.middleware``)
instead. ``STOCKGRAPH_ACCESS_LOG`` asks for ``all`` requests or a ``sampled``
share (``STOCKGRAPH_ACCESS_LOG_SAMPLE``, 0..1); each line is one JSON object on
the ``stockgraph.access`` logger, so a log pipeline needs no parser.
"""

from __future__ import annotations

import json
import logging
import random
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("stockgraph.access")


class AccessLog:
    """Logs ``rate`` of the HTTP requests (1.0: every one) as JSON lines."""

    def __init__(self, app: ASGIApp, rate: float) -> None:
        self.app = app
        self.rate = rate
        if not log.handlers:  # one JSON object a line, whatever the root logger prints
            handler = logging.StreamHandler()
            handler.setFormatter(logging.Formatter("%(message)s"))
            log.addHandler(handler)
            log.propagate = False
        if log.level == logging.NOTSET:
            log.setLevel(logging.INFO)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not (self.rate >= 1.0 or random.random() < self.rate):
            await self.app(scope, receive, send)
            return
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
            client = scope.get("client")
            log.info(
                json.dumps(
                    {
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "ms": round((time.perf_counter() - start) * 1000, 2),
                        "client": client[0] if client else None,
                        "sampled": self.rate < 1.0,
                    },
                    separators=(",", ":"),
                )
            )
