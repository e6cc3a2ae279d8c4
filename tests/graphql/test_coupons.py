"""Coupons: issue, redeem exactly once (also under concurrency), refusals, isolation."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from auth.permissions import Role

ISSUE = """mutation($input: IssueCouponInput!) { issueCoupon(input: $input) {
  coupon { id code amountOff { amount currency } percentOff validFrom validUntil
           stores { code } member { id } redeemedAt }
  userErrors { code field message } } }"""
REDEEM = """mutation($input: RedeemCouponInput!) { redeemCoupon(input: $input) {
  coupon { code redeemedAt redeemedReceiptNumber redeemedAtLocation { code } }
  userErrors { code field message } } }"""
COUPON = "query($code: String!) { coupon(code: $code) { code redeemedAt } }"
COUPONS = """query($member: ID) { coupons(first: 10, memberId: $member) {
  edges { node { code } } } }"""


def _window(start_days: float = -1, end_days: float = 30) -> dict:
    now = datetime.now(UTC)
    return {
        "validFrom": (now + timedelta(days=start_days)).isoformat(),
        "validUntil": (now + timedelta(days=end_days)).isoformat(),
    }


async def _issue(gql, tenant, **fields) -> dict:
    data = {"amountOff": "20.00", **_window(), **fields}
    result = await gql.ok(ISSUE, tenant.owner, {"input": data})
    assert result["issueCoupon"]["userErrors"] == [], result
    return result["issueCoupon"]["coupon"]


async def _redeem(gql, caller, code: str, location: str, **fields) -> dict:
    data = {"code": code, "locationId": location, **fields}
    return (await gql.ok(REDEEM, caller, {"input": data}))["redeemCoupon"]


async def test_issue_and_redeem_once(gql, db, tenant):
    coupon = await _issue(gql, tenant)
    assert len(coupon["code"]) == 12 and coupon["code"].isalnum()
    assert coupon["amountOff"] == {"amount": "20.00", "currency": "HKD"}
    assert coupon["stores"] is None and coupon["redeemedAt"] is None
    other = await _issue(gql, tenant)
    assert other["code"] != coupon["code"]
    till = tenant.staff(Role.CLERK, ["S1"])
    first = await _redeem(gql, till, coupon["code"].lower(), tenant.loc("S1"), receiptNumber="R1")
    assert first["userErrors"] == []
    assert first["coupon"]["redeemedAtLocation"] == {"code": "S1"}
    assert first["coupon"]["redeemedReceiptNumber"] == "R1"
    again = await _redeem(gql, till, coupon["code"], tenant.loc("S1"))
    assert [(e["code"], e["field"]) for e in again["userErrors"]] == [
        ("INVALID_TRANSITION", ["code"])
    ]
    read = await gql.ok(COUPON, tenant.staff(Role.CLERK, ["S1"]), {"code": coupon["code"]})
    assert read["coupon"]["redeemedAt"] is not None
    # The code is a bearer credential: the audit trail keeps IDs, never the code.
    async with db.owner_transaction() as session:
        audit = (
            await session.execute(
                text("SELECT after::text FROM audit_events WHERE tenant_id = :t"),
                {"t": tenant.tenant_id},
            )
        ).all()
    assert audit and not any(coupon["code"] in row[0] for row in audit)


async def test_given_code_is_unique_per_tenant(gql, tenant, other_tenant):
    await _issue(gql, tenant, code="BDAY2026")
    dup = await gql.ok(
        ISSUE, tenant.owner, {"input": {"code": "bday2026", "percentOff": "10", **_window()}}
    )
    assert [e["code"] for e in dup["issueCoupon"]["userErrors"]] == ["ALREADY_EXISTS"]
    elsewhere = await _issue(gql, other_tenant, code="BDAY2026")
    assert elsewhere["code"] == "BDAY2026"
    both = await gql.ok(
        ISSUE, tenant.owner, {"input": {"amountOff": "5", "percentOff": "10", **_window()}}
    )
    assert [e["code"] for e in both["issueCoupon"]["userErrors"]] == ["INVALID"]


async def test_ten_concurrent_redemptions_exactly_one_succeeds(gql, db, tenant):
    coupon = await _issue(gql, tenant)
    owner = tenant.owner
    results = await asyncio.gather(
        *(
            _redeem(gql, owner, coupon["code"], tenant.loc("S1"), receiptNumber=f"R{i}")
            for i in range(10)
        )
    )
    winners = [r for r in results if not r["userErrors"]]
    losers = [r for r in results if r["userErrors"]]
    assert len(winners) == 1 and len(losers) == 9
    assert {e["code"] for r in losers for e in r["userErrors"]} == {"INVALID_TRANSITION"}
    async with db.owner_transaction() as session:
        row = (
            await session.execute(
                text("SELECT redeemed_receipt FROM coupons WHERE tenant_id = :t AND code = :c"),
                {"t": tenant.tenant_id, "c": coupon["code"]},
            )
        ).one()
    assert row.redeemed_receipt == winners[0]["coupon"]["redeemedReceiptNumber"]


async def test_expired_not_yet_valid_and_wrong_store_are_refused(gql, tenant):
    owner = tenant.owner
    expired = await _issue(gql, tenant, **_window(-10, -1))
    early = await _issue(gql, tenant, **_window(1, 10))
    s1_only = await _issue(gql, tenant, locationIds=[tenant.loc("S1")])
    assert s1_only["stores"] == [{"code": "S1"}]
    for code, field, message in (
        (expired["code"], ["code"], "expired"),
        (early["code"], ["code"], "not valid yet"),
        (s1_only["code"], ["locationId"], "not valid at this store"),
    ):
        refused = await _redeem(gql, owner, code, tenant.loc("S2"))
        assert refused["coupon"] is None
        assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [("INVALID", field)]
        assert message in refused["userErrors"][0]["message"]
    assert (await _redeem(gql, owner, s1_only["code"], tenant.loc("S1")))["userErrors"] == []
    missing = await _redeem(gql, owner, "NOSUCHCODE", tenant.loc("S1"))
    assert [e["code"] for e in missing["userErrors"]] == ["NOT_FOUND"]


async def test_a_till_redeems_only_at_its_own_store(gql, tenant):
    coupon = await _issue(gql, tenant)
    clerk = tenant.staff(Role.CLERK, ["S1"])
    denied = await _redeem(gql, clerk, coupon["code"], tenant.loc("S2"))
    assert [e["code"] for e in denied["userErrors"]] == ["FORBIDDEN"]
    auditor = await gql.ok(
        ISSUE, tenant.staff(Role.AUDITOR), {"input": {"amountOff": "1", **_window()}}
    )
    assert [e["code"] for e in auditor["issueCoupon"]["userErrors"]] == ["FORBIDDEN"]
    assert (await _redeem(gql, clerk, coupon["code"], tenant.loc("S1")))["userErrors"] == []


async def test_redemption_replays_under_its_idempotency_key(gql, tenant):
    coupon = await _issue(gql, tenant)
    first = await _redeem(gql, tenant.owner, coupon["code"], tenant.loc("S1"), idempotencyKey="k1")
    again = await _redeem(gql, tenant.owner, coupon["code"], tenant.loc("S1"), idempotencyKey="k1")
    assert first["userErrors"] == [] and again == first
    reused = await _redeem(gql, tenant.owner, coupon["code"], tenant.loc("S2"), idempotencyKey="k1")
    assert [e["code"] for e in reused["userErrors"]] == ["IDEMPOTENCY_KEY_REUSED"]


async def test_coupons_are_isolated_between_tenants(gql, tenant, other_tenant):
    coupon = await _issue(gql, tenant)
    theirs = other_tenant.owner
    assert (await gql.ok(COUPON, theirs, {"code": coupon["code"]}))["coupon"] is None
    refused = await _redeem(gql, theirs, coupon["code"], other_tenant.loc("S1"))
    assert [e["code"] for e in refused["userErrors"]] == ["NOT_FOUND"]
    foreign_store = await _redeem(gql, tenant.owner, coupon["code"], other_tenant.loc("S1"))
    assert [e["code"] for e in foreign_store["userErrors"]] == ["NOT_FOUND"]
    assert (await gql.ok(COUPONS, theirs, {"member": None}))["coupons"]["edges"] == []
    mine = await gql.ok(COUPONS, tenant.owner, {"member": None})
    assert [e["node"]["code"] for e in mine["coupons"]["edges"]] == [coupon["code"]]
    node = await gql.ok("query($id: ID!) { node(id: $id) { id } }", theirs, {"id": coupon["id"]})
    assert node["node"] is None
