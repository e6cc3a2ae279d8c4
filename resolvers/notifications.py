"""Notifications: channel configuration, the delivery log, a test message."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from auth.caller import Caller
from domain.notifications import channels, service
from domain.pagination import page_size
from resolvers._app import allow_http, master_key
from resolvers._mutation import MutationSpec, input_dict, not_replayed, run_mutation
from schema.notifications import (
    ConfigureNotificationChannelInput,
    ConfigureNotificationChannelPayload,
    Notification,
    NotificationChannel,
    NotificationChannelType,
    NotificationStatus,
    SendTestNotificationInput,
    SendTestNotificationPayload,
)
from schema.relay import After, Connection, First, connection, int_cursor


def _spec(action: str, audit: Any) -> MutationSpec:
    return MutationSpec(action=action, audit=audit, snapshot=not_replayed, restore=not_replayed)


CONFIGURE = _spec("notification.channel.configure", channels.audit_configured)
SEND_TEST = _spec("notification.test", service.audit_test)


def _command(
    input: ConfigureNotificationChannelInput, allow_http: bool, data_key: bytes | None = None
) -> channels.ConfigureChannel:
    e, s, c = input.email, input.sms, input.chat
    return channels.ConfigureChannel(
        channel=input.channel.value,
        enabled=input.enabled,
        email=channels.EmailSettings(
            host=e.host,
            port=e.port,
            from_address=e.from_address,
            tls=e.tls.value,
            username=e.username,
            password=e.password,
        )
        if e is not None
        else None,
        sms=channels.SmsSettings(
            url=s.url,
            method=s.method.value,
            content_type=s.content_type,
            body_template=s.body_template,
            auth_header=s.auth_header,
            auth_value=s.auth_value,
        )
        if s is not None
        else None,
        chat=channels.ChatSettings(url=c.url, secret=c.secret) if c is not None else None,
        allow_http=allow_http,
        data_key=data_key,
    )


async def configure_notification_channel(
    info: Info,
    input: Annotated[
        ConfigureNotificationChannelInput,
        strawberry.argument(description="What to do; see ConfigureNotificationChannelInput."),
    ],
) -> ConfigureNotificationChannelPayload:
    cmd = _command(input, allow_http(info), master_key(info))

    async def execute(session: AsyncSession, caller: Caller, request_id: str) -> Row[Any]:
        return await channels.configure(session, caller, cmd)

    return await run_mutation(
        info,
        CONFIGURE,
        ConfigureNotificationChannelPayload,
        channels.audited_input(input_dict(input)),
        execute,
        ConfigureNotificationChannelPayload.from_row,
    )


async def send_test_notification(
    info: Info,
    input: Annotated[
        SendTestNotificationInput,
        strawberry.argument(description="What to do; see SendTestNotificationInput."),
    ],
) -> SendTestNotificationPayload:
    new = service.NewNotification(
        channel=input.channel.value,
        recipient=input.recipient,
        subject=input.subject,
        body=input.body,
        template=service.TEST_TEMPLATE,
    )

    async def execute(session: AsyncSession, caller: Caller, request_id: str) -> Row[Any]:
        return await service.send_test(session, caller, new)

    audited = {"channel": input.channel.value, "subject": input.subject}  # no recipient, no body
    return await run_mutation(
        info,
        SEND_TEST,
        SendTestNotificationPayload,
        audited,
        execute,
        SendTestNotificationPayload.from_row,
    )


async def notification_channels(info: Info) -> list[NotificationChannel]:
    caller = info.context.viewer
    async with info.context.db.tenant_transaction(caller.tenant_id) as session:
        rows = await channels.list_channels(session, caller)
    return [NotificationChannel.from_row(r) for r in rows]


async def notifications(
    info: Info,
    first: First = None,
    after: After = None,
    status: Annotated[
        NotificationStatus | None,
        strawberry.argument(description="Only notifications in this status."),
    ] = None,
    channel: Annotated[
        NotificationChannelType | None,
        strawberry.argument(description="Only notifications on this channel."),
    ] = None,
) -> Connection[Notification]:
    """The delivery log, newest first, with every attempt."""
    caller = info.context.viewer
    cmd = service.ListNotifications(
        limit=page_size(first),
        after=int_cursor(after),
        status=status.value if status is not None else None,
        channel=channel.value if channel is not None else None,
    )
    db = info.context.db
    async with db.tenant_transaction(caller.tenant_id) as session:
        page = await service.list_notifications(session, caller, cmd)

    async def count() -> int:
        async with db.tenant_transaction(caller.tenant_id) as s:
            return await service.count_notifications(s, caller, cmd)

    return connection(page, Notification.from_row, lambda r: r.id, count)
