"""Members: sealed personal data, masking by permission, audit, consent, sales, export, erasure."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from auth.permissions import Role
from domain.audit.service import verify
from tests.graphql.test_permissions import MATRIX

CREATE = """mutation($input: CreateMemberInput!) { createMember(input: $input) {
  member { id memberNumber name phone email birthday tags homeLocation { code } }
  userErrors { code field message } } }"""
MEMBER = "query($id: ID!) { member(id: $id) { id name phone email birthday } }"
SALE = """mutation($input: RecordSaleInput!) { recordSale(input: $input) {
  movements { delta } userErrors { code field } } }"""
CONSENT = """mutation($input: SetMemberConsentInput!) { setMemberConsent(input: $input) {
  member { consents { channel granted wordingVersion recordedBy } } userErrors { code field } } }"""
ERASE = """mutation($id: ID!) { eraseMember(input: {id: $id}) {
  member { id name phone email birthday erasedAt } userErrors { code field } } }"""
EXPORT = "query($id: ID!) { exportMember(id: $id) }"

PHONE, EMAIL, BIRTHDAY = "+85291235678", "chan.taiman@example.com", "1990-05-17"


async def _create(gql, tenant, caller=None, **fields) -> dict:
    data = {"name": "陳大文", "phone": PHONE, "email": EMAIL, "birthday": BIRTHDAY, **fields}
    result = await gql.ok(CREATE, caller or tenant.owner, {"input": data})
    assert result["createMember"]["userErrors"] == []
    return result["createMember"]["member"]


async def _sql(db, query: str, **params) -> list:
    async with db.owner_transaction() as session:
        result = await session.execute(text(query), params)
        return list(result.all()) if result.returns_rows else []


async def _audit(db, tenant_id: int) -> list:
    return await _sql(
        db,
        "SELECT action, target_id, before::text AS b, after::text AS a, reason FROM audit_events "
        "WHERE tenant_id = :t ORDER BY sequence",
        t=tenant_id,
    )


def _pk(gid: str) -> int:
    from domain import ids

    return int(ids.decode(gid)[1])


async def test_personal_data_is_sealed_at_rest(gql, db, tenant, other_tenant):
    one = await _create(gql, tenant, homeLocationId=tenant.loc("S1"))
    assert (one["phone"], one["email"], one["birthday"]) == (PHONE, EMAIL, BIRTHDAY)
    assert one["homeLocation"] == {"code": "S1"} and one["memberNumber"].startswith("M")
    two = await _create(gql, tenant, email="other@example.com")
    theirs = await _create(gql, other_tenant)
    rows = await _sql(
        db,
        "SELECT tenant_id, id, phone, email, birthday, phone_index, row_to_json(m)::text AS j "
        "FROM members m WHERE id = ANY(:ids) ORDER BY id",
        ids=[_pk(one["id"]), _pk(two["id"]), _pk(theirs["id"])],
    )
    for row in rows:
        dump = row.j + bytes(row.phone).hex() + bytes(row.email).decode("latin-1")
        for plain in (PHONE, "91235678", EMAIL, "chan.taiman", BIRTHDAY, "1990"):
            assert plain not in dump
            assert plain.encode() not in bytes(row.phone) + bytes(row.email) + bytes(row.birthday)
    a, b, c = rows
    assert a.phone != b.phone  # same phone, same tenant: different ciphertexts
    assert a.phone_index == b.phone_index  # ...found by the same blind index
    assert a.phone_index != c.phone_index  # the same phone in another tenant: another index
    # A ciphertext moved to another row or column does not open: the member reads nothing.
    await _sql(
        db,
        "UPDATE members SET email = (SELECT phone FROM members WHERE tenant_id = :t AND id = :a) "
        "WHERE tenant_id = :t AND id = :b",
        t=tenant.tenant_id,
        a=a.id,
        b=b.id,
    )
    swapped = await gql(MEMBER, tenant.owner, {"id": two["id"]})
    assert swapped.data["member"] is None or swapped.errors
    # ...and neither the audit trail nor the ledger of consents carries plaintext.
    audit = json.dumps([tuple(r) for r in await _audit(db, tenant.tenant_id)], ensure_ascii=False)
    for plain in (PHONE, "91235678", EMAIL, BIRTHDAY, "陳大文"):
        assert plain not in audit


async def test_masking_by_permission_through_aliases_fragments_and_nesting(gql, db, tenant):
    member = await _create(gql, tenant)
    query = """
    fragment M on Member { p2: phone e2: email birthday }
    query($id: ID!) {
      member(id: $id) { name p1: phone ...M ... on Member { phone email } }
      node(id: $id) { ... on Member { phone ...M } }
      members(first: 5) { edges { node { id phone email birthday } } }
    }"""
    masked = {"phone": "****5678", "email": "c***@example.com", "birthday": "--05"}
    before = len(await _audit(db, tenant.tenant_id))
    clerk = await gql.ok(query, tenant.staff(Role.CLERK, ["S1"]), {"id": member["id"]})
    assert clerk["member"] == {
        "name": "陳大文",
        "p1": masked["phone"],
        "p2": masked["phone"],
        "e2": masked["email"],
        "birthday": masked["birthday"],
        "phone": masked["phone"],
        "email": masked["email"],
    }
    assert clerk["node"] == {
        "phone": masked["phone"],
        "p2": masked["phone"],
        "e2": masked["email"],
        "birthday": "--05",
    }
    assert clerk["members"]["edges"][0]["node"] == {"id": member["id"], **masked}
    app = await gql.ok(MEMBER, tenant.app("members:read"), {"id": member["id"]})
    assert {k: app["member"][k] for k in masked} == masked
    assert len(await _audit(db, tenant.tenant_id)) == before  # masked reads are not audited

    manager = await gql.ok(query, tenant.staff(Role.STORE_MANAGER, ["S1"]), {"id": member["id"]})
    assert manager["member"]["p1"] == PHONE and manager["member"]["e2"] == EMAIL
    assert manager["node"]["birthday"] == BIRTHDAY
    assert manager["members"]["edges"][0]["node"]["email"] == EMAIL
    reads = [
        r for r in (await _audit(db, tenant.tenant_id))[before:] if r.action == "member.pii_read"
    ]
    assert [r.target_id for r in reads] == [member["id"]]  # one event for the whole request
    assert json.loads(reads[0].a) == {"fields": ["phone", "email", "birthday"]}
    no_birthday = await _create(gql, tenant, phone=None, email="x@example.com", birthday="12-25")
    clerk_view = await gql.ok(MEMBER, tenant.staff(Role.CLERK, ["S1"]), {"id": no_birthday["id"]})
    assert clerk_view["member"]["phone"] is None and clerk_view["member"]["birthday"] == "--12"


@pytest.mark.parametrize("role", list(Role))
async def test_member_permissions_by_rank(gql, tenant, role):
    member = await _create(gql, tenant)
    caller = tenant.staff(role, ["S1"])
    read = await gql(MEMBER, caller, {"id": member["id"]})
    if MATRIX["members:read"][role] == "yes":
        assert read.errors is None
        want = PHONE if MATRIX["members:pii"][role] == "yes" else "****5678"
        assert read.data["member"]["phone"] == want
    else:
        assert read.data is None or read.data["member"] is None
        assert read.errors[0].extensions["code"] == "FORBIDDEN"
        node = await gql.ok(
            "query($id: ID!) { node(id: $id) { id } }", caller, {"id": member["id"]}
        )
        assert node["node"] is None
    created = (await gql(CREATE, caller, {"input": {"name": "Lee"}})).data
    errors = created["createMember"]["userErrors"]
    if MATRIX["members:write"][role] == "yes":
        assert errors == []
    else:
        assert [e["code"] for e in errors] == ["FORBIDDEN"]
    export = await gql(EXPORT, caller, {"id": member["id"]})
    if MATRIX["members:pii"][role] == "yes":
        assert export.errors is None and export.data["exportMember"]["member"]["phone"] == PHONE
    else:
        assert export.errors[0].extensions["code"] == "FORBIDDEN"
    erase = (await gql(ERASE, caller, {"id": member["id"]})).data
    if role is Role.OWNER:
        assert erase["eraseMember"]["userErrors"] == []
    else:
        assert [e["code"] for e in erase["eraseMember"]["userErrors"]] == ["FORBIDDEN"]


async def test_foreign_member_ids_are_unknown(gql, tenant, other_tenant):
    theirs = await _create(gql, other_tenant)
    assert (await gql.ok(MEMBER, tenant.owner, {"id": theirs["id"]}))["member"] is None
    node = await gql.ok(
        "query($id: ID!) { node(id: $id) { id } }", tenant.owner, {"id": theirs["id"]}
    )
    assert node["node"] is None
    sale = await gql.ok(
        SALE,
        tenant.owner,
        {
            "input": {
                "locationId": tenant.loc("S1"),
                "receiptNumber": "R-X",
                "lines": [{"sku": "A", "quantity": 1}],
                "memberId": theirs["id"],
            }
        },
    )
    assert sale["recordSale"]["userErrors"] == [{"code": "NOT_FOUND", "field": ["memberId"]}]
    consent = await gql.ok(
        CONSENT,
        tenant.owner,
        {"input": {"memberId": theirs["id"], "channel": "SMS", "granted": True}},
    )
    assert consent["setMemberConsent"]["userErrors"] == [{"code": "NOT_FOUND", "field": ["id"]}]
    for search in (PHONE, theirs["memberNumber"], "陳大文"):
        found = await gql.ok(
            "query($s: String) { members(search: $s) { totalCount } }", tenant.owner, {"s": search}
        )
        assert found["members"]["totalCount"] == 0
    export = await gql(EXPORT, tenant.owner, {"id": theirs["id"]})
    assert export.errors[0].extensions["code"] == "NOT_FOUND"


async def test_search_by_phone_number_name_and_tag(gql, tenant):
    one = await _create(gql, tenant, tags=["VIP", "VIP ", "wine"])
    await _create(gql, tenant, name="Lee Siu Ming", phone="+85266667777")
    assert one["tags"] == ["VIP", "wine"]
    search = """query($s: String, $t: String) { members(search: $s, tag: $t) {
      totalCount edges { node { name } } } }"""

    manager = tenant.staff(Role.STORE_MANAGER, ["S1"])  # members:pii: may search by phone

    async def names(s=None, t=None, caller=manager):
        data = await gql.ok(search, caller, {"s": s, "t": t})
        return [e["node"]["name"] for e in data["members"]["edges"]]

    # A phone search says whether a number is a member: personal data, so members:pii.
    clerk = tenant.staff(Role.CLERK, ["S1"])
    refused = await gql(search, clerk, {"s": "9123 5678", "t": None})
    assert refused.errors[0].extensions["code"] == "FORBIDDEN"
    assert await names("siu", caller=clerk) == ["Lee Siu Ming"]

    assert await names("9123 5678") == ["陳大文"]
    assert await names("+852-9123-5678") == ["陳大文"]
    assert await names("6666 7777") == ["Lee Siu Ming"]
    assert await names("9999 0000") == []
    assert await names(one["memberNumber"].lower()) == ["陳大文"]
    assert await names("siu") == ["Lee Siu Ming"]
    assert await names("%") == []
    assert await names(t="VIP") == ["陳大文"]
    assert await names(t="nope") == []
    tags = await gql.ok(
        """mutation($id: ID!) { setMemberTags(input: {id: $id, tags: ["gold"]}) {
        member { tags } userErrors { code } } }""",
        tenant.owner,
        {"id": one["id"]},
    )
    assert tags["setMemberTags"]["member"]["tags"] == ["gold"]
    assert await names(t="VIP") == [] and await names(t="gold") == ["陳大文"]


async def test_sales_link_to_members_and_form_their_purchase_history(gql, tenant):
    member = await _create(gql, tenant)
    for receipt, qty in (("R-1", 2), ("R-2", 1)):
        sale = await gql.ok(
            SALE,
            tenant.owner,
            {
                "input": {
                    "locationId": tenant.loc("S1"),
                    "receiptNumber": receipt,
                    "lines": [{"sku": "A", "quantity": qty}],
                    "memberId": member["id"],
                }
            },
        )
        assert sale["recordSale"]["userErrors"] == []
    query = """query($id: ID!) { member(id: $id) { purchases(first: 1) {
      pageInfo { hasNextPage endCursor }
      edges { node { receiptNumber total { amount currency } location { code }
        lines { quantity unitPrice product { sku } } } } } } }"""
    data = await gql.ok(query, tenant.staff(Role.CLERK, ["S1"]), {"id": member["id"]})
    page = data["member"]["purchases"]
    assert page["edges"][0]["node"] == {
        "receiptNumber": "R-2",
        "total": {"amount": "10.00", "currency": "HKD"},
        "location": {"code": "S1"},
        "lines": [{"quantity": 1, "unitPrice": "10.00", "product": {"sku": "A"}}],
    }
    assert page["pageInfo"]["hasNextPage"] is True
    more = await gql.ok(
        """query($id: ID!, $after: String) { member(id: $id) { purchases(after: $after) {
        edges { node { receiptNumber } } } } }""",
        tenant.owner,
        {"id": member["id"], "after": page["pageInfo"]["endCursor"]},
    )
    assert [e["node"]["receiptNumber"] for e in more["member"]["purchases"]["edges"]] == ["R-1"]
    bogus = await gql.ok(
        SALE,
        tenant.owner,
        {
            "input": {
                "locationId": tenant.loc("S1"),
                "receiptNumber": "R-3",
                "lines": [{"sku": "A", "quantity": 1}],
                "memberId": tenant.gid("Member", 999_999_999),
            }
        },
    )
    assert bogus["recordSale"]["userErrors"] == [{"code": "NOT_FOUND", "field": ["memberId"]}]


async def test_consent_ledger(gql, db, tenant):
    member = await _create(
        gql, tenant, consents=[{"channel": "SMS", "granted": True, "wordingVersion": "v1"}]
    )
    app = tenant.app("members:read members:write", client_id="pos")
    manager = tenant.staff(Role.STORE_MANAGER, ["S1"], staff_id=7)

    async def state(caller):
        data = await gql.ok(
            "query($id: ID!) { member(id: $id) { consents { channel granted } } }",
            caller,
            {"id": member["id"]},
        )
        return {c["channel"]: c["granted"] for c in data["member"]["consents"]}

    assert await state(app) == {"SMS": True, "EMAIL": False, "CHAT": False}
    withdraw = await gql.ok(
        CONSENT, app, {"input": {"memberId": member["id"], "channel": "SMS", "granted": False}}
    )
    assert withdraw["setMemberConsent"]["userErrors"] == []
    # Withdrawn through one app: withdrawn for everyone at once, staff and other apps alike.
    assert (await state(manager))["SMS"] is False
    assert (await state(tenant.app("members:read", client_id="crm")))["SMS"] is False
    # Granting another channel does not re-enable SMS; only an explicit opt-in does.
    await gql.ok(
        CONSENT,
        manager,
        {
            "input": {
                "memberId": member["id"],
                "channel": "EMAIL",
                "granted": True,
                "wordingVersion": "v2",
            }
        },
    )
    assert await state(app) == {"SMS": False, "EMAIL": True, "CHAT": False}
    again = await gql.ok(
        CONSENT,
        manager,
        {
            "input": {
                "memberId": member["id"],
                "channel": "SMS",
                "granted": True,
                "wordingVersion": "v3",
            }
        },
    )
    sms = again["setMemberConsent"]["member"]["consents"][0]
    assert sms == {
        "channel": "SMS",
        "granted": True,
        "wordingVersion": "v3",
        "recordedBy": "staff:7",
    }
    history = await gql.ok(
        """query($id: ID!) { member(id: $id) {
        consentHistory { channel granted wordingVersion recordedBy clientId } } }""",
        tenant.owner,
        {"id": member["id"]},
    )
    assert history["member"]["consentHistory"] == [
        {
            "channel": "SMS",
            "granted": True,
            "wordingVersion": "v1",
            "recordedBy": "staff:999",
            "clientId": None,
        },
        {
            "channel": "SMS",
            "granted": False,
            "wordingVersion": None,
            "recordedBy": "app:pos",
            "clientId": "pos",
        },
        {
            "channel": "EMAIL",
            "granted": True,
            "wordingVersion": "v2",
            "recordedBy": "staff:7",
            "clientId": None,
        },
        {
            "channel": "SMS",
            "granted": True,
            "wordingVersion": "v3",
            "recordedBy": "staff:7",
            "clientId": None,
        },
    ]
    from domain.members.consent import Channel, consenting

    async with db.tenant_transaction(tenant.tenant_id) as session:
        assert await consenting(session, tenant.tenant_id, Channel.SMS, [_pk(member["id"])]) == {
            _pk(member["id"])
        }
        assert (
            await consenting(session, tenant.tenant_id, Channel.CHAT, [_pk(member["id"])]) == set()
        )
    # The ledger is append-only for the API's role.
    for statement in ("UPDATE member_consents SET granted = false", "DELETE FROM member_consents"):
        with pytest.raises(DBAPIError, match="permission denied"):
            async with db.tenant_transaction(tenant.tenant_id) as session:
                await session.execute(text(statement))


async def test_refused_member_mutations_keep_no_personal_data(gql, db, tenant):
    bad = await gql.ok(
        CREATE,
        tenant.owner,
        {"input": {"name": "陳大文", "phone": "12", "email": EMAIL, "birthday": BIRTHDAY}},
    )
    assert bad["createMember"]["userErrors"] == [
        {
            "code": "INVALID",
            "field": ["phone"],
            "message": "phone must be an E.164 number or 8 local digits",
        }
    ]
    denied = (
        await gql(
            CREATE,
            tenant.staff(Role.AUDITOR),
            {"input": {"name": "陳大文", "phone": PHONE, "email": EMAIL}},
        )
    ).data
    assert denied["createMember"]["userErrors"][0]["code"] == "FORBIDDEN"
    audit = json.dumps([tuple(r) for r in await _audit(db, tenant.tenant_id)], ensure_ascii=False)
    assert "member.create" in audit and "[redacted]" in audit
    for plain in (PHONE, EMAIL, BIRTHDAY, "陳大文"):
        assert plain not in audit


async def test_update_member(gql, tenant):
    member = await _create(gql, tenant)
    update = """mutation($input: UpdateMemberInput!) { updateMember(input: $input) {
      member { name phone email birthday tier homeLocation { code } }
      userErrors { code field } } }"""
    data = await gql.ok(
        update,
        tenant.owner,
        {
            "input": {
                "id": member["id"],
                "phone": "6612 3456",
                "email": None,
                "tier": "gold",
                "homeLocationId": tenant.loc("S2"),
            }
        },
    )
    assert data["updateMember"] == {
        "member": {
            "name": "陳大文",
            "phone": "+85266123456",
            "email": None,
            "birthday": BIRTHDAY,
            "tier": "GOLD",
            "homeLocation": {"code": "S2"},
        },
        "userErrors": [],
    }
    found = await gql.ok('{ members(search: "66123456") { totalCount } }', tenant.owner)
    assert found["members"]["totalCount"] == 1
    assert (await gql.ok(f'{{ members(search: "{PHONE}") {{ totalCount }} }}', tenant.owner))[
        "members"
    ]["totalCount"] == 0


async def test_export_and_erasure(gql, db, tenant):
    from tests.helpers import assert_conserved, units_by_product

    member = await _create(
        gql, tenant, tags=["VIP"], consents=[{"channel": "EMAIL", "granted": True}]
    )
    await gql.ok(
        SALE,
        tenant.owner,
        {
            "input": {
                "locationId": tenant.loc("S1"),
                "receiptNumber": "R-9",
                "lines": [{"sku": "B", "quantity": 2}],
                "memberId": member["id"],
            }
        },
    )
    export = (await gql.ok(EXPORT, tenant.owner, {"id": member["id"]}))["exportMember"]
    assert export["member"]["phone"] == PHONE and export["member"]["email"] == EMAIL
    assert export["member"]["birthday"] == BIRTHDAY and export["member"]["tags"] == ["VIP"]
    assert export["consents"]["ledger"][0]["channel"] == "EMAIL"
    assert export["purchases"][0]["receiptNumber"] == "R-9"
    assert export["purchases"][0]["lines"][0]["quantity"] == 2
    assert "member.create" in [e["action"] for e in export["auditEvents"]]
    audit = await _audit(db, tenant.tenant_id)
    assert audit[-1].action == "member.export" and audit[-1].target_id == member["id"]

    totals_before = await units_by_product(db, tenant.tenant_id)
    sales_before = await _sql(
        db, "SELECT count(*), sum(total) FROM sales WHERE tenant_id = :t", t=tenant.tenant_id
    )
    erased = await gql.ok(ERASE, tenant.owner, {"id": member["id"]})
    assert erased["eraseMember"]["userErrors"] == []
    after = erased["eraseMember"]["member"]
    assert (after["name"], after["phone"], after["email"], after["birthday"]) == (
        "",
        None,
        None,
        None,
    )
    assert after["erasedAt"] is not None
    pk = _pk(member["id"])
    row = (
        await _sql(
            db, "SELECT * FROM members WHERE tenant_id = :t AND id = :id", t=tenant.tenant_id, id=pk
        )
    )[0]
    assert row.phone is not None and row.phone_index is None and row.tags == []  # sealed, keyless
    assert (
        await _sql(
            db,
            "SELECT 1 FROM member_keys WHERE tenant_id = :t AND member_id = :id",
            t=tenant.tenant_id,
            id=pk,
        )
        == []
    )
    for caller in (tenant.owner, tenant.staff(Role.CLERK, ["S1"])):
        again = await gql.ok(MEMBER, caller, {"id": member["id"]})
        assert again["member"] == {
            "id": member["id"],
            "name": "",
            "phone": None,
            "email": None,
            "birthday": None,
        }
    late = (await gql.ok(EXPORT, tenant.owner, {"id": member["id"]}))["exportMember"]
    assert late["member"]["phone"] is None and late["member"]["name"] == ""
    assert late["purchases"][0]["receiptNumber"] == "R-9"  # sales stay, pointing at no one
    assert (await gql.ok(f'{{ members(search: "{PHONE}") {{ totalCount }} }}', tenant.owner))[
        "members"
    ]["totalCount"] == 0
    assert (await gql.ok(ERASE, tenant.owner, {"id": member["id"]}))["eraseMember"]["userErrors"][
        0
    ]["code"] == "INVALID_TRANSITION"
    sale = await gql.ok(
        SALE,
        tenant.owner,
        {
            "input": {
                "locationId": tenant.loc("S1"),
                "receiptNumber": "R-10",
                "lines": [{"sku": "B", "quantity": 1}],
                "memberId": member["id"],
            }
        },
    )
    assert sale["recordSale"]["userErrors"] == [{"code": "NOT_FOUND", "field": ["memberId"]}]

    assert await units_by_product(db, tenant.tenant_id) == totals_before
    assert (
        await _sql(
            db, "SELECT count(*), sum(total) FROM sales WHERE tenant_id = :t", t=tenant.tenant_id
        )
        == sales_before
    )
    await assert_conserved(db, tenant.tenant_id)
    async with db.owner_transaction() as session:
        result = await verify(session, tenant.tenant_id)
    assert result.valid and result.checked == len(await _audit(db, tenant.tenant_id))
    trail = json.dumps([tuple(r) for r in await _audit(db, tenant.tenant_id)], ensure_ascii=False)
    for plain in (PHONE, EMAIL, BIRTHDAY, "陳大文", "91235678"):
        assert plain not in trail


async def test_an_update_is_visible_in_the_same_operation(gql, tenant):
    owner = tenant.owner
    created = await gql.ok(
        'mutation { createMember(input: {name: "陳大文", phone: "+85291234567"}) '
        "{ member { id } userErrors { code } } }",
        owner,
    )
    mid = created["createMember"]["member"]["id"]
    data = await gql.ok(
        'mutation($id: ID!) { first: updateMember(input: {id: $id, name: "x"}) '
        '{ member { phone } } second: updateMember(input: {id: $id, phone: "+85298765432"}) '
        "{ member { phone } } }",
        owner,
        {"id": mid},
    )
    assert data["first"]["member"]["phone"] == "+85291234567"
    assert data["second"]["member"]["phone"] == "+85298765432"


async def test_member_search_is_throttled_per_caller(gql, tenant):
    from tests.webhooks_support import execute_with_settings

    query = "query($s: String) { members(search: $s) { totalCount } }"
    limits = {"member_search_per_second": 0.001, "member_search_burst": 3}

    async def search(caller):
        return await execute_with_settings(gql, query, caller, {"s": "陳"}, **limits)

    for _ in range(3):
        assert (await search(tenant.owner)).errors is None
    refused = await search(tenant.owner)
    assert refused.data is None or refused.data.get("members") is None
    error = refused.errors[0]
    assert error.extensions["code"] == "THROTTLED"
    assert "retry after" in error.message
    other = tenant.staff(Role.OWNER, staff_id=1000)  # another caller of the same tenant
    assert (await search(other)).data["members"]["totalCount"] == 0
    listed = await gql.ok("{ members(first: 1) { totalCount } }", tenant.owner)
    assert listed["members"]["totalCount"] == 0  # listing without a search is not limited
