"""Webhook signing secrets and channel credentials are sealed at rest: a dump of every
table holds none of them in clear, and the senders still read them back."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import text

from domain import vault
from domain.members.crypto import CryptoError
from domain.notifications import channels
from tests.api.test_notifications import CONFIGURE
from tests.webhooks_support import execute_with_settings, subscribe


async def dump(db) -> str:
    """Every row of every table in the public schema, as text (what pg_dump would hold)."""
    async with db.owner_transaction() as s:
        tables = (
            await s.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
            )
        ).scalars()
        parts = []
        for table in list(tables):
            rows = await s.execute(text(f'SELECT t::text FROM "{table}" t'))
            parts.extend(r[0] for r in rows)
    return "\n".join(parts)


async def configure(gql, tenant, channel: str, **settings) -> dict:
    result = await execute_with_settings(
        gql,
        CONFIGURE,
        tenant.owner,
        {"input": {"channel": channel, **settings}},
        env="development",
    )
    assert result.errors is None, result.errors
    payload = result.data["configureNotificationChannel"]
    assert payload["userErrors"] == [], payload
    return payload


async def test_a_dump_holds_no_secret_in_clear_and_senders_still_read_them(gql, tenant):
    webhook = await subscribe(
        gql, tenant.owner, url="https://hooks.example.com/in", eventTypes=["STOCK_CHANGED"]
    )
    signing = webhook["secret"]
    password, auth, chat = (f"cred-{secrets.token_hex(12)}" for _ in range(3))
    await configure(
        gql,
        tenant,
        "EMAIL",
        email={
            "host": "smtp.example.com",
            "port": 587,
            "fromAddress": "shop@example.com",
            "tls": "STARTTLS",
            "username": "shop",
            "password": password,
        },
    )
    await configure(
        gql,
        tenant,
        "SMS",
        sms={"url": "https://sms.example.com/send", "authValue": f"Bearer {auth}"},
    )
    await configure(
        gql, tenant, "CHAT", chat={"url": "https://chat.example.com/robot", "secret": chat}
    )

    everything = await dump(tenant.db)
    assert "sealed:v1:" in everything
    for secret in (signing, signing.removeprefix("whsec_"), password, auth, chat):
        assert secret not in everything

    key = tenant.db.data_key
    async with tenant.db.owner_transaction() as s:
        stored = (
            await s.execute(
                text("SELECT secret FROM webhook_endpoints WHERE tenant_id = :t"),
                {"t": tenant.tenant_id},
            )
        ).scalar_one()
        opened = vault.unseal(
            key, stored, tenant_id=tenant.tenant_id, table="webhook_endpoints", column="secret"
        )
        assert opened == signing
        email = await channels.config_for(s, tenant.tenant_id, "EMAIL", key)
        sms = await channels.config_for(s, tenant.tenant_id, "SMS", key)
        robot = await channels.config_for(s, tenant.tenant_id, "CHAT", key)
    assert email is not None and email.smtp_password == password
    assert sms is not None and sms.sms_auth_value == f"Bearer {auth}"
    assert robot is not None and robot.chat_secret == chat


async def test_keeping_a_credential_keeps_it_sealed(gql, tenant):
    chat = f"cred-{secrets.token_hex(12)}"
    await configure(gql, tenant, "CHAT", chat={"url": "https://chat.example.com/r", "secret": chat})
    await configure(gql, tenant, "CHAT", chat={"url": "https://chat.example.com/r2"})  # keep
    assert chat not in await dump(tenant.db)
    async with tenant.db.owner_transaction() as s:
        robot = await channels.config_for(s, tenant.tenant_id, "CHAT", tenant.db.data_key)
    assert robot is not None and robot.chat_secret == chat


async def test_plain_secrets_from_before_are_sealed_and_still_open(gql, tenant):
    await subscribe(
        gql, tenant.owner, url="https://hooks.example.com/x", eventTypes=["STOCK_CHANGED"]
    )
    async with tenant.db.owner_transaction() as s:
        await s.execute(
            text(
                "UPDATE webhook_endpoints SET secret = 'whsec_plainOldSecret' WHERE tenant_id = :t"
            ),
            {"t": tenant.tenant_id},
        )
    async with tenant.db.owner_transaction() as s:
        assert await vault.seal_plain_rows(s, tenant.db.data_key) >= 1
    assert "plainOldSecret" not in await dump(tenant.db)
    async with tenant.db.owner_transaction() as s:
        stored = (
            await s.execute(
                text("SELECT secret FROM webhook_endpoints WHERE tenant_id = :t"),
                {"t": tenant.tenant_id},
            )
        ).scalar_one()
    assert (
        vault.unseal(
            tenant.db.data_key,
            stored,
            tenant_id=tenant.tenant_id,
            table="webhook_endpoints",
            column="secret",
        )
        == "whsec_plainOldSecret"
    )
    # another tenant's context does not open it
    with pytest.raises(CryptoError):
        vault.unseal(
            tenant.db.data_key,
            stored,
            tenant_id=tenant.tenant_id + 1,
            table="webhook_endpoints",
            column="secret",
        )
