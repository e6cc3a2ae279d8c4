"""A disabled till's token stops working at once, over real HTTP and WebSocket."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import websockets

from tests.api.conftest import AppCredentials, app_token, new_client

REGISTER = """mutation($input: RegisterDeviceInput!) { registerDevice(input: $input) {
  device { id } clientId clientSecret userErrors { code } } }"""
DISABLE = """mutation($input: DisableDeviceInput!) { disableDevice(input: $input) {
  device { status } userErrors { code } } }"""
STATUS = """query($id: ID!) { deviceSyncStatus(deviceId: $id) { salesCount } }"""


async def _post(http: httpx.AsyncClient, token: str, query: str, variables: dict) -> httpx.Response:
    return await http.post(
        "/graphql",
        headers={"Authorization": f"Bearer {token}"},
        json={"query": query, "variables": variables},
    )


async def test_disabled_device_token_is_refused(server, tenant):
    admin = await app_token(server, await new_client(tenant, "admin stock:read stock:write"))
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        reg = (
            await _post(
                http, admin, REGISTER, {"input": {"locationId": tenant.loc("S1"), "name": "T1"}}
            )
        ).json()["data"]["registerDevice"]
        device = reg["device"]["id"]
        creds = AppCredentials(reg["clientId"], reg["clientSecret"])
        token = await app_token(server, creds)
        ok = await _post(http, token, STATUS, {"id": device})
        assert ok.status_code == 200 and ok.json()["data"]["deviceSyncStatus"]["salesCount"] == 0
        done = await _post(http, admin, DISABLE, {"input": {"id": device}})
        assert done.json()["data"]["disableDevice"]["device"]["status"] == "DISABLED"
        deadline = time.monotonic() + 5  # answers are cached for at most 2 s
        while True:
            refused = await _post(http, token, STATUS, {"id": device})
            if refused.status_code == 401:
                break
            assert time.monotonic() < deadline, "a disabled till's token still works"
            await asyncio.sleep(0.2)
        assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        again = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(creds.client_id, creds.client_secret),
        )
        assert again.status_code in (400, 401)
    ws_url = server.url.replace("http", "ws") + "/graphql"
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        )
        try:
            reply = await asyncio.wait_for(ws.recv(), 10)
            assert json.loads(reply)["type"] != "connection_ack"
        except websockets.ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 4403
