"""Computed member tags (after a linked sale, on a schedule) and segments: live counts and
lists, consent withdrawal, permissions, tenant isolation."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from auth.permissions import Role
from domain.members import tags as member_tags

CREATE_MEMBER = """mutation($input: CreateMemberInput!) { createMember(input: $input) {
  member { id tags } userErrors { code field } } }"""
SALE = """mutation($input: RecordSaleInput!) { recordSale(input: $input) {
  userErrors { code field } } }"""
TAGS = "query($id: ID!) { member(id: $id) { tags } }"
SET_TAGS = """mutation($id: ID!, $tags: [String!]!) { setMemberTags(input: {id: $id, tags: $tags}) {
  member { tags } userErrors { code } } }"""
BY_TAG = "query($tag: String) { members(tag: $tag) { totalCount edges { node { id } } } }"
CONSENT = """mutation($id: ID!, $granted: Boolean!) { setMemberConsent(input:
  {memberId: $id, channel: SMS, granted: $granted}) { userErrors { code } } }"""
RULE = """mutation($input: SetMemberTagRuleInput!) { setMemberTagRule(input: $input) {
  rule { vipMinSpend vipMinPurchases lapsedDays } userErrors { code field } } }"""
CREATE = """mutation($input: CreateSegmentInput!) { createSegment(input: $input) {
  segment { id name description memberCount filter { tagsAll tagsAny tagsNone homeLocationIds
    tier consentChannel } }
  userErrors { code field } } }"""
UPDATE = """mutation($input: UpdateSegmentInput!) { updateSegment(input: $input) {
  segment { id name memberCount } userErrors { code field } } }"""
DELETE = """mutation($id: ID!) { deleteSegment(input: {id: $id}) {
  deletedSegmentId userErrors { code field } } }"""
SEGMENT = """query($id: ID!, $first: Int, $after: String) { segment(id: $id) { id name memberCount
  members(first: $first, after: $after) { pageInfo { hasNextPage endCursor }
    edges { node { id phone tags } } } } }"""
SEGMENTS = "query { segments(first: 10) { edges { node { id name memberCount } } } }"


async def _member(gql, tenant, **fields) -> str:
    data = {"name": "陳大文", "phone": "+85291235678", **fields}
    result = await gql.ok(CREATE_MEMBER, tenant.owner, {"input": data})
    assert result["createMember"]["userErrors"] == []
    return str(result["createMember"]["member"]["id"])


async def _sale(gql, tenant, member: str, receipt: str, qty: int = 3, when: str | None = None):
    payload = {
        "locationId": tenant.loc("S1"),
        "receiptNumber": receipt,
        "lines": [{"sku": "A", "quantity": qty}],
        "memberId": member,
    }
    if when is not None:
        payload["occurredAt"] = when
    result = await gql.ok(SALE, tenant.owner, {"input": payload})
    assert result["recordSale"]["userErrors"] == []


async def _tags(gql, tenant, member: str) -> list[str]:
    return list((await gql.ok(TAGS, tenant.owner, {"id": member}))["member"]["tags"])


async def _categorise(db, tenant, sku: str, category: str) -> None:
    async with db.owner_transaction() as session:
        await session.execute(
            text("UPDATE products SET category = :c WHERE tenant_id = :t AND sku = :s"),
            {"c": category, "t": tenant.tenant_id, "s": sku},
        )


async def _recompute(db, tenant, now: datetime) -> dict[int, int]:
    async with db.owner_transaction() as session:
        return await member_tags.recompute_all(session, now=now, tenant_id=tenant.tenant_id)


async def test_tags_are_recomputed_after_a_linked_sale_and_hand_tags_survive(gql, db, tenant):
    await _categorise(db, tenant, "A", "Tea")
    member = await _member(gql, tenant, tags=["friend"])
    bystander = await _member(gql, tenant)
    assert await _tags(gql, tenant, member) == ["friend"]
    await _sale(gql, tenant, member, "R-1")  # 3 x 10.00 HKD, now
    assert await _tags(gql, tenant, member) == [
        "friend",
        "favourite:Tea",
        "frequency:365d:1",
        "frequency:90d:1",
        "recency:30d",
        "spend:HKD:0-499",
    ]
    assert await _tags(gql, tenant, bystander) == []
    found = await gql.ok(BY_TAG, tenant.owner, {"tag": "favourite:Tea"})
    assert [e["node"]["id"] for e in found["members"]["edges"]] == [member]
    assert found["members"]["totalCount"] == 1
    by_hand = await gql.ok(BY_TAG, tenant.owner, {"tag": "friend"})
    assert [e["node"]["id"] for e in by_hand["members"]["edges"]] == [member]
    # replacing the hand tags keeps the computed ones, and recomputing keeps the hand ones
    replaced = await gql.ok(SET_TAGS, tenant.owner, {"id": member, "tags": ["regular"]})
    assert replaced["setMemberTags"]["member"]["tags"][0] == "regular"
    assert "recency:30d" in replaced["setMemberTags"]["member"]["tags"]
    await _recompute(db, tenant, datetime.now(UTC))
    after = await _tags(gql, tenant, member)
    assert after[0] == "regular" and "friend" not in after and "favourite:Tea" in after
    async with db.owner_transaction() as session:
        hand = (
            await session.execute(
                text("SELECT tags FROM members WHERE tenant_id = :t AND id = :id"),
                {"t": tenant.tenant_id, "id": int(member_tags_pk(member))},
            )
        ).scalar_one()
    assert hand == ["regular"]  # computed tags never leak into the hand-set column


def member_tags_pk(gid: str) -> int:
    from domain import ids

    parsed = ids.decode(gid)
    assert parsed is not None
    return int(parsed[1])


async def test_scheduled_recompute_on_a_fixed_clock_with_the_tenant_rule(
    gql, db, tenant, other_tenant
):
    member = await _member(gql, tenant, tags=["friend"])
    theirs = await _member(gql, other_tenant)
    await _sale(gql, tenant, member, "R-1", qty=1, when="2026-01-10T10:00:00+08:00")
    await _sale(gql, tenant, member, "R-2", qty=2, when="2026-01-20T10:00:00+08:00")
    counts = await _recompute(db, tenant, datetime(2026, 3, 1, tzinfo=UTC))
    assert counts == {tenant.tenant_id: 1}
    assert await _tags(gql, tenant, member) == [
        "friend",
        "frequency:365d:2-4",
        "frequency:90d:2-4",
        "recency:90d",
        "spend:HKD:0-499",
    ]
    await _recompute(db, tenant, datetime(2026, 9, 1, tzinfo=UTC))  # 224 days on: lapsed
    assert await _tags(gql, tenant, member) == [
        "friend",
        "frequency:365d:2-4",
        "lapsed",
        "recency:lapsed",
        "spend:HKD:0-499",
    ]
    # the tenant's rule: a clerk may not set it; the owner may; tags follow at the recompute
    refused = await gql.ok(RULE, tenant.staff(Role.CLERK, ["S1"]), {"input": {"lapsedDays": 9}})
    assert refused["setMemberTagRule"]["userErrors"][0]["code"] == "FORBIDDEN"
    bad = await gql.ok(RULE, tenant.owner, {"input": {"lapsedDays": 0}})
    assert bad["setMemberTagRule"]["userErrors"] == [{"code": "INVALID", "field": ["lapsedDays"]}]
    rule = {"vipMinSpend": None, "vipMinPurchases": 2, "lapsedDays": 365}
    ok = await gql.ok(RULE, tenant.owner, {"input": rule})
    assert ok["setMemberTagRule"] == {"rule": rule, "userErrors": []}
    await _recompute(db, tenant, datetime(2026, 9, 1, tzinfo=UTC))
    assert await _tags(gql, tenant, member) == [
        "friend",
        "frequency:365d:2-4",
        "recency:365d",
        "spend:HKD:0-499",
        "vip",
    ]
    # the other tenant was not touched by a recompute of this one
    assert await _tags(gql, other_tenant, theirs) == []
    async with db.owner_transaction() as session:
        rows = (
            await session.execute(
                text("SELECT count(*) FROM member_computed_tags WHERE tenant_id = :t"),
                {"t": other_tenant.tenant_id},
            )
        ).scalar_one()
    assert rows == 0


async def test_segments_count_and_list_the_right_members_live(gql, db, tenant, other_tenant):
    s1, s2 = tenant.loc("S1"), tenant.loc("S2")
    m1 = await _member(gql, tenant, homeLocationId=s1, tier="gold", tags=["friend"],
                       consents=[{"channel": "SMS", "granted": True}])  # fmt: skip
    m2 = await _member(gql, tenant, homeLocationId=s2, tags=["friend", "staff"],
                       consents=[{"channel": "SMS", "granted": True}])  # fmt: skip
    m3 = await _member(gql, tenant, homeLocationId=s1)
    await _member(
        gql, other_tenant, tags=["friend"], consents=[{"channel": "SMS", "granted": True}]
    )
    await _sale(gql, tenant, m1, "R-1")

    async def segment(filter_: dict, name: str) -> dict:
        result = await gql.ok(CREATE, tenant.owner, {"input": {"name": name, "filter": filter_}})
        assert result["createSegment"]["userErrors"] == []
        return dict(result["createSegment"]["segment"])

    sms_friends = await segment({"tagsAll": ["friend"], "consentChannel": "SMS"}, "sms friends")
    assert sms_friends["memberCount"] == 2
    assert sms_friends["filter"]["tagsAll"] == ["friend"]
    recent = await segment({"tagsAny": ["recency:30d", "nope"]}, "recent")
    assert recent["memberCount"] == 1
    s1_not_staff = await segment({"tagsNone": ["staff"], "homeLocationIds": [s1]}, "s1")
    assert s1_not_staff["memberCount"] == 2
    assert s1_not_staff["filter"]["homeLocationIds"] == [s1]
    gold = await segment({"tier": "Gold"}, "gold")
    assert gold["memberCount"] == 1 and gold["filter"]["tier"] == "GOLD"
    everyone = await segment({}, "everyone")
    assert everyone["memberCount"] == 3  # the other tenant's member is not counted
    future = await segment({"createdAfter": "2099-01-01T00:00:00+00:00"}, "future")
    assert future["memberCount"] == 0

    clerk = tenant.staff(Role.CLERK, ["S1"])  # members:read, no members:pii
    page = await gql.ok(SEGMENT, clerk, {"id": sms_friends["id"], "first": 1})
    conn = page["segment"]["members"]
    assert [e["node"]["id"] for e in conn["edges"]] == [m1]
    assert conn["edges"][0]["node"]["phone"] == "****5678"  # masked as everywhere
    assert "recency:30d" in conn["edges"][0]["node"]["tags"]
    assert conn["pageInfo"]["hasNextPage"]
    rest = await gql.ok(
        SEGMENT, clerk, {"id": sms_friends["id"], "after": conn["pageInfo"]["endCursor"]}
    )
    assert [e["node"]["id"] for e in rest["segment"]["members"]["edges"]] == [m2]
    s1_page = await gql.ok(SEGMENT, clerk, {"id": s1_not_staff["id"]})
    assert [e["node"]["id"] for e in s1_page["segment"]["members"]["edges"]] == [m1, m3]

    # a withdrawal excludes the member from the very next read, count and list alike
    withdrawn = await gql.ok(CONSENT, tenant.owner, {"id": m2, "granted": False})
    assert withdrawn["setMemberConsent"]["userErrors"] == []
    now = await gql.ok(SEGMENT, clerk, {"id": sms_friends["id"]})
    assert now["segment"]["memberCount"] == 1
    assert [e["node"]["id"] for e in now["segment"]["members"]["edges"]] == [m1]
    await gql.ok(CONSENT, tenant.owner, {"id": m2, "granted": True})  # explicit opt-in only
    assert (await gql.ok(SEGMENT, clerk, {"id": sms_friends["id"]}))["segment"]["memberCount"] == 2

    # update: a new filter, a clashing name; delete
    upd = await gql.ok(
        UPDATE, clerk, {"input": {"id": gold["id"], "filter": {"tagsAll": ["staff"]}}}
    )
    assert upd["updateSegment"]["segment"]["memberCount"] == 1
    assert upd["updateSegment"]["segment"]["name"] == "gold"
    clash = await gql.ok(UPDATE, clerk, {"input": {"id": gold["id"], "name": "recent"}})
    assert clash["updateSegment"]["userErrors"] == [{"code": "ALREADY_EXISTS", "field": ["name"]}]
    listed = await gql.ok(SEGMENTS, clerk)
    assert len(listed["segments"]["edges"]) == 6
    # an erased member leaves every segment, and their computed tags go with them
    erase = "mutation($id: ID!) { eraseMember(input: {id: $id}) { userErrors { code } } }"
    assert (await gql.ok(erase, tenant.owner, {"id": m1}))["eraseMember"]["userErrors"] == []
    assert (await gql.ok(SEGMENT, clerk, {"id": recent["id"]}))["segment"]["memberCount"] == 0
    assert await _tags(gql, tenant, m1) == []
    assert (await gql.ok(BY_TAG, clerk, {"tag": "recency:30d"}))["members"]["totalCount"] == 0
    gone = await gql.ok(DELETE, clerk, {"id": future["id"]})
    assert gone["deleteSegment"] == {"deletedSegmentId": future["id"], "userErrors": []}
    assert (await gql.ok(SEGMENT, clerk, {"id": future["id"]}))["segment"] is None


async def test_segment_permissions_isolation_and_audit(gql, db, tenant, other_tenant):
    ours = await gql.ok(CREATE, tenant.owner, {"input": {"name": "all", "description": "x"}})
    seg = ours["createSegment"]["segment"]
    theirs = await gql.ok(CREATE, other_tenant.owner, {"input": {"name": "all"}})
    their_seg = theirs["createSegment"]["segment"]
    assert theirs["createSegment"]["userErrors"] == []

    for role in (Role.PURCHASER, Role.AUDITOR):  # no members:read / members:write
        caller = tenant.staff(role, ["S1"])
        read = await gql(SEGMENTS, caller)
        assert read.errors[0].extensions["code"] == "FORBIDDEN"
        made = await gql.ok(CREATE, caller, {"input": {"name": "mine"}})
        assert [e["code"] for e in made["createSegment"]["userErrors"]] == ["FORBIDDEN"]
        gone = await gql.ok(DELETE, caller, {"id": seg["id"]})
        assert [e["code"] for e in gone["deleteSegment"]["userErrors"]] == ["FORBIDDEN"]
    reader = tenant.app("members:read")
    refused = await gql.ok(DELETE, reader, {"id": seg["id"]})
    assert [e["code"] for e in refused["deleteSegment"]["userErrors"]] == ["FORBIDDEN"]
    assert (await gql.ok(SEGMENT, reader, {"id": seg["id"]}))["segment"]["name"] == "all"

    # another tenant's IDs: null / NOT_FOUND, exactly like unknown ones
    owner = tenant.owner
    assert (await gql.ok(SEGMENT, owner, {"id": their_seg["id"]}))["segment"] is None
    node = await gql.ok("query($id: ID!) { node(id: $id) { id } }", owner, {"id": their_seg["id"]})
    assert node["node"] is None
    mine = await gql.ok("query($id: ID!) { node(id: $id) { id } }", owner, {"id": seg["id"]})
    assert mine["node"] == {"id": seg["id"]}
    upd = await gql.ok(UPDATE, owner, {"input": {"id": their_seg["id"], "name": "mine"}})
    assert upd["updateSegment"]["userErrors"] == [{"code": "NOT_FOUND", "field": ["id"]}]
    gone = await gql.ok(DELETE, owner, {"id": their_seg["id"]})
    assert gone["deleteSegment"]["userErrors"] == [{"code": "NOT_FOUND", "field": ["id"]}]
    foreign_loc = other_tenant.loc("S1")
    bad = await gql.ok(
        CREATE, owner, {"input": {"name": "x", "filter": {"homeLocationIds": [foreign_loc]}}}
    )
    assert bad["createSegment"]["userErrors"] == [
        {"code": "NOT_FOUND", "field": ["filter", "homeLocationIds", "0"]}
    ]
    listed = await gql.ok(SEGMENTS, owner)
    assert [e["node"]["id"] for e in listed["segments"]["edges"]] == [seg["id"]]
    still = await gql.ok(SEGMENT, other_tenant.owner, {"id": their_seg["id"]})
    assert still["segment"]["name"] == "all"

    async with db.owner_transaction() as session:
        events = (
            await session.execute(
                text(
                    "SELECT action, outcome, after::text AS a FROM audit_events "
                    "WHERE tenant_id = :t AND action LIKE 'segment.%' ORDER BY sequence"
                ),
                {"t": tenant.tenant_id},
            )
        ).all()
    actions = [e.action for e in events]
    assert actions[0] == "segment.create" and "segment.delete" in actions
    assert all("91235678" not in (e.a or "") for e in events)


async def test_cli_retag_recomputes_one_tenant_and_prints_json(gql, db, database_url, tenant):
    import asyncio

    from tests.api.test_cli import as_json, cli

    member = await _member(gql, tenant, tags=["friend"])
    await _sale(gql, tenant, member, "R-1")
    async with db.owner_transaction() as session:  # as if computed before the rule existed
        await session.execute(
            text("UPDATE member_computed_tags SET tags = '{stale}' WHERE tenant_id = :t"),
            {"t": tenant.tenant_id},
        )
    assert "stale" in await _tags(gql, tenant, member)
    result = await asyncio.to_thread(cli, database_url, "members", "retag", "--tenant", tenant.code)
    assert as_json(result) == {"tenants": 1, "members": 1}
    tags = await _tags(gql, tenant, member)
    assert "stale" not in tags and tags[0] == "friend" and "recency:30d" in tags
    missing = await asyncio.to_thread(cli, database_url, "members", "retag", "--tenant", "nope")
    assert missing.returncode != 0
