"""The SMS adapter: one request to the tenant's HTTP gateway, shaped by its template.

The body template holds ``{{to}}``, ``{{body}}``, ``{{subject}}`` and
``{{reference}}``; each value is escaped for the content type (JSON string
content, or form encoding), so a message cannot break the gateway's format.
With GET the rendered template is the query string. Any 2xx is success.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import quote_plus

import httpx

from domain.notifications.records import Answer, ChannelConfig, Message

PLACEHOLDERS = ("to", "body", "subject", "reference")


def _escape(value: str, content_type: str) -> str:
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        return json.dumps(value, ensure_ascii=False)[1:-1]
    if media == "application/x-www-form-urlencoded":
        return quote_plus(value)
    return value


def render(template: str, content_type: str, values: Mapping[str, str]) -> str:
    out = template
    for name in PLACEHOLDERS:
        out = out.replace("{{" + name + "}}", _escape(values.get(name, ""), content_type))
    return out


def request_parts(
    message: Message, config: ChannelConfig
) -> tuple[str, str, dict[str, str], bytes]:
    """(method, url, headers, body) of the gateway request."""
    method = config.sms_method or "POST"
    url = config.sms_url or ""
    values = {
        "to": message.recipient,
        "body": message.body,
        "subject": message.subject or "",
        "reference": message.reference or "",
    }
    headers = {"idempotency-key": message.key}
    if config.sms_auth_header and config.sms_auth_value:
        headers[config.sms_auth_header] = config.sms_auth_value
    if method == "GET":
        query = render(config.sms_body_template or "", "application/x-www-form-urlencoded", values)
        return method, url + ("&" if "?" in url else "?") + query, headers, b""
    content_type = config.sms_content_type or "application/json"
    headers["content-type"] = content_type
    body = render(config.sms_body_template or "", content_type, values)
    return method, url, headers, body.encode()


async def send(message: Message, config: ChannelConfig, *, client: httpx.AsyncClient) -> Answer:
    method, url, headers, body = request_parts(message, config)
    response = await client.request(method, url, headers=headers, content=body or None)
    if 200 <= response.status_code < 300:
        return Answer(response.status_code)
    return Answer(response.status_code, f"HTTP {response.status_code}")
