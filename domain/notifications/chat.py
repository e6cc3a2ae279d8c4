"""The CHAT adapter: a group robot's incoming webhook, DingTalk style.

POST ``{"msgtype": "text", "text": {"content": …}, "at": {…}}``; with a signing
secret, ``timestamp`` and ``sign`` go in the query string (``signing``). The
robot answers 200 even when it refuses, with ``errcode`` ≠ 0 in the body.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from domain.notifications.recipients import CHAT_ALL, CHAT_GROUP
from domain.notifications.records import Answer, ChannelConfig, Message
from domain.notifications.signing import signed_url

MAX_ERROR = 500


def payload(message: Message) -> dict[str, Any]:
    content = f"{message.subject}\n{message.body}" if message.subject else message.body
    at: dict[str, Any] = {"atMobiles": [], "isAtAll": message.recipient == CHAT_ALL}
    if message.recipient not in (CHAT_ALL, CHAT_GROUP):
        at["atMobiles"] = [message.recipient]
        content = f"{content}\n@{message.recipient}"
    return {"msgtype": "text", "text": {"content": content}, "at": at}


def url_for(config: ChannelConfig, now_ms: int | None = None) -> str:
    url = config.chat_url or ""
    if not config.chat_secret:
        return url
    return signed_url(
        url, config.chat_secret, now_ms if now_ms is not None else int(time.time() * 1000)
    )


def _refusal(content: bytes) -> str | None:
    try:
        data = json.loads(content)
    except ValueError:
        return None
    if isinstance(data, dict) and data.get("errcode") not in (None, 0):
        return f"errcode {data.get('errcode')}: {data.get('errmsg', '')}"[:MAX_ERROR]
    return None


async def send(message: Message, config: ChannelConfig, *, client: httpx.AsyncClient) -> Answer:
    response = await client.post(
        url_for(config),
        content=json.dumps(payload(message), ensure_ascii=False).encode(),
        headers={"content-type": "application/json; charset=utf-8", "idempotency-key": message.key},
    )
    if not 200 <= response.status_code < 300:
        return Answer(response.status_code, f"HTTP {response.status_code}")
    return Answer(response.status_code, _refusal(response.content))
