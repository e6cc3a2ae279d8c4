"""GraphiQL in a real headless Chromium, network cut: a query, a subscription, no token kept.

The browser may reach 127.0.0.1 only; every other request is refused and recorded,
and the test asserts that none was attempted. Debian's chromium is driven through
the Python playwright package (which downloads no browser of its own).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.api.conftest import app_token, new_client
from tests.api.test_subscriptions import adjust

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # no name resolves but 127.0.0.1's: the network is cut below the page as well
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
SCREENSHOTS = Path(tempfile.gettempdir()) / "stockgraph-graphiql"

if shutil.which(CHROMIUM) is None:  # `make test` installs it; only a machine that cannot may skip
    pytest.skip(f"no chromium at {CHROMIUM} (make browser installs it)", allow_module_level=True)

from playwright.async_api import Page, Request, Route, async_playwright  # noqa: E402
from playwright.async_api import TimeoutError as PlaywrightTimeout  # noqa: E402


class Browser:
    """One page of a headless Chromium that can reach nothing but 127.0.0.1."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.refused: list[str] = []
        self.requested: list[str] = []
        self.sent_frames: list[str] = []
        self.sockets: list[str] = []

    async def editor(self, selector: str) -> str:
        return str(
            await self.page.evaluate(
                "(s) => document.querySelector(s).CodeMirror.getValue()", selector
            )
        )

    async def type_into(self, selector: str, text: str) -> None:
        """Select all of an editor and paste text into it, as a person would."""
        await self.page.click(selector)
        await self.page.keyboard.press("Control+A")
        await self.page.keyboard.insert_text(text)
        await self.page.wait_for_timeout(1000)  # GraphiQL debounces editor changes

    async def run(self, operation: str) -> None:
        await self.page.click(".graphiql-execute-button")
        await self.page.get_by_role("menuitem", name=operation).click()

    async def result(self, field: str, timeout: float = 15) -> Any:
        """The result pane's JSON, once it has data for field (the page's CSP forbids eval)."""
        try:
            await self.page.wait_for_function(
                "(f) => { try { const r = JSON.parse(document.querySelector("
                "'.result-window .CodeMirror').CodeMirror.getValue());"
                " return !!(r.data && r.data[f]); } catch (e) { return false; } }",
                arg=field,
                timeout=timeout * 1000,
            )
        except PlaywrightTimeout:
            await self.screenshot("failed")
            shown = await self.editor(".result-window .CodeMirror")
            raise AssertionError(f"the result pane never showed {field}: {shown}") from None
        return json.loads(await self.editor(".result-window .CodeMirror"))

    async def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        await self.page.screenshot(path=str(path))
        return path


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = await chromium.new_context(viewport={"width": 1400, "height": 900})
        page = await context.new_page()
        driver = Browser(page)

        async def only_local(route: Route, request: Request) -> None:
            driver.requested.append(request.url)
            if urlsplit(request.url).hostname == "127.0.0.1":
                await route.continue_()
            else:
                driver.refused.append(request.url)
                await route.abort("internetdisconnected")

        await context.route("**/*", only_local)

        def on_socket(ws: Any) -> None:
            driver.sockets.append(ws.url)
            ws.on("framesent", lambda payload: driver.sent_frames.append(str(payload)))

        page.on("websocket", on_socket)
        try:
            yield driver
        finally:
            await chromium.close()


async def test_graphiql_runs_a_query_and_a_subscription_offline(server, tenant, browser):
    token = await app_token(server, await new_client(tenant, "stock:read stock:write"))
    store = tenant.loc("S1")
    async with httpx.AsyncClient(base_url=server.url) as http:
        await adjust(http, token, store, "A", 5)
        await adjust(http, token, tenant.loc("S2"), "B", 4)  # another store: not shown

    page = browser.page
    response = await page.goto(server.url + "/graphql")
    assert response is not None and response.status == 200
    await page.wait_for_selector(".graphiql-query-editor .CodeMirror")
    # it opens with the stockgraph example and the Authorization hint
    query = await browser.editor(".graphiql-query-editor .CodeMirror")
    assert "query StockAtLocation($locationId: ID!)" in query
    assert "subscription StockChanges" in query
    headers = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
    assert json.loads(await browser.editor(headers)) == {"Authorization": "Bearer <token>"}
    await browser.screenshot("opened")

    await browser.type_into(headers, json.dumps({"Authorization": f"Bearer {token}"}))
    await page.get_by_role("button", name="Variables").click()
    variables = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
    await browser.type_into(variables, json.dumps({"locationId": store}))

    await browser.run("StockAtLocation")
    result = await browser.result("stockLevels")
    levels = [edge["node"] for edge in result["data"]["stockLevels"]["edges"]]
    assert result["data"]["stockLevels"]["totalCount"] == 1
    assert [(n["product"]["sku"], n["onHand"], n["available"]) for n in levels] == [("A", 5, 5)]

    await browser.run("StockChanges")
    for _ in range(100):  # until GraphiQL has subscribed over its WebSocket
        if any('"subscribe"' in frame for frame in browser.sent_frames):
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # and the server has registered it
    async with httpx.AsyncClient(base_url=server.url) as http:
        sequence = await adjust(http, token, store, "A", 3)
    event = await browser.result("stockChanged")
    changed = event["data"]["stockChanged"]
    assert int(changed["sequence"]) == sequence
    assert changed["movement"] == {"kind": "ADJUSTMENT", "delta": 3, "reference": None}
    assert changed["stockLevel"] == {"product": {"sku": "A"}, "onHand": 8, "available": 8}

    # over graphql-transport-ws, the Headers pane's Authorization in connection_init
    assert browser.sockets and all(urlsplit(u).hostname == "127.0.0.1" for u in browser.sockets)
    init = [json.loads(f) for f in browser.sent_frames if '"connection_init"' in f]
    assert init and init[0]["payload"] == {"Authorization": f"Bearer {token}"}

    stored = await page.evaluate("() => Object.entries(localStorage)")
    assert {"graphiql:tabState", "graphiql:queries"} <= {k for k, _ in stored}  # tabs, history
    assert [k for k, v in stored if token in v or token.split(".")[2] in v] == []  # no token
    assert await page.evaluate("() => sessionStorage.length + document.cookie.length") == 0

    await browser.screenshot("subscription")
    assert browser.refused == []
    assert browser.requested and all(urlsplit(u).hostname == "127.0.0.1" for u in browser.requested)


async def test_a_refused_token_shows_an_error_instead_of_retrying(server, tenant, browser):
    page = browser.page
    await page.goto(server.url + "/graphql")
    await page.wait_for_selector(".graphiql-query-editor .CodeMirror")
    headers = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
    await browser.type_into(headers, '{"Authorization": "Bearer not-a-token"}')
    await page.get_by_role("button", name="Variables").click()
    variables = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
    await browser.type_into(variables, json.dumps({"locationId": tenant.loc("S1")}))
    await browser.run("StockChanges")
    await page.wait_for_function(
        "() => document.querySelector('.result-window .CodeMirror').CodeMirror.getValue()"
        ".includes('4403')",
        timeout=10_000,
    )
    shown = await browser.editor(".result-window .CodeMirror")
    assert json.loads(shown) == {
        "errors": [
            {
                "message": "The server closed the WebSocket: 4403 Forbidden. Put a valid access "
                'token in Headers: {"Authorization": "Bearer <token>"}.'
            }
        ]
    }
    await page.wait_for_timeout(1500)  # a retry would open another socket by now
    assert len(browser.sockets) == 1
    await browser.screenshot("refused")
    assert browser.refused == []
