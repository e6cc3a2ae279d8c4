"""No acceptable subprotocol: the socket is accepted and closed with 4406, as the
graphql-ws reference server does (not refused with a bare 403 at the handshake)."""

from __future__ import annotations

import asyncio

import pytest
import websockets

from tests.api.conftest import Server


@pytest.mark.parametrize(
    "offered",
    [["graphql-ws"], ["mqtt"], ["graphql-transport-ws-v2", "soap"], None],
    ids=["legacy, not enabled", "another protocol", "two unknown", "none"],
)
async def test_an_unacceptable_subprotocol_closes_with_4406(
    server: Server, offered: list[str] | None
) -> None:
    url = server.url.replace("http://", "ws://") + "/graphql"
    ws = await websockets.connect(url, subprotocols=offered)  # type: ignore[arg-type]
    assert ws.subprotocol is None
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (
        4406,
        "Subprotocol not acceptable",
    )


async def test_the_supported_subprotocol_is_still_chosen(server: Server) -> None:
    url = server.url.replace("http://", "ws://") + "/graphql"
    ws = await websockets.connect(url, subprotocols=["mqtt", "graphql-transport-ws"])
    try:
        assert ws.subprotocol == "graphql-transport-ws"
    finally:
        await ws.close()
