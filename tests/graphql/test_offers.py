"""Triggered offers on a fixed clock: birthday, replenishment due, cross-store; consent
decides every message; reruns and concurrent runs never fire twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text

from domain.notifications import channels
from domain.offers import rules, service
from tests.conftest import TEST_DATA_KEY

NOW = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)  # 18:00 in Hong Kong

CREATE_MEMBER = """mutation($input: CreateMemberInput!) { createMember(input: $input) {
  member { id } userErrors { code field } } }"""
CREATE_RULE = """mutation($input: CreateOfferRuleInput!) { createOfferRule(input: $input) {
  offerRule { id kind channels } userErrors { code field message } } }"""
RUN = """mutation($now: DateTime) { runOfferTriggers(input: {now: $now}) {
  run { fired alreadyFired couponsIssued failed
        channels { channel queued skippedNoConsent skippedNoContact } }
  userErrors { code field message } } }"""
SALE = (
    """mutation($input: RecordSaleInput!) { recordSale(input: $input) { userErrors { code } } }"""
)
RECEIVE = """mutation($input: ReceiveStockInput!) { receiveStock(input: $input) {
  userErrors { code } } }"""
CONSENT = """mutation($input: SetMemberConsentInput!) { setMemberConsent(input: $input) {
  userErrors { code } } }"""


async def _configure(tenant) -> None:
    async with tenant.db.tenant_transaction(tenant.tenant_id) as session:
        await channels.configure(
            session,
            tenant.owner,
            channels.ConfigureChannel(
                channel="SMS", sms=channels.SmsSettings(url="https://sms.example.com/send")
            ),
        )
        await channels.configure(
            session,
            tenant.owner,
            channels.ConfigureChannel(
                channel="EMAIL",
                email=channels.EmailSettings(
                    host="smtp.example.com", port=587, from_address="shop@example.com"
                ),
            ),
        )


async def _member(gql, tenant, name: str, phone: str, **fields) -> str:
    consents = fields.pop("consents", ["SMS", "EMAIL"])
    data = {
        "name": name,
        "phone": phone,
        "email": f"{phone[-4:]}@example.com",
        "consents": [{"channel": c, "granted": True} for c in consents],
        **fields,
    }
    result = await gql.ok(CREATE_MEMBER, tenant.owner, {"input": data})
    assert result["createMember"]["userErrors"] == []
    return str(result["createMember"]["member"]["id"])


async def _rule(gql, tenant, **fields) -> str:
    value = {} if "percentOff" in fields else {"amountOff": "20"}
    data = {"name": "offer", **value, "body": "{name}: {coupon} ({value})", **fields}
    result = await gql.ok(CREATE_RULE, tenant.owner, {"input": data})
    assert result["createOfferRule"]["userErrors"] == [], result
    return str(result["createOfferRule"]["offerRule"]["id"])


async def _run(gql, caller, now: datetime) -> dict[str, Any]:
    result = await gql.ok(RUN, caller, {"now": now.isoformat()})
    assert result["runOfferTriggers"]["userErrors"] == []
    run: dict[str, Any] = result["runOfferTriggers"]["run"]
    run["channels"] = {c.pop("channel"): c for c in run["channels"]}
    return run


async def _sale(gql, tenant, member: str, location: str, sku: str, when: datetime, n=[0]) -> None:
    n[0] += 1
    data = {
        "locationId": tenant.loc(location),
        "receiptNumber": f"R{n[0]}",
        "occurredAt": when.isoformat(),
        "memberId": member,
        "lines": [{"sku": sku, "quantity": 1, "unitPrice": "10.00"}],
    }
    assert (await gql.ok(SALE, tenant.owner, {"input": data}))["recordSale"]["userErrors"] == []


async def _rows(tenant, sql: str) -> list:
    async with tenant.db.owner_transaction() as session:
        return list(await session.execute(text(sql), {"t": tenant.tenant_id}))


async def _sent(tenant) -> list[tuple[int, str, str, str]]:
    rows = await _rows(
        tenant,
        "SELECT member_id, channel, recipient, body FROM notifications "
        "WHERE tenant_id = :t ORDER BY id",
    )
    return [(r.member_id, r.channel, r.recipient, r.body) for r in rows]


def _pk(gid: str) -> int:
    from domain import ids

    return int(ids.decode(gid)[1])  # type: ignore[index]


def test_rule_dates_are_pure():
    today = NOW.date()
    assert rules.birthday_occasion("06-13", today, 3) == "birthday:2026"
    assert rules.birthday_occasion("1990-06-14", today, 3) is None  # 4 days ahead
    assert rules.birthday_occasion("06-09", today, 3) is None  # just passed: next year's
    assert rules.birthday_occasion("01-02", datetime(2026, 12, 31).date(), 3) == "birthday:2027"
    assert rules.birthday_occasion("02-29", datetime(2027, 2, 26).date(), 3) == "birthday:2027"
    day = timedelta(days=1)
    assert rules.replenishment_due([(1, NOW - 40 * day)], NOW, timedelta(0)) is None
    bought = [(1, NOW - 40 * day), (2, NOW - 30 * day), (3, NOW - 20 * day)]
    assert rules.replenishment_due(bought, NOW, timedelta(0)) == 3  # 20 days > 10
    assert rules.replenishment_due(bought, NOW, 11 * day) is None  # 20 days <= 10 + 11
    assert rules.replenishment_due(bought, NOW - 10 * day, timedelta(0)) is None


async def test_birthday_fires_days_before_for_the_right_member_once(gql, db, tenant):
    await _configure(tenant)
    amy = await _member(gql, tenant, "Amy", "+85291110001", birthday="1990-06-13")
    await _member(gql, tenant, "Ben", "+85291110002", birthday="08-01")
    await _member(gql, tenant, "Cat", "+85291110003")  # no birthday given
    await _rule(gql, tenant, kind="BIRTHDAY", daysBefore=3, channels=["SMS"])
    too_early = await _run(gql, tenant.owner, NOW - timedelta(days=1))
    assert too_early["fired"] == 0 and await _sent(tenant) == []

    run = await _run(gql, tenant.owner, NOW)
    assert (run["fired"], run["couponsIssued"], run["alreadyFired"]) == (1, 1, 0)
    assert run["channels"]["SMS"]["queued"] == 1
    sent = await _sent(tenant)
    coupons = await _rows(tenant, "SELECT member_id, code FROM coupons WHERE tenant_id = :t")
    assert [(c.member_id) for c in coupons] == [_pk(amy)]
    assert sent == [(_pk(amy), "SMS", "+85291110001", f"Amy: {coupons[0].code} (HKD 20.00)")]

    for when in (NOW, NOW + timedelta(days=2)):  # the same birthday: never again
        again = await _run(gql, tenant.owner, when)
        assert (again["fired"], again["alreadyFired"]) == (0, 1)
    assert len(await _sent(tenant)) == 1
    # the pure evaluation on the same clock still names the occasion (the key stops it)
    async with db.tenant_transaction(tenant.tenant_id) as session:
        rule = (await session.execute(text("SELECT * FROM offer_rules"))).one()
        found = await service.evaluate(session, tenant.owner, TEST_DATA_KEY, rule, NOW)
    assert [(c.member_id, c.occasion) for c in found] == [(_pk(amy), "birthday:2026")]


async def test_replenishment_due_fires_only_when_the_usual_interval_passed(gql, tenant):
    await _configure(tenant)
    cara = await _member(gql, tenant, "Cara", "+85291110004")
    dan = await _member(gql, tenant, "Dan", "+85291110005")
    eve = await _member(gql, tenant, "Eve", "+85291110006")
    day = timedelta(days=1)
    for member, days_ago in ((cara, 40), (cara, 30), (dan, 21), (dan, 5), (eve, 60)):
        await _sale(gql, tenant, member, "S1", "A", NOW - days_ago * day)
    await _rule(
        gql,
        tenant,
        kind="REPLENISHMENT_DUE",
        channels=["EMAIL"],
        subject="{product} 補貨提醒",
        percentOff="15",
        body="{name}: {coupon} {value}",
    )
    run = await _run(gql, tenant.owner, NOW)
    assert (run["fired"], run["channels"]["EMAIL"]["queued"]) == (1, 1)
    sent = await _sent(tenant)
    assert [(m, c, r) for m, c, r, _ in sent] == [(_pk(cara), "EMAIL", "0004@example.com")]
    assert sent[0][3].endswith(" 15%")
    assert (await _run(gql, tenant.owner, NOW + day))["fired"] == 0  # same last purchase
    # A new purchase starts a new cycle: due again once its interval has passed.
    await _sale(gql, tenant, cara, "S1", "A", NOW + 2 * day)
    assert (await _run(gql, tenant.owner, NOW + 5 * day))["fired"] == 0
    assert (await _run(gql, tenant.owner, NOW + 30 * day))["fired"] >= 1
    cara_mail = [s for s in await _sent(tenant) if s[0] == _pk(cara)]
    assert len(cara_mail) == 2
    assert not [s for s in await _sent(tenant) if s[0] in (_pk(eve),)]


async def test_cross_store_fires_when_home_is_out_and_another_store_has_it(gql, tenant):
    await _configure(tenant)
    receive = {"locationId": tenant.loc("S2"), "lines": [{"sku": "B", "quantity": 10}]}
    assert (await gql.ok(RECEIVE, tenant.owner, {"input": receive}))["receiveStock"][
        "userErrors"
    ] == []
    fay = await _member(gql, tenant, "Fay", "+85291110007", homeLocationId=tenant.loc("S1"))
    gus = await _member(gql, tenant, "Gus", "+85291110008", homeLocationId=tenant.loc("S2"))
    await _sale(gql, tenant, fay, "S1", "B", NOW - timedelta(days=3))  # S1 now out of B
    await _sale(gql, tenant, gus, "S2", "B", NOW - timedelta(days=3))  # S2 still has 9
    await _rule(
        gql, tenant, kind="CROSS_STORE", lookbackDays=30, channels=["SMS"], body="{store} {coupon}"
    )
    run = await _run(gql, tenant.owner, NOW)
    assert run["fired"] == 1
    sent = await _sent(tenant)
    coupon = (await _rows(tenant, "SELECT code, location_ids FROM coupons WHERE tenant_id = :t"))[0]
    assert sent == [(_pk(fay), "SMS", "+85291110007", f"S2店 {coupon.code}")]
    assert coupon.location_ids == [tenant.locations["S2"]]  # valid where the stock is
    assert (await _run(gql, tenant.owner, NOW + timedelta(hours=1)))["fired"] == 0  # same day
    assert (await _run(gql, tenant.owner, NOW + timedelta(days=1)))["fired"] == 1  # next day
    # Home store restocked: nothing more.
    restock = {"locationId": tenant.loc("S1"), "lines": [{"sku": "B", "quantity": 5}]}
    await gql.ok(RECEIVE, tenant.owner, {"input": restock})
    assert (await _run(gql, tenant.owner, NOW + timedelta(days=2)))["fired"] == 0
    assert {s[0] for s in await _sent(tenant)} == {_pk(fay)}


async def test_opt_out_through_one_app_holds_for_a_run_from_any_app(gql, tenant):
    await _configure(tenant)
    amy = await _member(gql, tenant, "Amy", "+85291110001", birthday="06-12")
    ben = await _member(gql, tenant, "Ben", "+85291110002", birthday="06-11")
    await _rule(
        gql, tenant, kind="BIRTHDAY", daysBefore=5, channels=["SMS", "EMAIL"], subject="生日快樂"
    )
    crm = tenant.app("members:read members:write", client_id="crm-app")
    withdrawn = {"memberId": amy, "channel": "SMS", "granted": False}
    assert (await gql.ok(CONSENT, crm, {"input": withdrawn}))["setMemberConsent"][
        "userErrors"
    ] == []
    pos = tenant.app("members:read members:write", client_id="pos-app")
    run = await _run(gql, pos, NOW)
    assert (run["fired"], run["couponsIssued"]) == (2, 2)  # the coupon is still issued
    assert run["channels"]["SMS"] == {"queued": 1, "skippedNoConsent": 1, "skippedNoContact": 0}
    assert run["channels"]["EMAIL"]["queued"] == 2
    sent = {(m, c) for m, c, _, _ in await _sent(tenant)}
    assert sent == {(_pk(ben), "SMS"), (_pk(ben), "EMAIL"), (_pk(amy), "EMAIL")}
    rows = await _rows(
        tenant, "SELECT bool_and(consent_checked) AS ok FROM notifications WHERE tenant_id = :t"
    )
    assert rows[0].ok is True
    # The run's audit event counts the members processed and holds no personal data.
    audit = await _rows(
        tenant,
        "SELECT after::text AS a FROM audit_events WHERE tenant_id = :t AND action = 'offer.run'",
    )
    assert len(audit) == 1 and "+8529111" not in audit[0].a and "@example.com" not in audit[0].a


async def test_concurrent_runs_never_fire_twice(gql, tenant):
    await _configure(tenant)
    for i in range(3):
        await _member(gql, tenant, f"M{i}", f"+8529112000{i}", birthday="06-10")
    await _rule(gql, tenant, kind="BIRTHDAY", daysBefore=0, channels=["SMS"])
    runs = await asyncio.gather(*(_run(gql, tenant.owner, NOW) for _ in range(4)))
    assert sum(r["fired"] for r in runs) == 3
    assert len(await _sent(tenant)) == 3
    firings = await _rows(tenant, "SELECT count(*) AS n FROM offer_firings WHERE tenant_id = :t")
    assert firings[0].n == 3


async def test_rules_need_members_write_and_valid_templates(gql, tenant):
    bad = await gql.ok(
        CREATE_RULE,
        tenant.owner,
        {
            "input": {
                "name": "x",
                "kind": "BIRTHDAY",
                "daysBefore": 1,
                "channels": ["SMS"],
                "amountOff": "5",
                "body": "hi {phone}",
            }
        },
    )
    assert [e["field"] for e in bad["createOfferRule"]["userErrors"]] == [["body"]]
    reader = tenant.app("members:read", client_id="reader")
    result = await gql.ok(RUN, reader, {"now": NOW.isoformat()})
    assert [e["code"] for e in result["runOfferTriggers"]["userErrors"]] == ["FORBIDDEN"]
