"""Notifications over real SMTP and HTTP: delivery, retries, DEAD, no double sends,
isolation, and secrets that never leave the database."""

from __future__ import annotations

import json
import time
from email import message_from_bytes
from email.policy import default as default_policy
from typing import Any

import pytest
from sqlalchemy import text

from auth.permissions import Role
from domain.errors import Forbidden, InvalidInput
from domain.notifications import service, signing
from outbox.notifications import NotificationSender
from tests.api.conftest import start_server, stop_server
from tests.api.notification_receiver import Gateway, RunningGateway, RunningSmtp
from tests.webhooks_support import execute_with_settings, rows, wait_for

CONFIGURE = """
mutation($input: ConfigureNotificationChannelInput!) {
  configureNotificationChannel(input: $input) {
    notificationChannel {
      channel enabled updatedAt
      email { host port fromAddress tls username hasPassword }
      sms { url method contentType bodyTemplate authHeader hasAuthValue }
      chat { url hasSecret }
    }
    userErrors { code field message }
  }
}"""

SEND_TEST = """
mutation($input: SendTestNotificationInput!) {
  sendTestNotification(input: $input) {
    notification { id channel recipient subject body status }
    userErrors { code field message }
  }
}"""

CHANNELS = """
{ notificationChannels {
    channel enabled
    email { host port fromAddress tls username hasPassword }
    sms { url method contentType bodyTemplate authHeader hasAuthValue }
    chat { url hasSecret }
} }"""

LOG = """
query($first: Int, $after: String, $status: NotificationStatus, $channel: NotificationChannelType) {
  notifications(first: $first, after: $after, status: $status, channel: $channel) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      id channel recipient subject body template reference consentChecked status attempts
      lastError sentAt
      attemptLog { succeeded statusCode error durationMs attemptedAt }
    } }
  }
}"""

SUBJECT = "補貨提示：旺角店"
BODY = "您好！MSK-0001（口罩）只剩 3 件。\n請於今日內補貨 —— 謝謝。"


def sender(db, **kw: Any) -> NotificationSender:
    options = {"backoff_base": 0.05, "max_attempts": 4, "timeout": 5.0, "poll_interval": 0.02}
    return NotificationSender(db, **{**options, **kw})


async def configure(gql, caller, input: dict[str, Any]) -> dict[str, Any]:
    result = await execute_with_settings(
        gql, CONFIGURE, caller, {"input": input}, env="development"
    )
    assert result.errors is None, result.errors
    return result.data["configureNotificationChannel"]


async def send_test(gql, caller, **input: Any) -> dict[str, Any]:
    data = await gql.ok(SEND_TEST, caller, {"input": input})
    return data["sendTestNotification"]


async def queue(tenant, **fields: Any) -> int:
    async with tenant.db.tenant_transaction(tenant.tenant_id) as session:
        row = await service.queue(session, tenant.owner, service.NewNotification(**fields))
    return int(row.id)


async def statuses(db, tenant_id: int) -> list[str]:
    found = await rows(
        db, "SELECT status FROM notifications WHERE tenant_id = :t ORDER BY id", t=tenant_id
    )
    return [r.status for r in found]


def settled(db, tenant_id: int, count: int, status: str = "SENT"):
    async def check() -> bool:
        found = await statuses(db, tenant_id)
        return len(found) == count and all(s == status for s in found)

    return check


@pytest.fixture(autouse=True)
async def retire_leftovers(db):
    """Whatever a test leaves PENDING is retired, so no later sender picks it up."""
    yield
    async with db.owner_transaction() as session:
        await session.execute(
            text("UPDATE notifications SET status = 'DEAD' WHERE status = 'PENDING'")
        )


async def test_email_arrives_over_smtp_with_traditional_chinese_intact(gql, tenant):
    with RunningSmtp() as (mailbox, port):
        payload = await configure(
            gql,
            tenant.owner,
            {
                "channel": "EMAIL",
                "email": {
                    "host": "127.0.0.1",
                    "port": port,
                    "fromAddress": "alerts@shop.example.hk",
                    "tls": "NONE",
                },
            },
        )
        assert payload["userErrors"] == []
        assert payload["notificationChannel"]["email"] == {
            "host": "127.0.0.1",
            "port": port,
            "fromAddress": "alerts@shop.example.hk",
            "tls": "NONE",
            "username": None,
            "hasPassword": False,
        }
        sent = await send_test(
            gql,
            tenant.owner,
            channel="EMAIL",
            recipient="Manager@Shop.Example.HK",
            subject=SUBJECT,
            body=BODY,
        )
        assert sent["userErrors"] == []
        assert sent["notification"]["recipient"] == "Manager@shop.example.hk"
        assert sent["notification"]["status"] == "PENDING"
        worker = sender(tenant.db)
        await worker.start()
        try:
            await wait_for(settled(tenant.db, tenant.tenant_id, 1), what="email sent")
        finally:
            await worker.stop()
        assert len(mailbox.envelopes) == 1
        envelope = mailbox.envelopes[0]
        assert envelope.mail_from == "alerts@shop.example.hk"
        assert envelope.rcpt_tos == ["Manager@shop.example.hk"]
        mail = message_from_bytes(envelope.original_content, policy=default_policy)
        assert mail["From"] == "alerts@shop.example.hk"
        assert mail["To"] == "Manager@shop.example.hk"
        assert mail["Subject"] == SUBJECT
        assert mail.get_content_charset() == "utf-8"
        assert mail.get_content().replace("\r\n", "\n").rstrip("\n") == BODY  # SMTP sends CRLF
        assert mail["Message-ID"].startswith(f"<ntf-{tenant.tenant_id}-")

    log = (await gql.ok(LOG, tenant.owner, {"first": 10}))["notifications"]
    assert log["totalCount"] == 1
    node = log["edges"][0]["node"]
    assert (node["status"], node["attempts"], node["template"]) == ("SENT", 1, "test")
    assert node["sentAt"] is not None and node["lastError"] is None
    assert [(a["succeeded"], a["statusCode"]) for a in node["attemptLog"]] == [(True, 250)]


async def test_sms_gateway_gets_method_body_and_auth_header_after_two_failures(gql, tenant):
    gateway = Gateway(answer=lambda n: (503, None) if n <= 2 else (200, {"ok": True}))
    async with RunningGateway(gateway):
        template = '{"to": "{{to}}", "text": "{{body}}", "ref": "{{reference}}"}'
        payload = await configure(
            gql,
            tenant.owner,
            {
                "channel": "SMS",
                "sms": {
                    "url": gateway.url + "?account=SHOP-ACCOUNT-77",
                    "method": "PUT",
                    "bodyTemplate": template,
                    "authHeader": "X-Api-Key",
                    "authValue": "sms-key-SECRET-1",
                },
            },
        )
        assert payload["userErrors"] == []
        assert payload["notificationChannel"]["sms"] == {
            "url": gateway.url + "?account=***",
            "method": "PUT",
            "contentType": "application/json",
            "bodyTemplate": template,
            "authHeader": "X-Api-Key",
            "hasAuthValue": True,
        }
        body = '您的訂單 "PO-9" 已到貨\n旺角店'
        await queue(
            tenant,
            channel="SMS",
            recipient="+852 9123 4567",
            body=body,
            reference="PO-9",
            template="stock.arrived",
        )
        worker = sender(tenant.db)
        await worker.start()
        try:
            await wait_for(settled(tenant.db, tenant.tenant_id, 1), what="sms sent")
        finally:
            await worker.stop()

    assert [r.status for r in gateway.received] == [503, 503, 200]
    assert len({r.key for r in gateway.received}) == 1  # one id across retries
    for request in gateway.received:
        assert request.method == "PUT" and request.path == "/send"
        assert request.query == {"account": ["SHOP-ACCOUNT-77"]}
        assert request.headers["x-api-key"] == "sms-key-SECRET-1"
        assert request.headers["content-type"] == "application/json"
        assert request.data == {"to": "+85291234567", "text": body, "ref": "PO-9"}

    log = (await gql.ok(LOG, tenant.owner, {"channel": "SMS"}))["notifications"]
    node = log["edges"][0]["node"]
    assert (node["status"], node["attempts"], node["reference"]) == ("SENT", 3, "PO-9")
    attempts = node["attemptLog"]
    assert [(a["succeeded"], a["statusCode"], a["error"]) for a in attempts] == [
        (False, 503, "HTTP 503"),
        (False, 503, "HTTP 503"),
        (True, 200, None),
    ]
    assert sum(a["succeeded"] for a in attempts) == 1


async def test_chat_robot_gets_signed_dingtalk_json_and_a_refusing_robot_ends_dead(gql, tenant):
    def answer(n: int) -> tuple[int, Any]:
        return 200, {"errcode": 0, "errmsg": "ok"}

    gateway = Gateway(answer=answer)
    secret = "SECrobot-SIGNING-secret-42"
    async with RunningGateway(gateway):
        payload = await configure(
            gql,
            tenant.owner,
            {
                "channel": "CHAT",
                "chat": {"url": gateway.url + "?access_token=ROBOT-TOKEN-9", "secret": secret},
            },
        )
        assert payload["userErrors"] == []
        assert payload["notificationChannel"]["chat"] == {
            "url": gateway.url + "?access_token=***",
            "hasSecret": True,
        }
        sent = await send_test(
            gql,
            tenant.owner,
            channel="CHAT",
            recipient="+853 6612 3456",
            subject=SUBJECT,
            body=BODY,
        )
        assert sent["userErrors"] == []
        before = int(time.time() * 1000)
        worker = sender(tenant.db, max_attempts=3)
        await worker.start()
        try:
            await wait_for(settled(tenant.db, tenant.tenant_id, 1), what="chat sent")
            [request] = gateway.received
            assert request.method == "POST"
            assert request.data == {
                "msgtype": "text",
                "text": {"content": f"{SUBJECT}\n{BODY}\n@+85366123456"},
                "at": {"atMobiles": ["+85366123456"], "isAtAll": False},
            }
            assert request.query["access_token"] == ["ROBOT-TOKEN-9"]
            stamp = int(request.query["timestamp"][0])
            assert before - 1000 <= stamp <= int(time.time() * 1000)
            assert signing.verify(secret, stamp, request.query["sign"][0])
            assert not signing.verify("SECwrong", stamp, request.query["sign"][0])

            # The robot says 200 but refuses (a bad signature): a failure, retried, then DEAD.
            gateway.answer = lambda n: (200, {"errcode": 310000, "errmsg": "sign not match"})
            await queue(tenant, channel="CHAT", recipient="group", body="每日盤點提醒")

            async def dead() -> bool:
                return await statuses(tenant.db, tenant.tenant_id) == ["SENT", "DEAD"]

            await wait_for(dead, what="DEAD")
        finally:
            await worker.stop()
    assert len(gateway.received) == 1 + 3
    log = (await gql.ok(LOG, tenant.owner, {"status": "DEAD"}))["notifications"]
    node = log["edges"][0]["node"]
    assert node["attempts"] == 3 and node["lastError"] == "errcode 310000: sign not match"
    assert [a["succeeded"] for a in node["attemptLog"]] == [False] * 3
    assert [a["statusCode"] for a in node["attemptLog"]] == [200] * 3
    assert (await gql.ok(LOG, tenant.owner, {"status": "PENDING"}))["notifications"][
        "totalCount"
    ] == 0


async def test_two_senders_never_send_one_notification_twice(gql, tenant):
    gateway = Gateway(delay=0.01)
    async with RunningGateway(gateway):
        await configure(gql, tenant.owner, {"channel": "CHAT", "chat": {"url": gateway.url}})
        ids = [
            await queue(tenant, channel="CHAT", recipient="group", body=f"第 {i} 則")
            for i in range(30)
        ]
        workers = [sender(tenant.db, batch_size=4, poll_interval=0.01) for _ in range(2)]
        for worker in workers:
            await worker.start()
        try:
            await wait_for(settled(tenant.db, tenant.tenant_id, 30), what="all sent")
        finally:
            for worker in workers:
                await worker.stop()
    keys = [r.key for r in gateway.received]
    assert sorted(keys) == sorted(f"ntf-{tenant.tenant_id}-{i}" for i in ids)
    assert len(gateway.received) == 30  # no request was ever repeated
    attempts = await rows(
        tenant.db,
        "SELECT count(*) AS n FROM notification_attempts WHERE tenant_id = :t",
        t=tenant.tenant_id,
    )
    assert attempts[0].n == 30


async def test_queue_validates_channel_recipient_and_consent(tenant):
    with pytest.raises(InvalidInput, match="not configured") as error:
        await queue(tenant, channel="SMS", recipient="+85291234567", body="x")
    assert error.value.field == ["channel"]
    async with tenant.db.owner_transaction() as session:
        await session.execute(
            text(
                "INSERT INTO notification_channels (tenant_id, channel, enabled, chat_url) "
                "VALUES (:t, 'CHAT', true, 'https://robot.example/send')"
            ),
            {"t": tenant.tenant_id},
        )
    with pytest.raises(InvalidInput) as error:
        await queue(tenant, channel="CHAT", recipient="店長", body="x")
    assert error.value.field == ["recipient"]
    with pytest.raises(InvalidInput) as error:
        await queue(tenant, channel="CHAT", recipient="group", body=" ")
    assert error.value.field == ["body"]
    # Consent is checked by queue itself, whatever the caller claims: member 5 does not
    # exist, so it has no consent, and nothing is queued for it either way.
    for claimed in (False, True):
        with pytest.raises(Forbidden) as refused:
            await queue(
                tenant,
                channel="CHAT",
                recipient="group",
                body="offer",
                member_id=5,
                consent_checked=claimed,
            )
        assert refused.value.field == ["memberId"]

    # Queued in the cause's transaction: a rollback leaves nothing behind.
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with tenant.db.tenant_transaction(tenant.tenant_id) as session:
            await service.queue(
                session,
                tenant.owner,
                service.NewNotification(channel="CHAT", recipient="group", body="rolled back"),
            )
            raise Boom
    found = await rows(
        tenant.db,
        "SELECT body, member_id, consent_checked FROM notifications WHERE tenant_id = :t",
        t=tenant.tenant_id,
    )
    assert found == []  # neither the refused member messages nor the rolled-back one


async def test_isolation_permissions_and_no_secrets_in_results_or_audit(gql, tenant, other_tenant):
    secrets = ["smtp-PASSWORD-x1", "sms-AUTH-y2", "SECchat-z3", "ACCESS-TOKEN-w4", "GW-KEY-v5"]
    inputs = [
        {
            "channel": "EMAIL",
            "email": {
                "host": "smtp.example.hk",
                "port": 587,
                "fromAddress": "alerts@example.hk",
                "username": "alerts",
                "password": secrets[0],
            },
        },
        {
            "channel": "SMS",
            "sms": {"url": f"https://sms.example/send?key={secrets[4]}", "authValue": secrets[1]},
        },
        {
            "channel": "CHAT",
            "chat": {
                "url": f"https://robot.example/send?access_token={secrets[3]}",
                "secret": secrets[2],
            },
        },
    ]
    for input in inputs:
        assert (await configure(gql, tenant.owner, input))["userErrors"] == []
    # Reconfigured without the password: it is kept. A refused change records no secret either.
    kept = await configure(
        gql, tenant.owner, {**inputs[0], "email": {**inputs[0]["email"], "password": None}}
    )
    assert kept["notificationChannel"]["email"]["hasPassword"] is True
    refused = await configure(
        gql,
        tenant.owner,
        {"channel": "CHAT", "chat": {"url": f"ftp://x/?t={secrets[3]}", "secret": secrets[2]}},
    )
    assert [e["code"] for e in refused["userErrors"]] == ["INVALID"]
    assert refused["userErrors"][0]["field"] == ["chat", "url"]
    manager = tenant.staff(Role.STORE_MANAGER, ["S1"])
    denied = await configure(gql, manager, inputs[2])
    assert [e["code"] for e in denied["userErrors"]] == ["FORBIDDEN"]
    sent = await send_test(gql, tenant.owner, channel="CHAT", recipient="@all", body="測試")
    assert sent["userErrors"] == []
    notification_id = sent["notification"]["id"]

    listed = await gql.ok(CHANNELS, tenant.owner)
    assert [c["channel"] for c in listed["notificationChannels"]] == ["CHAT", "EMAIL", "SMS"]
    assert {
        c["channel"]: bool(c["email"] or c["sms"] or c["chat"])
        for c in listed["notificationChannels"]
    } == {"CHAT": True, "EMAIL": True, "SMS": True}
    dumped = json.dumps(listed, ensure_ascii=False)
    assert not [s for s in secrets if s in dumped]
    audit = await rows(
        tenant.db,
        "SELECT action, outcome, before::text AS b, after::text AS a FROM audit_events "
        "WHERE tenant_id = :t ORDER BY sequence",
        t=tenant.tenant_id,
    )
    actions = [(r.action, r.outcome) for r in audit]
    assert actions.count(("notification.channel.configure", "success")) == 4
    assert ("notification.channel.configure", "failed") in actions
    assert ("notification.channel.configure", "denied") in actions
    assert ("notification.test", "success") in actions
    trail = " ".join(f"{r.b} {r.a}" for r in audit)
    assert not [s for s in secrets if s in trail]
    assert "@all" not in trail  # nor the recipient
    stored = await rows(
        tenant.db,
        "SELECT smtp_password FROM notification_channels "
        "WHERE tenant_id = :t AND channel = 'EMAIL'",
        t=tenant.tenant_id,
    )
    assert stored[0].smtp_password == secrets[0]  # stored, for the sender

    # Another tenant sees neither the configuration nor the log, not even by ID.
    assert (await gql.ok(CHANNELS, other_tenant.owner))["notificationChannels"] == []
    other_log = (await gql.ok(LOG, other_tenant.owner))["notifications"]
    assert other_log["totalCount"] == 0 and other_log["edges"] == []
    node = "query($id: ID!) { node(id: $id) { id } }"
    assert (await gql.ok(node, other_tenant.owner, {"id": notification_id}))["node"] is None
    assert (await gql.ok(node, tenant.owner, {"id": notification_id}))["node"] == {
        "id": notification_id
    }
    cross = await send_test(gql, other_tenant.owner, channel="CHAT", recipient="group", body="x")
    assert cross["userErrors"][0]["field"] == ["channel"]  # not configured for them

    # Without admin: the queries are FORBIDDEN, the node is null.
    result = await gql(CHANNELS, manager)
    assert result.errors[0].extensions["code"] == "FORBIDDEN"
    result = await gql(LOG, manager)
    assert result.errors[0].extensions["code"] == "FORBIDDEN"
    assert (await gql.ok(node, manager, {"id": notification_id}))["node"] is None


async def test_the_server_sends_with_its_own_sender(
    database_url, signing_key, tmp_path, tenant, gql
):
    gateway = Gateway(answer=lambda n: (500, None) if n == 1 else (200, {"errcode": 0}))
    server = start_server(
        database_url,
        signing_key,
        tmp_path,
        extra_env={
            "STOCKGRAPH_NOTIFICATIONS_ENABLED": "true",
            "STOCKGRAPH_NOTIFICATION_BACKOFF_BASE_SECONDS": "0.05",
        },
    )
    try:
        async with RunningGateway(gateway):
            await configure(gql, tenant.owner, {"channel": "CHAT", "chat": {"url": gateway.url}})
            await queue(tenant, channel="CHAT", recipient="group", body="伺服器送出")
            await wait_for(settled(tenant.db, tenant.tenant_id, 1), what="the server's send")
    finally:
        stop_server(server)
    assert [r.status for r in gateway.received] == [500, 200]
    assert gateway.received[-1].data["text"]["content"] == "伺服器送出"


async def test_withdrawn_consent_and_erasure_stop_messages_already_queued(gql, tenant):
    """Consent is checked again when a message is about to go, and erasure takes the text."""
    from domain.notifications import dispatch
    from tests.graphql.test_members import CONSENT, CREATE, ERASE

    async with tenant.db.owner_transaction() as session:
        await session.execute(
            text(
                "INSERT INTO notification_channels (tenant_id, channel, enabled, sms_url, "
                "sms_method, sms_content_type) VALUES (:t, 'SMS', true, "
                "'https://sms.example/send', 'POST', 'application/json')"
            ),
            {"t": tenant.tenant_id},
        )
    created = await gql.ok(
        CREATE,
        tenant.owner,
        {
            "input": {
                "name": "陳大文",
                "phone": "+85291235678",
                "consents": [{"channel": "SMS", "granted": True}],
            }
        },
    )
    gid = created["createMember"]["member"]["id"]
    from domain import ids

    member_id = ids.decode_int(gid, "Member")
    first = await queue(
        tenant,
        channel="SMS",
        recipient="+85291235678",
        body="優惠一",
        member_id=member_id,
        consent_checked=True,
    )
    withdrawn = await gql.ok(
        CONSENT, tenant.owner, {"input": {"memberId": gid, "channel": "SMS", "granted": False}}
    )
    assert withdrawn["setMemberConsent"]["userErrors"] == []
    async with tenant.db.owner_transaction() as session:
        claims = await dispatch.claim_due(session, limit=50, lease_seconds=30)
    assert all(c.message.notification_id != first for c in claims)
    found = await rows(
        tenant.db,
        "SELECT status, last_error FROM notifications WHERE tenant_id = :t AND id = :i",
        t=tenant.tenant_id,
        i=first,
    )
    assert (found[0].status, found[0].last_error) == ("DEAD", "consent withdrawn or member erased")

    await gql.ok(
        CONSENT, tenant.owner, {"input": {"memberId": gid, "channel": "SMS", "granted": True}}
    )
    second = await queue(
        tenant,
        channel="SMS",
        recipient="+85291235678",
        body="優惠二",
        member_id=member_id,
        consent_checked=True,
    )
    erased = await gql.ok(ERASE, tenant.owner, {"id": gid})
    assert erased["eraseMember"]["userErrors"] == []
    kept = await rows(
        tenant.db,
        "SELECT recipient, body, status FROM notifications "
        "WHERE tenant_id = :t AND member_id = :m ORDER BY id",
        t=tenant.tenant_id,
        m=member_id,
    )
    assert [(r.recipient, r.body) for r in kept] == [("", ""), ("", "")]
    assert {r.status for r in kept} == {"DEAD"}
    assert second
