"""The EMAIL adapter: one message over SMTP (aiosmtplib), plain text in UTF-8."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib

from domain.notifications.records import Answer, ChannelConfig, Message

MAX_ERROR = 500


def build(message: Message, config: ChannelConfig, now: datetime | None = None) -> EmailMessage:
    """The MIME message; its Message-ID is the notification's, the same on every retry."""
    email = EmailMessage()
    email["From"] = config.smtp_from or ""
    email["To"] = message.recipient
    email["Subject"] = message.subject or ""
    email["Date"] = format_datetime(now or datetime.now(UTC))
    email["Message-ID"] = f"<{message.key}@stockgraph>"
    email.set_content(message.body, charset="utf-8")
    return email


async def send(message: Message, config: ChannelConfig, *, timeout: float) -> Answer:
    """Hand the message to the configured SMTP server; its refusal is the attempt's error."""
    email = build(message, config)
    try:
        _, reply = await aiosmtplib.send(
            email,
            hostname=config.smtp_host,
            port=config.smtp_port,
            username=config.smtp_username,
            password=config.smtp_password if config.smtp_username else None,
            use_tls=config.smtp_tls == "TLS",
            start_tls=config.smtp_tls == "STARTTLS",
            timeout=timeout,
        )
    except aiosmtplib.SMTPResponseException as exc:
        return Answer(exc.code, f"SMTP {exc.code}: {exc.message}"[:MAX_ERROR])
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [r.code for r in exc.recipients]
        return Answer(codes[0] if codes else None, f"recipient refused: {exc}"[:MAX_ERROR])
    code = reply.split(" ", 1)[0]
    return Answer(int(code) if code.isdigit() else 250)
