"""The plain values shared by the queue, the dispatcher and the adapters."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from domain import vault

EMAIL = "EMAIL"
SMS = "SMS"
CHAT = "CHAT"
CHANNELS = (EMAIL, SMS, CHAT)

PENDING = "PENDING"
SENT = "SENT"
DEAD = "DEAD"
STATUSES = (PENDING, SENT, DEAD)

SMTP_TLS_MODES = ("NONE", "STARTTLS", "TLS")
SMS_METHODS = ("POST", "PUT", "GET")


@dataclass(frozen=True, slots=True)
class ChannelConfig:
    """One tenant's settings for one channel, secrets included: for the sender only."""

    channel: str
    enabled: bool
    smtp_host: str | None = None
    smtp_port: int | None = None
    smtp_from: str | None = None
    smtp_tls: str | None = None
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    sms_url: str | None = None
    sms_method: str | None = None
    sms_content_type: str | None = None
    sms_auth_header: str | None = None
    sms_auth_value: str | None = field(default=None, repr=False)
    sms_body_template: str | None = None
    chat_url: str | None = None
    chat_secret: str | None = field(default=None, repr=False)

    @classmethod
    def from_row(cls, row: Any) -> ChannelConfig:
        return cls(**{f.name: getattr(row, f.name) for f in fields(cls)})

    def opened(self, data_key: bytes | None, tenant_id: int) -> ChannelConfig:
        """The same settings with their credentials unsealed (see ``domain.vault``)."""

        def plain(column: str) -> str | None:
            return vault.unseal(
                data_key,
                getattr(self, column),
                tenant_id=tenant_id,
                table="notification_channels",
                column=column,
            )

        return replace(
            self,
            smtp_password=plain("smtp_password"),
            sms_auth_value=plain("sms_auth_value"),
            chat_secret=plain("chat_secret"),
        )


@dataclass(frozen=True, slots=True)
class Message:
    """One notification as the adapters see it."""

    tenant_id: int
    notification_id: int
    channel: str
    recipient: str
    subject: str | None
    body: str
    reference: str | None

    @property
    def key(self) -> str:
        """Stable per notification, the same on every retry: receivers may deduplicate on it."""
        return f"ntf-{self.tenant_id}-{self.notification_id}"


@dataclass(frozen=True, slots=True)
class Answer:
    """What the server at the other end said: a status code, and an error unless it accepted."""

    status_code: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None
