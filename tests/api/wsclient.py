"""A bare graphql-transport-ws client for tests that need to see the protocol itself."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import websockets

SUBPROTOCOL = "graphql-transport-ws"


class WSClient:
    def __init__(self, ws: Any) -> None:
        self.ws = ws

    @classmethod
    async def connect(
        cls, server_url: str, token: str | None = None, init: bool = True, **kwargs: Any
    ) -> WSClient:
        url = server_url.replace("http://", "ws://") + "/graphql"
        ws = await websockets.connect(url, subprotocols=[SUBPROTOCOL], **kwargs)
        client = cls(ws)
        if init:
            await client.send(
                {
                    "type": "connection_init",
                    "payload": {"authorization": f"Bearer {token}"} if token else {},
                }
            )
            ack = await client.recv()
            assert ack == {"type": "connection_ack"}, ack
        return client

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def recv(self, timeout: float = 10) -> dict[str, Any]:
        return json.loads(await asyncio.wait_for(self.ws.recv(), timeout))

    async def subscribe(
        self, op_id: str, query: str, variables: dict[str, Any] | None = None
    ) -> None:
        await self.send(
            {
                "id": op_id,
                "type": "subscribe",
                "payload": {"query": query, "variables": variables or {}},
            }
        )

    async def next_data(self, timeout: float = 10) -> dict[str, Any]:
        message = await self.recv(timeout)
        assert message["type"] == "next", message
        assert message["payload"].get("data") is not None, message
        return message["payload"]["data"]

    async def closed_with(self, timeout: float = 10) -> tuple[int | None, str]:
        try:
            while True:
                await asyncio.wait_for(self.ws.recv(), timeout)
        except websockets.ConnectionClosed as closed:
            return (
                closed.rcvd.code if closed.rcvd else None,
                closed.rcvd.reason if closed.rcvd else "",
            )

    async def close(self) -> None:
        await self.ws.close()
