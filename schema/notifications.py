"""Notifications: channel settings (never their secrets), the delivery log, payloads."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from auth.fields import visible_with
from auth.permissions import Permission
from domain import ids
from domain.notifications.channels import public_view
from schema.describe import enum_values
from schema.errors import UserError
from schema.relay import Node


@enum_values(
    EMAIL="Email, over SMTP.",
    SMS="SMS, through an HTTP gateway.",
    CHAT="A chat group robot's incoming webhook.",
)
@strawberry.enum(description="How a notification travels.")
class NotificationChannelType(Enum):
    EMAIL = "EMAIL"
    SMS = "SMS"
    CHAT = "CHAT"


@enum_values(
    PENDING="Not sent yet; retried with backoff.",
    SENT="Accepted by the channel.",
    DEAD="Every retry failed.",
)
@strawberry.enum(description="PENDING until accepted (SENT) or the last retry failed (DEAD).")
class NotificationStatus(Enum):
    PENDING = "PENDING"
    SENT = "SENT"
    DEAD = "DEAD"


@enum_values(
    NONE="Plain SMTP (only on trusted networks).",
    STARTTLS="Upgrade with STARTTLS (usually port 587).",
    TLS="TLS from the start (usually port 465).",
)
@strawberry.enum(description="How the SMTP connection is secured.")
class SmtpTls(Enum):
    NONE = "NONE"
    STARTTLS = "STARTTLS"
    TLS = "TLS"


@enum_values(
    POST="POST the body template.",
    PUT="PUT the body template.",
    GET="GET, with the template as the query.",
)
@strawberry.enum(description="The SMS gateway's HTTP method (GET: the template is the query).")
class SmsMethod(Enum):
    POST = "POST"
    PUT = "PUT"
    GET = "GET"


@strawberry.type(description="SMTP settings; the password is never shown.")
class EmailChannelSettings:
    host: str = strawberry.field(description="The SMTP server.")
    port: int = strawberry.field(description="The SMTP port.")
    from_address: str = strawberry.field(description="The sender address.")
    tls: SmtpTls = strawberry.field(description="How the connection is secured.")
    username: str | None = strawberry.field(description="The SMTP user, if any.")
    has_password: bool = strawberry.field(description="True when a password is stored.")


@strawberry.type(description="SMS gateway settings; the auth header's value is never shown.")
class SmsChannelSettings:
    url: str = strawberry.field(description="Query values are shown as ***.")
    method: SmsMethod = strawberry.field(description="The HTTP method.")
    content_type: str = strawberry.field(description="The request's content type.")
    body_template: str = strawberry.field(description="The request body, with {{to}} and {{body}}.")
    auth_header: str = strawberry.field(
        description="The header that carries the gateway's credential."
    )
    has_auth_value: bool = strawberry.field(description="True when a credential is stored.")


@strawberry.type(description="A chat group robot's incoming webhook; the secret is never shown.")
class ChatChannelSettings:
    url: str = strawberry.field(description="Query values (the access token) are shown as ***.")
    has_secret: bool = strawberry.field(description="Messages are signed (timestamp + sign).")


@strawberry.type(description="One channel's configuration for this tenant.")
class NotificationChannel:
    channel: NotificationChannelType = strawberry.field(description="Which channel.")
    enabled: bool = strawberry.field(description="False: messages on it are not sent.")
    email: EmailChannelSettings | None = strawberry.field(
        description="The SMTP settings, for EMAIL."
    )
    sms: SmsChannelSettings | None = strawberry.field(
        description="The SMS gateway settings, for SMS."
    )
    chat: ChatChannelSettings | None = strawberry.field(
        description="The chat robot settings, for CHAT."
    )
    updated_at: datetime = strawberry.field(description="When it last changed.")

    @classmethod
    def from_row(cls, row: Any) -> NotificationChannel:
        view = public_view(row)
        e, s, c = view.get("email"), view.get("sms"), view.get("chat")
        return cls(
            channel=NotificationChannelType(row.channel),
            enabled=row.enabled,
            email=EmailChannelSettings(
                host=e["host"],
                port=e["port"],
                from_address=e["fromAddress"],
                tls=SmtpTls(e["tls"]),
                username=e["username"],
                has_password=e["hasPassword"],
            )
            if e
            else None,
            sms=SmsChannelSettings(
                url=s["url"],
                method=SmsMethod(s["method"]),
                content_type=s["contentType"],
                body_template=s["bodyTemplate"],
                auth_header=s["authHeader"],
                has_auth_value=s["hasAuthValue"],
            )
            if s
            else None,
            chat=ChatChannelSettings(url=c["url"], has_secret=c["hasSecret"]) if c else None,
            updated_at=row.updated_at,
        )


@strawberry.type(description="One delivery attempt.")
class NotificationAttempt:
    attempted_at: datetime = strawberry.field(description="When it was made.")
    succeeded: bool = strawberry.field(description="True when the channel accepted the message.")
    status_code: int | None = strawberry.field(description="HTTP status, or SMTP reply code.")
    error: str | None = strawberry.field(description="Why it failed, if it did.")
    duration_ms: int = strawberry.field(description="How long it took, in milliseconds.")

    @classmethod
    def from_row(cls, row: Any) -> NotificationAttempt:
        return cls(
            attempted_at=row.attempted_at,
            succeeded=row.succeeded,
            status_code=row.status_code,
            error=row.error,
            duration_ms=row.duration_ms,
        )


@visible_with(Permission.ADMIN)
@strawberry.type(description="One message in the outbox, with its delivery attempts.")
class Notification(Node):
    channel: NotificationChannelType = strawberry.field(description="The channel.")
    recipient: str = strawberry.field(description="The address, number or chat target.")
    subject: str | None = strawberry.field(description="The subject, for email.")
    body: str = strawberry.field(description="The message.")
    template: str | None = strawberry.field(
        description='A label of what produced it (e.g. "test", an offer), if any.'
    )
    reference: str | None = strawberry.field(
        description="A label of what it is about (e.g. an alert), if any."
    )
    consent_checked: bool = strawberry.field(
        description="True when it is for a member and their consent on this channel was "
        "checked first."
    )
    status: NotificationStatus = strawberry.field(description="Pending, sent or dead.")
    attempts: int = strawberry.field(description="Attempts so far.")
    next_attempt_at: datetime | None = strawberry.field(
        description="When the next retry is due; null unless PENDING."
    )
    last_error: str | None = strawberry.field(description="Why the last attempt failed, if it did.")
    sent_at: datetime | None = strawberry.field(
        description="When the channel accepted it; null until then."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    pk: strawberry.Private[int]

    @strawberry.field(description="Every attempt, oldest first.")
    async def attempt_log(self, info: Info) -> list[NotificationAttempt]:
        rows = await info.context.loaders.attempts_by_notification.load(self.pk)
        return [NotificationAttempt.from_row(r) for r in rows or ()]

    @classmethod
    def from_row(cls, row: Any) -> Notification:
        return cls(
            id=strawberry.ID(ids.encode("Notification", row.id)),
            channel=NotificationChannelType(row.channel),
            recipient=row.recipient,
            subject=row.subject,
            body=row.body,
            template=row.template,
            reference=row.reference,
            consent_checked=row.consent_checked,
            status=NotificationStatus(row.status),
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at if row.status == "PENDING" else None,
            last_error=row.last_error,
            sent_at=row.sent_at,
            created_at=row.created_at,
            pk=row.id,
        )


@strawberry.input(description="SMTP settings.")
class EmailChannelInput:
    host: str = strawberry.field(description="The SMTP server's host name.")
    port: int = strawberry.field(default=587, description="The SMTP port (default 587).")
    from_address: str = strawberry.field(description="The sender address.")
    tls: SmtpTls = strawberry.field(
        default=SmtpTls.STARTTLS, description="How to secure the connection (default STARTTLS)."
    )
    username: str | None = strawberry.field(
        default=None, description="The SMTP user, if it needs one."
    )
    password: str | None = strawberry.field(
        default=None, description="Omitted: keep the stored one; empty: remove it."
    )


@strawberry.input(description="An HTTP SMS gateway.")
class SmsChannelInput:
    url: str = strawberry.field(description="The gateway's URL.")
    method: SmsMethod = strawberry.field(
        default=SmsMethod.POST, description="The HTTP method (default POST)."
    )
    content_type: str = strawberry.field(
        default="application/json",
        description="The request's content type (default application/json).",
    )
    body_template: str = strawberry.field(
        default='{"to": "{{to}}", "message": "{{body}}"}',
        description="With {{to}} and {{body}} (also {{subject}}, {{reference}}), each "
        "escaped for the content type.",
    )
    auth_header: str = strawberry.field(
        default="Authorization",
        description="The header that carries the credential (default Authorization).",
    )
    auth_value: str | None = strawberry.field(
        default=None, description="Omitted: keep the stored one; empty: remove it."
    )


@strawberry.input(description="A chat group robot's incoming webhook.")
class ChatChannelInput:
    url: str = strawberry.field(description="The robot's webhook URL (with its access token).")
    secret: str | None = strawberry.field(
        default=None,
        description="Signing secret (adds timestamp and sign). Omitted: keep; empty: remove.",
    )


@strawberry.input(description="The input of configureNotificationChannel.")
class ConfigureNotificationChannelInput:
    channel: NotificationChannelType = strawberry.field(
        description="The channel to configure. Needs admin."
    )
    enabled: bool = strawberry.field(
        default=True, description="false stops sending on it (default true)."
    )
    email: EmailChannelInput | None = strawberry.field(
        default=None, description="SMTP settings, for EMAIL."
    )
    sms: SmsChannelInput | None = strawberry.field(
        default=None, description="Gateway settings, for SMS."
    )
    chat: ChatChannelInput | None = strawberry.field(
        default=None, description="Robot settings, for CHAT."
    )


@strawberry.input(description="The input of sendTestNotification.")
class SendTestNotificationInput:
    channel: NotificationChannelType = strawberry.field(
        description="The channel to test. Needs admin."
    )
    recipient: str = strawberry.field(
        description="EMAIL: an address; SMS: +852…; CHAT: group, @all or a mobile to mention."
    )
    subject: str | None = strawberry.field(default=None, description="The subject, for email.")
    body: str = strawberry.field(description="The message.")


@strawberry.type(
    description="The result of configureNotificationChannel: what changed, or userErrors."
)
class ConfigureNotificationChannelPayload:
    notification_channel: NotificationChannel | None = strawberry.field(
        description="The channel after the change (no secrets); null when refused."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused, each with a stable code and the path of the "
        "input field; empty when it succeeded."
    )

    @classmethod
    def from_row(cls, row: Any) -> ConfigureNotificationChannelPayload:
        return cls(notification_channel=NotificationChannel.from_row(row), user_errors=[])

    @classmethod
    def failed(cls, errors: list[UserError]) -> ConfigureNotificationChannelPayload:
        return cls(notification_channel=None, user_errors=errors)


@strawberry.type(description="The result of sendTestNotification: what changed, or userErrors.")
class SendTestNotificationPayload:
    notification: Notification | None = strawberry.field(
        description="The message queued; null when refused."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused, each with a stable code and the path of the "
        "input field; empty when it succeeded."
    )

    @classmethod
    def from_row(cls, row: Any) -> SendTestNotificationPayload:
        return cls(notification=Notification.from_row(row), user_errors=[])

    @classmethod
    def failed(cls, errors: list[UserError]) -> SendTestNotificationPayload:
        return cls(notification=None, user_errors=errors)
