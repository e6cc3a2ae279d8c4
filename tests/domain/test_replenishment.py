"""Suggestions on a real database: goods on the way counted once, transfer first, decisions,
and purchase orders through the ledger (also under concurrent receipts)."""

from __future__ import annotations

import asyncio
import math
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import text

from domain.approvals.service import Decision
from domain.errors import DomainError, InvalidInput, InvalidTransition
from domain.purchasing import service as po
from domain.replenishment import decisions, demand, rules, suppliers
from domain.replenishment.suggestions import Suggestion, suggest
from domain.stock.ledger import Posting, post
from domain.stock.records import MovementKind
from domain.transfers import service as transfers
from tests.helpers import ledger_mismatches

HKT = ZoneInfo("Asia/Hong_Kong")  # the test tenants' time zone

DAYS = 70

# incoming of every level = what the location's sent, not fully received orders still bring
INCOMING_MISMATCHES = text(
    """
    WITH expected AS (
        SELECT o.location_id, l.product_id, SUM(l.quantity - l.received) AS units
        FROM purchase_orders o
        JOIN purchase_order_lines l ON l.tenant_id = o.tenant_id AND l.purchase_order_id = o.id
        WHERE o.tenant_id = :t AND o.status IN ('SENT', 'PARTIALLY_RECEIVED')
        GROUP BY 1, 2
    )
    SELECT s.location_id, s.product_id, s.incoming, COALESCE(e.units, 0)
    FROM stock_levels s
    FULL JOIN expected e ON e.location_id = s.location_id AND e.product_id = s.product_id
    WHERE COALESCE(s.tenant_id, :t) = :t AND COALESCE(s.incoming, 0) <> COALESCE(e.units, 0)
    """
)


async def incoming_mismatches(tenant) -> list[tuple[int, ...]]:
    async with tenant.db.owner_transaction() as s:
        rows = (await s.execute(INCOMING_MISMATCHES, {"t": tenant.tenant_id})).all()
    return [tuple(r) for r in rows]


async def sell_history(tenant, loc: str, sku: str, per_day: int, days: int = DAYS) -> None:
    """``per_day`` units sold at noon on each of the ``days`` days before today, as the
    tenant counts days (Hong Kong's), and the stock for it the day before."""
    today = datetime.now(HKT).date()

    def noon(days_ago: int) -> datetime:
        return datetime.combine(today - timedelta(days=days_ago), time(12), HKT)

    postings = [
        Posting(
            tenant.locations[loc],
            tenant.products[sku],
            MovementKind.RECEIPT,
            per_day * days,
            occurred_at=noon(days + 1),
        )
    ] + [
        Posting(
            tenant.locations[loc],
            tenant.products[sku],
            MovementKind.SALE,
            -per_day,
            occurred_at=noon(d),
        )
        for d in range(1, days + 1)
    ]
    async with tenant.db.tenant_transaction(tenant.tenant_id) as s:
        await post(s, tenant.owner, postings)


async def add_stock(tenant, loc: str, sku: str, qty: int) -> None:
    async with tenant.db.tenant_transaction(tenant.tenant_id) as s:
        await post(
            s,
            tenant.owner,
            [Posting(tenant.locations[loc], tenant.products[sku], MovementKind.RECEIPT, qty)],
        )


async def setup_supplier(
    tenant, pack: int = 6, moq: int = 1, lead: int = 3, minimum: str = "10"
) -> int:
    async with tenant.db.tenant_transaction(tenant.tenant_id) as s:
        row = await suppliers.create_supplier(
            s,
            tenant.owner,
            suppliers.SupplierFields(
                code="SUP1",
                name_zh="供應商",
                name_en="Supplier One",
                currency="HKD",
                lead_time_days=lead,
                order_days=(1, 4),
                min_order_value=Decimal(minimum),
            ),
        )
        await suppliers.set_supplier_products(
            s,
            tenant.owner,
            suppliers.SetSupplierProducts(
                row.id,
                tuple(
                    suppliers.SupplierProductLine(sku, Decimal("3.50"), f"X-{sku}", pack, moq)
                    for sku in ("A", "B", "C")
                ),
            ),
        )
    return int(row.id)


async def set_rule(tenant, loc: str, sku: str, **kw) -> rules.RulesSet:
    async with tenant.db.tenant_transaction(tenant.tenant_id) as s:
        return await rules.set_rules(
            s,
            tenant.owner,
            rules.SetRules((rules.RuleLine(tenant.locations[loc], sku, **kw),)),
        )


async def suggestion(tenant, loc: str, sku: str) -> Suggestion | None:
    async with tenant.db.tenant_transaction(tenant.tenant_id) as s:
        found = await suggest(
            s, tenant.owner, tenant.locations[loc], [tenant.products[sku]], include_zero=True
        )
    return found[0] if found else None


def check_arithmetic(s: Suggestion) -> None:
    assert s.position == (
        s.on_hand
        - s.reserved
        + s.in_transit
        + s.open_purchase_orders
        + s.transfers_not_shipped
        + s.accepted_not_ordered
    )
    assert s.need == max(0, math.ceil(s.target - s.position - 1e-9))
    assert len(s.forecast_days) == s.order_wait_days + s.lead_time_days + s.review_period_days


async def test_goods_on_the_way_are_counted_once(tenant):
    await setup_supplier(tenant, pack=1, lead=3)
    await sell_history(tenant, "S1", "A", 4)
    await add_stock(tenant, "WH", "A", 30)
    await set_rule(tenant, "S1", "A", safety_stock=5, review_period_days=7)
    first = await suggestion(tenant, "S1", "A")
    assert first is not None
    check_arithmetic(first)
    # 4 a day over 10 days and the wait for the next order day (Monday or Thursday)
    assert 4 * (10 + first.order_wait_days) * 0.75 < first.forecast_units
    assert first.forecast_units < 4 * (10 + first.order_wait_days) * 1.25
    assert first.on_hand == 0 and first.need > 20
    base_need = first.need

    owner = tenant.owner
    async with tenant.db.tenant_transaction(tenant.tenant_id) as s:
        order = await po.create_draft(
            s,
            owner,
            po.CreateDraft(
                await _supplier_id(s, tenant),
                tenant.locations["S1"],
                (po.DraftLine(tenant.products["A"], 8, Decimal("3.5")),),
            ),
        )
        t = await transfers.create_transfer(
            s,
            owner,
            transfers.CreateTransfer(
                tenant.locations["WH"], tenant.locations["S1"], (transfers.Line("A", 5),)
            ),
        )
        await transfers.decide_transfer(
            s, owner, transfers.TransitionTransfer(t.transfer.id), Decision.APPROVE
        )
    after = await suggestion(tenant, "S1", "A")
    assert after is not None
    check_arithmetic(after)
    assert after.open_purchase_orders == 8 and after.transfers_not_shipped == 5
    assert after.need == base_need - 13

    # shipping moves the 5 from "not shipped" to "in transit"; receiving the order moves
    # the 8 from "open orders" to on hand: the need stays where it is.
    oid = order.order.id
    async with tenant.db.tenant_transaction(tenant.tenant_id) as s:
        await transfers.ship_transfer(s, owner, transfers.ShipTransfer(t.transfer.id))
        await po.submit(s, owner, po.TransitionPurchaseOrder(oid))
        await po.decide(s, owner, po.TransitionPurchaseOrder(oid), Decision.APPROVE)
        await po.send(s, owner, po.TransitionPurchaseOrder(oid))
        await po.receive(s, owner, po.ReceivePurchaseOrder(oid, (po.ReceiveLine("A", 8),)))
    moved = await suggestion(tenant, "S1", "A")
    assert moved is not None
    check_arithmetic(moved)
    assert (moved.in_transit, moved.transfers_not_shipped) == (5, 0)
    assert (moved.on_hand, moved.open_purchase_orders) == (8, 0)
    assert moved.need == after.need
    assert await ledger_mismatches(tenant.db, tenant.tenant_id) == []


async def _supplier_id(session, tenant) -> int:
    return int(
        (
            await session.execute(
                text("SELECT id FROM suppliers WHERE tenant_id = :t"), {"t": tenant.tenant_id}
            )
        ).scalar_one()
    )


async def test_transfer_first_never_empties_the_donor_below_its_target(tenant):
    await setup_supplier(tenant, pack=6, moq=12)
    await sell_history(tenant, "S1", "A", 5)
    await sell_history(tenant, "S2", "A", 1)
    await add_stock(tenant, "S2", "A", 20)  # S2 keeps 14 days x 1 + 2 safety = 16: 4 spare
    await set_rule(tenant, "S2", "A", safety_stock=2)
    await set_rule(tenant, "S1", "A", safety_stock=5, review_period_days=7)
    s = await suggestion(tenant, "S1", "A")
    assert s is not None
    check_arithmetic(s)
    assert [src.location_id for src in s.transfers] == [tenant.locations["S2"]]
    donor = s.transfers[0]
    assert 1 <= donor.quantity == donor.surplus <= 6
    # the donor keeps at least its own target: 14 days of its forecast + its safety stock
    async with tenant.db.tenant_transaction(tenant.tenant_id) as session:
        f = await demand.demand_forecast(session, tenant.owner, tenant.locations["S2"], "A", 14)
    assert 10 < f.total < 20
    assert 20 - donor.quantity >= f.total + 2 - 1e-6
    # the rest is bought, in whole packs of 6 and at least 12
    rest = s.need - donor.quantity
    assert s.purchase_needed == rest
    assert s.purchase_quantity == max(12, math.ceil(rest / 6) * 6)
    assert s.purchase_quantity % 6 == 0


async def test_a_donor_without_surplus_gives_nothing(tenant):
    await setup_supplier(tenant)
    await sell_history(tenant, "S1", "A", 5)
    await sell_history(tenant, "S2", "A", 3)  # sold out: nothing spare
    await set_rule(tenant, "S1", "A")
    s = await suggestion(tenant, "S1", "A")
    assert s is not None and s.transfers == [] and s.purchase_quantity > 0


async def test_accept_dismiss_and_draft_purchase_orders(tenant):
    await setup_supplier(tenant, pack=1)
    await sell_history(tenant, "S1", "A", 3)
    await sell_history(tenant, "S1", "B", 2)
    await sell_history(tenant, "S2", "A", 1)
    await add_stock(tenant, "S2", "A", 25)
    await set_rule(tenant, "S1", "A")
    await set_rule(tenant, "S1", "B")
    owner = tenant.owner
    before = await suggestion(tenant, "S1", "A")
    assert before is not None and before.transfer_quantity > 0 and before.purchase_quantity > 0
    async with tenant.db.tenant_transaction(tenant.tenant_id) as s:
        accepted = await decisions.accept(
            s, owner, decisions.DecideSuggestion(tenant.locations["S1"], "A")
        )
        dismissed = await decisions.dismiss(
            s,
            owner,
            decisions.DecideSuggestion(
                tenant.locations["S1"], "B", decisions.DismissReason.PROMOTION_ENDED
            ),
        )
    assert accepted.transfers and accepted.transfers[0].transfer.status == "REQUESTED"
    assert accepted.transfer_quantity == before.transfer_quantity
    assert dismissed.reason == "PROMOTION_ENDED"
    after = await suggestion(tenant, "S1", "A")
    assert after is not None and after.need == 0 and after.quantity == 0
    assert after.accepted_not_ordered == before.purchase_quantity
    async with tenant.db.tenant_transaction(tenant.tenant_id) as s:
        found = await suggest(s, owner, tenant.locations["S1"])
    assert [x.sku for x in found] == []  # A is covered, B was dismissed today

    async with tenant.db.tenant_transaction(tenant.tenant_id) as s:
        drafts = (await decisions.draft_purchase_orders(s, owner, (tenant.locations["S1"],))).orders
        again = (await decisions.draft_purchase_orders(s, owner, (tenant.locations["S1"],))).orders
    assert again == []
    assert len(drafts) == 1
    order = drafts[0].order
    assert order.status == "DRAFT" and order.location_id == tenant.locations["S1"]
    assert [(ln.product_id, ln.quantity) for ln in order.lines] == [
        (tenant.products["A"], before.purchase_quantity)
    ]
    counted = await suggestion(tenant, "S1", "A")
    assert counted is not None
    assert counted.open_purchase_orders == before.purchase_quantity
    assert counted.accepted_not_ordered == 0


async def test_rules_are_idempotent_and_checked(tenant):
    first = await set_rule(tenant, "S1", "A", safety_stock=3)
    again = await set_rule(tenant, "S1", "A", safety_stock=3)
    changed = await set_rule(tenant, "S1", "A", safety_stock=4)
    assert (first.changed, again.changed, changed.changed) == (1, 0, 1)
    try:
        await set_rule(tenant, "S1", "A", method=rules.RuleMethod.MIN_MAX, min_quantity=5)
    except InvalidInput as e:
        assert e.field == ["rules", "0", "method"]
    else:
        raise AssertionError("MIN_MAX without a max was accepted")


async def test_purchase_order_receipts_incoming_and_over_receipt(tenant):
    sid = await setup_supplier(tenant)
    owner = tenant.owner
    loc, a, b = tenant.locations["S1"], tenant.products["A"], tenant.products["B"]
    async with tenant.db.tenant_transaction(tenant.tenant_id) as s:
        d = await po.create_draft(
            s,
            owner,
            po.CreateDraft(
                sid,
                loc,
                (
                    po.DraftLine(a, 10, Decimal("3.5")),
                    po.DraftLine(b, 4, Decimal("7.25")),
                ),
            ),
        )
        oid = d.order.id
        try:
            await po.send(s, owner, po.TransitionPurchaseOrder(oid))
        except InvalidTransition:
            pass
        else:
            raise AssertionError("a draft was sent")
        await po.submit(s, owner, po.TransitionPurchaseOrder(oid))
        await po.decide(s, owner, po.TransitionPurchaseOrder(oid), Decision.APPROVE)
        await po.send(s, owner, po.TransitionPurchaseOrder(oid))
    assert await _incoming(tenant, loc, a) == 10 and await _incoming(tenant, loc, b) == 4
    assert await incoming_mismatches(tenant) == []
    async with tenant.db.tenant_transaction(tenant.tenant_id) as s:
        r = await po.receive(s, owner, po.ReceivePurchaseOrder(oid, (po.ReceiveLine("A", 6),)))
    assert r.order.status == "PARTIALLY_RECEIVED"
    assert await _incoming(tenant, loc, a) == 4
    try:
        async with tenant.db.tenant_transaction(tenant.tenant_id) as s:
            await po.receive(s, owner, po.ReceivePurchaseOrder(oid, (po.ReceiveLine("A", 5),)))
    except InvalidInput as e:
        assert e.field == ["lines", "0", "quantity"]
    else:
        raise AssertionError("over-receipt accepted")
    async with tenant.db.tenant_transaction(tenant.tenant_id) as s:
        closed = await po.close(
            s, owner, po.ClosePurchaseOrder(oid, po.CloseReason.SUPPLIER_SHORT, "4 A, 4 B short")
        )
        cost = (
            await s.execute(
                text(
                    "SELECT unit_cost FROM stock_movements WHERE tenant_id = :t AND reference = :r"
                ),
                {"t": tenant.tenant_id, "r": f"PO-{oid}"},
            )
        ).scalar_one()
    assert closed.order.status == "CLOSED" and closed.order.close_reason == "SUPPLIER_SHORT"
    assert cost == Decimal("3.5")
    assert await _incoming(tenant, loc, a) == 0 and await _incoming(tenant, loc, b) == 0
    assert await ledger_mismatches(tenant.db, tenant.tenant_id) == []
    assert await incoming_mismatches(tenant) == []


async def _incoming(tenant, loc: int, product: int) -> int:
    async with tenant.db.owner_transaction() as s:
        return int(
            (
                await s.execute(
                    text(
                        "SELECT incoming FROM stock_levels WHERE tenant_id = :t "
                        "AND location_id = :l AND product_id = :p"
                    ),
                    {"t": tenant.tenant_id, "l": loc, "p": product},
                )
            ).scalar_one_or_none()
            or 0
        )


async def test_concurrent_receipts_never_over_receive(tenant):
    sid = await setup_supplier(tenant)
    owner = tenant.owner
    loc, a = tenant.locations["S1"], tenant.products["A"]
    async with tenant.db.tenant_transaction(tenant.tenant_id) as s:
        d = await po.create_draft(
            s, owner, po.CreateDraft(sid, loc, (po.DraftLine(a, 5, Decimal("3.5")),))
        )
        oid = d.order.id
        await po.submit(s, owner, po.TransitionPurchaseOrder(oid))
        await po.decide(s, owner, po.TransitionPurchaseOrder(oid), Decision.APPROVE)
        await po.send(s, owner, po.TransitionPurchaseOrder(oid))

    async def one() -> bool:
        try:
            async with tenant.db.tenant_transaction(tenant.tenant_id) as s:
                await po.receive(s, owner, po.ReceivePurchaseOrder(oid, (po.ReceiveLine("A", 1),)))
            return True
        except DomainError:
            return False

    results = await asyncio.gather(*(one() for _ in range(8)))
    assert sum(results) == 5
    assert await _incoming(tenant, loc, a) == 0
    async with tenant.db.owner_transaction() as s:
        on_hand, status = (
            await s.execute(
                text(
                    "SELECT (SELECT on_hand FROM stock_levels WHERE tenant_id = :t AND "
                    "location_id = :l AND product_id = :p), (SELECT status FROM purchase_orders "
                    "WHERE tenant_id = :t AND id = :o)"
                ),
                {"t": tenant.tenant_id, "l": loc, "p": a, "o": oid},
            )
        ).one()
    assert (on_hand, status) == (5, "RECEIVED")
    assert await ledger_mismatches(tenant.db, tenant.tenant_id) == []
    assert await incoming_mismatches(tenant) == []


async def test_holiday_check_alerts_once_per_sku_and_day(tenant):
    from datetime import date

    from domain.replenishment import alerts
    from domain.replenishment.history import local_midnight

    await setup_supplier(tenant)
    await sell_history(tenant, "S1", "A", 3)  # sold out: nothing left for Christmas
    await add_stock(tenant, "S1", "B", 2)
    await set_rule(tenant, "S1", "A")
    await set_rule(tenant, "S1", "B", reorder_point=4)  # low, no holiday demand
    from zoneinfo import ZoneInfo

    christmas = local_midnight(date(2026, 12, 25), ZoneInfo("Asia/Hong_Kong"))
    now = christmas - timedelta(hours=30)
    async with tenant.db.tenant_transaction(tenant.tenant_id) as s:
        first = await alerts.holiday_check(s, tenant.tenant_id, now)
    async with tenant.db.tenant_transaction(tenant.tenant_id) as s:
        again = await alerts.holiday_check(s, tenant.tenant_id, now + timedelta(hours=1))
    assert first["alerts"] == 2 and again["alerts"] == 0
    async with tenant.db.owner_transaction() as s:
        rows = (
            await s.execute(
                text(
                    "SELECT product_id, kind, event, day FROM replenishment_alerts "
                    "WHERE tenant_id = :t ORDER BY product_id"
                ),
                {"t": tenant.tenant_id},
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        (tenant.products["A"], "HOLIDAY", "Christmas Day", date(2026, 12, 23)),
        (tenant.products["B"], "LOW_STOCK", None, date(2026, 12, 23)),
    ]
    # three days before, the holiday is not yet within 48 hours
    async with tenant.db.tenant_transaction(tenant.tenant_id) as s:
        early = await alerts.holiday_check(s, tenant.tenant_id, christmas - timedelta(hours=72))
    assert early["alerts"] == 1  # only B's low stock, on that earlier day


async def test_alert_only_rules_are_suggested_but_never_drafted(tenant):
    await setup_supplier(tenant)
    await sell_history(tenant, "S1", "A", 3)
    await set_rule(tenant, "S1", "A", alert_only=True)
    s = await suggestion(tenant, "S1", "A")
    assert s is not None and s.alert_only and s.quantity > 0
    try:
        async with tenant.db.tenant_transaction(tenant.tenant_id) as session:
            await decisions.accept(
                session, tenant.owner, decisions.DecideSuggestion(tenant.locations["S1"], "A")
            )
    except InvalidInput as e:
        assert e.field == ["sku"]
    else:
        raise AssertionError("an alert-only suggestion was accepted")


async def test_receipts_sends_and_sales_at_once_keep_ledger_and_incoming(tenant):
    """Receipts of one order (lines in both orders), another order being sent, and sales
    of the same levels, all at once: no deadlock, the ledger and incoming both hold."""
    sid = await setup_supplier(tenant)
    owner = tenant.owner
    loc, a, b = tenant.locations["S1"], tenant.products["A"], tenant.products["B"]
    lines = (po.DraftLine(a, 4, Decimal("3.5")), po.DraftLine(b, 4, Decimal("2")))
    orders = []
    async with tenant.db.tenant_transaction(tenant.tenant_id) as s:
        for _ in range(2):
            d = await po.create_draft(s, owner, po.CreateDraft(sid, loc, lines))
            step = po.TransitionPurchaseOrder(d.order.id)
            await po.submit(s, owner, step)
            await po.decide(s, owner, step, Decision.APPROVE)
            orders.append(d.order.id)
        await po.send(s, owner, po.TransitionPurchaseOrder(orders[0]))

    async def receive(i: int) -> None:
        skus = ["A", "B"] if i % 2 else ["B", "A"]
        async with tenant.db.tenant_transaction(tenant.tenant_id) as s:
            await po.receive(
                s,
                owner,
                po.ReceivePurchaseOrder(orders[0], tuple(po.ReceiveLine(k, 1) for k in skus)),
            )

    async def sell(i: int) -> None:
        keys = [(loc, b), (loc, a)] if i % 2 else [(loc, a), (loc, b)]
        async with tenant.db.tenant_transaction(tenant.tenant_id) as s:
            await post(
                s,
                owner,
                [Posting(lo, p, MovementKind.SALE, -1, allow_negative=True) for lo, p in keys],
            )

    async def send() -> None:
        async with tenant.db.tenant_transaction(tenant.tenant_id) as s:
            await po.send(s, owner, po.TransitionPurchaseOrder(orders[1]))

    await asyncio.gather(*(receive(i) for i in range(4)), *(sell(i) for i in range(3)), send())
    assert await ledger_mismatches(tenant.db, tenant.tenant_id) == []
    assert await incoming_mismatches(tenant) == []
    assert await _incoming(tenant, loc, a) == 4 and await _incoming(tenant, loc, b) == 4


async def test_an_order_below_the_supplier_minimum_is_held_until_it_is_reached(tenant):
    """The rule a buyer expects: no order the supplier would refuse is drafted silently."""
    await setup_supplier(tenant, pack=1, minimum="1000")
    await sell_history(tenant, "S1", "A", 3)
    await sell_history(tenant, "S1", "B", 2)
    await set_rule(tenant, "S1", "A")
    await set_rule(tenant, "S1", "B")
    owner, s1 = tenant.owner, tenant.locations["S1"]
    async with tenant.db.tenant_transaction(tenant.tenant_id) as s:
        a = await decisions.accept(s, owner, decisions.DecideSuggestion(s1, "A"))
    assert a.purchase_quantity > 0
    async with tenant.db.tenant_transaction(tenant.tenant_id) as s:
        drafts = await decisions.draft_purchase_orders(s, owner, (s1,))
    assert drafts.orders == []
    (held,) = drafts.held
    value = Decimal("3.50") * a.purchase_quantity
    assert (held.location_id, held.lines, held.units) == (s1, 1, a.purchase_quantity)
    assert (held.order_value, held.min_order_value) == (value, Decimal("1000.00"))
    assert held.shortfall == Decimal("1000.00") - value
    # still accepted and counted as on the way: nothing is suggested twice meanwhile
    waiting = await suggestion(tenant, "S1", "A")
    assert waiting is not None and waiting.accepted_not_ordered == a.purchase_quantity

    # B accepted too: both wait for the same order to the same supplier
    async with tenant.db.tenant_transaction(tenant.tenant_id) as s:
        b = await decisions.accept(s, owner, decisions.DecideSuggestion(s1, "B"))
        drafts = await decisions.draft_purchase_orders(s, owner, (s1,))
    assert drafts.orders == []
    (held,) = drafts.held
    assert (held.lines, held.units) == (2, a.purchase_quantity + b.purchase_quantity)

    # lowering the minimum below the order's value lets it be drafted whole
    async with tenant.db.tenant_transaction(tenant.tenant_id) as s:
        await s.execute(
            text("UPDATE suppliers SET min_order_value = :m WHERE tenant_id = :t"),
            {"m": held.order_value, "t": tenant.tenant_id},
        )
        drafts = await decisions.draft_purchase_orders(s, owner, (s1,))
    assert drafts.held == []
    (order,) = drafts.orders
    assert sorted((ln.product_id, ln.quantity) for ln in order.order.lines) == sorted(
        [
            (tenant.products["A"], a.purchase_quantity),
            (tenant.products["B"], b.purchase_quantity),
        ]
    )


async def test_a_buyer_may_draft_below_the_minimum_on_purpose(tenant):
    await setup_supplier(tenant, pack=1, minimum="1000")
    await sell_history(tenant, "S1", "A", 3)
    await set_rule(tenant, "S1", "A")
    s1 = tenant.locations["S1"]
    async with tenant.db.tenant_transaction(tenant.tenant_id) as s:
        a = await decisions.accept(s, tenant.owner, decisions.DecideSuggestion(s1, "A"))
        drafts = await decisions.draft_purchase_orders(
            s, tenant.owner, (s1,), allow_below_minimum=True
        )
    assert drafts.held == []
    (order,) = drafts.orders
    assert [ln.quantity for ln in order.order.lines] == [a.purchase_quantity]
    waiting = await suggestion(tenant, "S1", "A")
    assert waiting is not None and waiting.accepted_not_ordered == 0
