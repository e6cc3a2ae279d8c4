"""Configuring a tenant's channels, and the views of that configuration without its secrets.

Credentials (the SMTP password, the SMS gateway's auth header value, the chat
robot's signing secret) follow one rule on input: omitted (None) keeps the
stored value, "" clears it, anything else replaces it. On output they are
only ever a ``has…`` flag; URLs are shown with their query values hidden,
since gateways and robots often carry an access token there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from sqlalchemy import Row, Table, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from auth.permissions import Permission
from db.models import NotificationChannel
from domain import vault
from domain.access import require
from domain.audit.service import AuditEntry
from domain.errors import DomainError, InvalidInput
from domain.notifications import recipients
from domain.notifications.records import (
    CHANNELS,
    CHAT,
    EMAIL,
    SMS,
    SMS_METHODS,
    SMTP_TLS_MODES,
    ChannelConfig,
)
from domain.webhooks.urls import check_url

C = cast(Table, NotificationChannel.__table__)
HIDDEN = "***"
MAX_TEMPLATE = 4000
MAX_SECRET = 500
SECRET_COLUMNS = ("smtp_password", "sms_auth_value", "chat_secret")  # sealed: domain.vault
_HEADER_NAME = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)


@dataclass(frozen=True, slots=True)
class EmailSettings:
    host: str
    port: int
    from_address: str
    tls: str = "STARTTLS"
    username: str | None = None
    password: str | None = None  # None: keep; "": clear


@dataclass(frozen=True, slots=True)
class SmsSettings:
    url: str
    method: str = "POST"
    content_type: str = "application/json"
    body_template: str = '{"to": "{{to}}", "message": "{{body}}"}'
    auth_header: str = "Authorization"
    auth_value: str | None = None  # None: keep; "": clear


@dataclass(frozen=True, slots=True)
class ChatSettings:
    url: str
    secret: str | None = None  # None: keep; "": clear


@dataclass(frozen=True, slots=True)
class ConfigureChannel:
    channel: str
    enabled: bool = True
    email: EmailSettings | None = None
    sms: SmsSettings | None = None
    chat: ChatSettings | None = None
    allow_http: bool = False
    data_key: bytes | None = field(default=None, repr=False)  # seals the credentials


def hide_query(url: str | None) -> str | None:
    """The URL with every query value replaced: ``?access_token=***``."""
    if url is None:
        return None
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = "&".join(f"{k}={HIDDEN}" for k, _ in parse_qsl(parts.query, keep_blank_values=True))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def public_view(row: Any) -> dict[str, Any]:
    """The configuration as it may be shown and audited: secrets become flags."""
    view: dict[str, Any] = {"channel": row.channel, "enabled": row.enabled}
    if row.channel == EMAIL:
        view["email"] = {
            "host": row.smtp_host,
            "port": row.smtp_port,
            "fromAddress": row.smtp_from,
            "tls": row.smtp_tls,
            "username": row.smtp_username,
            "hasPassword": bool(row.smtp_password),
        }
    elif row.channel == SMS:
        view["sms"] = {
            "url": hide_query(row.sms_url),
            "method": row.sms_method,
            "contentType": row.sms_content_type,
            "bodyTemplate": row.sms_body_template,
            "authHeader": row.sms_auth_header,
            "hasAuthValue": bool(row.sms_auth_value),
        }
    elif row.channel == CHAT:
        view["chat"] = {"url": hide_query(row.chat_url), "hasSecret": bool(row.chat_secret)}
    return view


def _url(url: str, allow_http: bool, field: list[str]) -> str:
    try:
        return check_url(url, allow_http=allow_http)
    except DomainError as error:
        raise InvalidInput(error.message, field) from None


def _secret(new: str | None, old: str | None, field: list[str]) -> str | None:
    if new is None:
        return old
    if len(new) > MAX_SECRET:
        raise InvalidInput(f"at most {MAX_SECRET} characters", field)
    return new or None


def _email_columns(s: EmailSettings, old: Any) -> dict[str, Any]:
    host = s.host.strip()
    if not host or len(host) > 255 or any(ch.isspace() for ch in host):
        raise InvalidInput("host is required and has no spaces", ["email", "host"])
    if not 1 <= s.port <= 65535:
        raise InvalidInput("port must be 1 to 65535", ["email", "port"])
    if s.tls not in SMTP_TLS_MODES:
        raise InvalidInput(f"tls must be one of {', '.join(SMTP_TLS_MODES)}", ["email", "tls"])
    username = (s.username or "").strip() or None
    if username is not None and len(username) > 320:
        raise InvalidInput("username is at most 320 characters", ["email", "username"])
    return {
        "smtp_host": host,
        "smtp_port": s.port,
        "smtp_from": recipients.email_address(s.from_address, ["email", "fromAddress"]),
        "smtp_tls": s.tls,
        "smtp_username": username,
        "smtp_password": _secret(
            s.password, old.smtp_password if old else None, ["email", "password"]
        ),
    }


def _sms_columns(s: SmsSettings, old: Any, allow_http: bool) -> dict[str, Any]:
    if s.method not in SMS_METHODS:
        raise InvalidInput(f"method must be one of {', '.join(SMS_METHODS)}", ["sms", "method"])
    if not s.body_template.strip() or len(s.body_template) > MAX_TEMPLATE:
        raise InvalidInput(
            f"bodyTemplate takes 1 to {MAX_TEMPLATE} characters", ["sms", "bodyTemplate"]
        )
    if "{{body}}" not in s.body_template or "{{to}}" not in s.body_template:
        raise InvalidInput("bodyTemplate must contain {{to}} and {{body}}", ["sms", "bodyTemplate"])
    header = s.auth_header.strip()
    if not header or len(header) > 100 or not set(header) <= _HEADER_NAME:
        raise InvalidInput("authHeader must be an HTTP header name", ["sms", "authHeader"])
    content_type = s.content_type.strip()
    if not content_type or len(content_type) > 100 or "\n" in content_type or "\r" in content_type:
        raise InvalidInput("contentType must be a media type", ["sms", "contentType"])
    value = _secret(s.auth_value, old.sms_auth_value if old else None, ["sms", "authValue"])
    if value is not None and any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise InvalidInput("authValue must not contain control characters", ["sms", "authValue"])
    return {
        "sms_url": _url(s.url, allow_http, ["sms", "url"]),
        "sms_method": s.method,
        "sms_content_type": content_type,
        "sms_body_template": s.body_template,
        "sms_auth_header": header,
        "sms_auth_value": value,
    }


def _chat_columns(s: ChatSettings, old: Any, allow_http: bool) -> dict[str, Any]:
    return {
        "chat_url": _url(s.url, allow_http, ["chat", "url"]),
        "chat_secret": _secret(s.secret, old.chat_secret if old else None, ["chat", "secret"]),
    }


async def configure(session: AsyncSession, caller: Caller, cmd: ConfigureChannel) -> Row[Any]:
    """Create or replace one channel's settings (admin only); the row, secrets included."""
    require(caller, Permission.ADMIN)
    if cmd.channel not in CHANNELS:
        raise InvalidInput(f"unknown channel {cmd.channel!r}", ["channel"])
    settings = {EMAIL: cmd.email, SMS: cmd.sms, CHAT: cmd.chat}
    for name, given in settings.items():
        field = name.lower()
        if name == cmd.channel and given is None:
            raise InvalidInput(f"{field} settings are required for {name}", [field])
        if name != cmd.channel and given is not None:
            raise InvalidInput(f"{field} settings belong to the {name} channel", [field])
    old = (
        await session.execute(
            select(C)
            .where(C.c.tenant_id == caller.tenant_id, C.c.channel == cmd.channel)
            .with_for_update()
        )
    ).first()
    columns: dict[str, Any] = {
        c.name: None for c in C.columns if c.name[:4] in ("smtp", "sms_", "chat")
    }
    if cmd.email is not None:
        columns.update(_email_columns(cmd.email, old))
    if cmd.sms is not None:
        columns.update(_sms_columns(cmd.sms, old, cmd.allow_http))
    if cmd.chat is not None:
        columns.update(_chat_columns(cmd.chat, old, cmd.allow_http))
    for column in SECRET_COLUMNS:  # new ones sealed; kept ones are sealed already
        value = columns.get(column)
        if value is not None and not vault.is_sealed(value):
            columns[column] = vault.seal(
                cmd.data_key,
                value,
                tenant_id=caller.tenant_id,
                table="notification_channels",
                column=column,
            )
    values = {"enabled": cmd.enabled, **columns}
    stmt = insert(C).values(tenant_id=caller.tenant_id, channel=cmd.channel, **values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[C.c.tenant_id, C.c.channel], set_={**values, "updated_at": func.now()}
    )
    return (await session.execute(stmt.returning(C))).one()


async def list_channels(session: AsyncSession, caller: Caller) -> Sequence[Row[Any]]:
    require(caller, Permission.ADMIN)
    stmt = select(C).where(C.c.tenant_id == caller.tenant_id).order_by(C.c.channel)
    return (await session.execute(stmt)).all()


async def config_for(
    session: AsyncSession, tenant_id: int, channel: str, data_key: bytes | None = None
) -> ChannelConfig | None:
    row = (
        await session.execute(select(C).where(C.c.tenant_id == tenant_id, C.c.channel == channel))
    ).first()
    return ChannelConfig.from_row(row).opened(data_key, tenant_id) if row is not None else None


def audit_configured(row: Row[Any]) -> AuditEntry:
    return AuditEntry(
        action="notification.channel.configure",
        target_type="NotificationChannel",
        target_id=row.channel,
        after=public_view(row),
    )


def audited_input(cmd_input: dict[str, Any]) -> dict[str, Any]:
    """The mutation input as a refusal may record it: secrets replaced by a flag, URLs hidden."""
    out = dict(cmd_input)
    for part, secret, url in (
        ("email", "password", None),
        ("sms", "auth_value", "url"),
        ("chat", "secret", "url"),
    ):
        value = out.get(part)
        if isinstance(value, dict):
            value = dict(value)
            if secret in value:
                value[secret] = None if value[secret] is None else HIDDEN
            if url is not None and isinstance(value.get(url), str):
                value[url] = hide_query(value[url])
            out[part] = value
    return out
