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
from schema.errors import UserError
from schema.relay import Node


@strawberry.enum(description="How a notification travels.")
class NotificationChannelType(Enum):
    EMAIL = "EMAIL"
    SMS = "SMS"
    CHAT = "CHAT"


@strawberry.enum(description="PENDING until accepted (SENT) or the last retry failed (DEAD).")
class NotificationStatus(Enum):
    PENDING = "PENDING"
    SENT = "SENT"
    DEAD = "DEAD"


@strawberry.enum(description="How the SMTP connection is secured.")
class SmtpTls(Enum):
    NONE = "NONE"
    STARTTLS = "STARTTLS"
    TLS = "TLS"


@strawberry.enum(description="The SMS gateway's HTTP method (GET: the template is the query).")
class SmsMethod(Enum):
    POST = "POST"
    PUT = "PUT"
    GET = "GET"


@strawberry.type(description="SMTP settings; the password is never shown.")
class EmailChannelSettings:
    host: str
    port: int
    from_address: str
    tls: SmtpTls
    username: str | None
    has_password: bool


@strawberry.type(description="SMS gateway settings; the auth header's value is never shown.")
class SmsChannelSettings:
    url: str = strawberry.field(description="Query values are shown as ***.")
    method: SmsMethod
    content_type: str
    body_template: str
    auth_header: str
    has_auth_value: bool


@strawberry.type(description="A chat group robot's incoming webhook; the secret is never shown.")
class ChatChannelSettings:
    url: str = strawberry.field(description="Query values (the access token) are shown as ***.")
    has_secret: bool = strawberry.field(description="Messages are signed (timestamp + sign).")


@strawberry.type(description="One channel's configuration for this tenant.")
class NotificationChannel:
    channel: NotificationChannelType
    enabled: bool
    email: EmailChannelSettings | None
    sms: SmsChannelSettings | None
    chat: ChatChannelSettings | None
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
    attempted_at: datetime
    succeeded: bool
    status_code: int | None = strawberry.field(description="HTTP status, or SMTP reply code.")
    error: str | None
    duration_ms: int

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
    channel: NotificationChannelType
    recipient: str
    subject: str | None
    body: str
    template: str | None
    reference: str | None
    consent_checked: bool
    status: NotificationStatus
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    sent_at: datetime | None
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


@strawberry.input
class EmailChannelInput:
    host: str
    port: int = 587
    from_address: str
    tls: SmtpTls = SmtpTls.STARTTLS
    username: str | None = None
    password: str | None = strawberry.field(
        default=None, description="Omitted: keep the stored one; empty: remove it."
    )


@strawberry.input
class SmsChannelInput:
    url: str
    method: SmsMethod = SmsMethod.POST
    content_type: str = "application/json"
    body_template: str = strawberry.field(
        default='{"to": "{{to}}", "message": "{{body}}"}',
        description="With {{to}} and {{body}} (also {{subject}}, {{reference}}), each "
        "escaped for the content type.",
    )
    auth_header: str = "Authorization"
    auth_value: str | None = strawberry.field(
        default=None, description="Omitted: keep the stored one; empty: remove it."
    )


@strawberry.input
class ChatChannelInput:
    url: str = strawberry.field(description="The robot's webhook URL (with its access token).")
    secret: str | None = strawberry.field(
        default=None,
        description="Signing secret (adds timestamp and sign). Omitted: keep; empty: remove.",
    )


@strawberry.input(description="The input of configureNotificationChannel.")
class ConfigureNotificationChannelInput:
    channel: NotificationChannelType
    enabled: bool = True
    email: EmailChannelInput | None = None
    sms: SmsChannelInput | None = None
    chat: ChatChannelInput | None = None


@strawberry.input(description="The input of sendTestNotification.")
class SendTestNotificationInput:
    channel: NotificationChannelType
    recipient: str = strawberry.field(
        description="EMAIL: an address; SMS: +852…; CHAT: group, @all or a mobile to mention."
    )
    subject: str | None = None
    body: str


@strawberry.type(
    description="The result of configureNotificationChannel: what changed, or userErrors."
)
class ConfigureNotificationChannelPayload:
    notification_channel: NotificationChannel | None
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
    notification: Notification | None
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
