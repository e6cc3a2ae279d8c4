"""Offer rules and their runs: evaluate on a clock, fire once, issue a coupon, message
the member on the channels they consent to now.

Each firing runs in a savepoint of the run's transaction: its ``offer_firings`` row
(unique per rule, member and occasion), its coupon and its notifications stand or
fall together. A concurrent run inserting the same firing waits for the first and
then skips it, so reruns and overlapping runs never fire twice.

Consent: ``consenting()`` is asked per firing and channel, in the transaction that
queues, so a withdrawal committed before is always honoured. Without consent on a
channel nothing is queued on it; the coupon is still issued (it is not a message:
the member can be offered it at the till), and the run counts the skip.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Row, Table, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from auth.permissions import Permission
from db.models import Location, OfferFiring, OfferRule, Product, Tenant
from domain import ids
from domain.access import require
from domain.audit.service import AuditEntry
from domain.catalog.lookup import location_row
from domain.coupons.service import IssueCoupon, check_value, create_coupon
from domain.errors import DomainError, Forbidden, InvalidInput
from domain.members.consent import Channel, consenting
from domain.notifications.service import NewNotification, queue
from domain.offers import rules
from domain.offers.contacts import Contact, contacts
from domain.offers.rules import RuleKind
from domain.pagination import Page, make_page

R = cast(Table, OfferRule.__table__)
F = cast(Table, OfferFiring.__table__)
DEFAULT_LOOKBACK_DAYS = 90


@dataclass(frozen=True, slots=True)
class CreateOfferRule:
    name: str
    kind: RuleKind
    channels: tuple[Channel, ...]
    body: str
    subject: str | None = None
    days_before: int | None = None
    grace_days: int = 0
    lookback_days: int = DEFAULT_LOOKBACK_DAYS
    amount_off: Decimal | None = None
    percent_off: Decimal | None = None
    validity_days: int = 30
    location_ids: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class RunOfferTriggers:
    now: datetime | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    """One firing a rule asks for: who, on which occasion (the once-only key)."""

    rule_id: int
    member_id: int
    occasion: str
    product_id: int | None = None
    store_id: int | None = None


@dataclass
class ChannelCount:
    queued: int = 0
    skipped_no_consent: int = 0
    skipped_no_contact: int = 0


@dataclass
class RunResult:
    now: datetime
    rules: int = 0
    candidates: int = 0
    fired: int = 0
    already_fired: int = 0
    coupons_issued: int = 0
    failed: int = 0
    members_processed: int = 0
    channels: dict[Channel, ChannelCount] = field(default_factory=lambda: defaultdict(ChannelCount))

    def audit(self) -> AuditEntry:
        """One event per run; it names how many members' sealed contact data the run
        opened to send offers (processing, not a read by a person), never the data."""
        return AuditEntry(
            action="offer.run",
            target_type="OfferRun",
            after={
                "now": self.now.isoformat(),
                "rules": self.rules,
                "fired": self.fired,
                "alreadyFired": self.already_fired,
                "couponsIssued": self.coupons_issued,
                "failed": self.failed,
                "personalDataProcessed": self.members_processed,
                "channels": {
                    c.value: {
                        "queued": n.queued,
                        "skippedNoConsent": n.skipped_no_consent,
                        "skippedNoContact": n.skipped_no_contact,
                    }
                    for c, n in sorted(self.channels.items())
                },
            },
        )


def _text(value: str | None, limit: int, path: str, required: bool = False) -> None:
    if value is None:
        if required:
            raise InvalidInput(f"{path} is required", [path])
        return
    if not 1 <= len(value.strip()) <= limit:
        raise InvalidInput(f"{path} takes 1 to {limit} characters", [path])


async def create_rule(session: AsyncSession, caller: Caller, cmd: CreateOfferRule) -> Row[Any]:
    require(caller, Permission.MEMBERS_WRITE)
    _text(cmd.name, 200, "name", required=True)
    _text(cmd.body, 2000, "body", required=True)
    _text(cmd.subject, 200, "subject")
    if cmd.subject is not None and ("\n" in cmd.subject or "\r" in cmd.subject):
        raise InvalidInput("subject must be one line", ["subject"])
    rules.check_template(cmd.body, ["body"])
    if cmd.subject is not None:
        rules.check_template(cmd.subject, ["subject"])
    if not cmd.channels or len(set(cmd.channels)) != len(cmd.channels):
        raise InvalidInput("one or more channels, each once", ["channels"])
    if Channel.EMAIL in cmd.channels and cmd.subject is None:
        raise InvalidInput("an email needs a subject", ["subject"])
    if cmd.kind == RuleKind.BIRTHDAY and not (
        cmd.days_before is not None and 0 <= cmd.days_before <= 60
    ):
        raise InvalidInput("a birthday rule needs daysBefore from 0 to 60", ["daysBefore"])
    if not 0 <= cmd.grace_days <= 365:
        raise InvalidInput("graceDays is 0 to 365", ["graceDays"])
    if not 1 <= cmd.lookback_days <= 730:
        raise InvalidInput("lookbackDays is 1 to 730", ["lookbackDays"])
    if not 1 <= cmd.validity_days <= 365:
        raise InvalidInput("validityDays is 1 to 365", ["validityDays"])
    check_value(cmd.amount_off, cmd.percent_off)
    stores = None
    if cmd.location_ids is not None:
        if not cmd.location_ids:
            raise InvalidInput("one or more stores, or none for all", ["locationIds"])
        stores = sorted(
            {(await location_row(session, caller, i, ["locationIds"])).id for i in cmd.location_ids}
        )
    return (
        await session.execute(
            insert(R)
            .values(
                tenant_id=caller.tenant_id,
                name=cmd.name.strip(),
                kind=cmd.kind.value,
                days_before=cmd.days_before if cmd.kind == RuleKind.BIRTHDAY else None,
                grace_days=cmd.grace_days,
                lookback_days=cmd.lookback_days,
                amount_off=cmd.amount_off,
                percent_off=cmd.percent_off,
                validity_days=cmd.validity_days,
                location_ids=stores,
                channels=[c.value for c in cmd.channels],
                subject=cmd.subject,
                body=cmd.body,
                active=True,
                created_by=caller.subject[:100],
            )
            .returning(R)
        )
    ).one()


async def list_rules(
    session: AsyncSession, caller: Caller, *, limit: int, after: int | None
) -> Page[Row[Any]]:
    require(caller, Permission.MEMBERS_READ)
    stmt = select(R).where(R.c.tenant_id == caller.tenant_id)
    if after is not None:
        stmt = stmt.where(R.c.id > after)
    rows = (await session.execute(stmt.order_by(R.c.id).limit(limit + 1))).all()
    return make_page(rows, limit, after is not None)


def audit_rule(row: Row[Any]) -> AuditEntry:
    return AuditEntry(
        action="offer_rule.create",
        target_type="OfferRule",
        target_id=ids.encode("OfferRule", row.id),
        after={"name": row.name, "kind": row.kind, "channels": list(row.channels)},
    )


_PURCHASES = text(
    """
    SELECT DISTINCT s.member_id, m.product_id, s.id AS sale_id, s.occurred_at
    FROM sales s
    JOIN stock_movements m ON m.tenant_id = s.tenant_id AND m.sale_id = s.id AND m.kind = 'SALE'
    JOIN members mb ON mb.tenant_id = s.tenant_id AND mb.id = s.member_id
    WHERE s.tenant_id = :t AND s.member_id IS NOT NULL AND mb.erased_at IS NULL
      AND s.occurred_at <= :now
    """
)

_CROSS_STORE = text(
    """
    WITH bought AS (
      SELECT DISTINCT s.member_id, m.product_id
      FROM sales s
      JOIN stock_movements m ON m.tenant_id = s.tenant_id AND m.sale_id = s.id AND m.kind = 'SALE'
      WHERE s.tenant_id = :t AND s.member_id IS NOT NULL
        AND s.occurred_at > :since AND s.occurred_at <= :now
    )
    SELECT b.member_id, b.product_id, mb.home_location_id,
      (SELECT l.location_id FROM stock_levels l
         JOIN locations loc ON loc.tenant_id = l.tenant_id AND loc.id = l.location_id
        WHERE l.tenant_id = :t AND l.product_id = b.product_id
          AND l.location_id <> mb.home_location_id AND loc.kind = 'STORE'
          AND l.on_hand - l.reserved > 0
        ORDER BY l.on_hand - l.reserved DESC, l.location_id LIMIT 1) AS other_store
    FROM bought b
    JOIN members mb ON mb.tenant_id = :t AND mb.id = b.member_id
    WHERE mb.erased_at IS NULL AND mb.home_location_id IS NOT NULL
      AND COALESCE((SELECT h.on_hand - h.reserved FROM stock_levels h
                     WHERE h.tenant_id = :t AND h.location_id = mb.home_location_id
                       AND h.product_id = b.product_id), 0) <= 0
    ORDER BY b.member_id, b.product_id
    """
)


async def _tenant_zone(session: AsyncSession, tenant_id: int) -> ZoneInfo:
    tz = (
        await session.execute(select(Tenant.timezone).where(Tenant.tenant_id == tenant_id))
    ).scalar_one()
    return ZoneInfo(tz)


async def evaluate(
    session: AsyncSession,
    caller: Caller,
    master: bytes,
    rule: Row[Any],
    now: datetime,
    people: dict[int, Contact] | None = None,
) -> list[Candidate]:
    """The firings ``rule`` asks for at ``now`` (nothing is written; the clock is given).
    Occasions already fired are included: firing skips them by their unique key."""
    t = caller.tenant_id
    zone = await _tenant_zone(session, t)
    today = now.astimezone(zone).date()
    kind = RuleKind(rule.kind)
    out: list[Candidate] = []
    if kind == RuleKind.BIRTHDAY:
        people = people if people is not None else await contacts(session, t, master, None)
        for member_id in sorted(people):
            birthday = people[member_id].birthday
            if birthday is None:
                continue
            occasion = rules.birthday_occasion(birthday, today, rule.days_before or 0)
            if occasion is not None:
                out.append(Candidate(rule.id, member_id, occasion))
    elif kind == RuleKind.REPLENISHMENT_DUE:
        bought: dict[tuple[int, int], list[tuple[int, datetime]]] = defaultdict(list)
        for r in await session.execute(_PURCHASES, {"t": t, "now": now}):
            bought[(r.member_id, r.product_id)].append((r.sale_id, r.occurred_at))
        grace = timedelta(days=rule.grace_days)
        for (member_id, product_id), purchases in sorted(bought.items()):
            last_sale = rules.replenishment_due(purchases, now, grace)
            if last_sale is not None:
                out.append(
                    Candidate(rule.id, member_id, f"replenish:{product_id}:{last_sale}", product_id)
                )
    else:
        since = now - timedelta(days=rule.lookback_days)
        for r in await session.execute(_CROSS_STORE, {"t": t, "now": now, "since": since}):
            if r.other_store is not None:
                out.append(
                    Candidate(
                        rule.id,
                        r.member_id,
                        f"cross:{r.product_id}:{today.isoformat()}",
                        r.product_id,
                        r.other_store,
                    )
                )
    return out


def _recipient(channel: Channel, person: Contact) -> str | None:
    return person.email if channel == Channel.EMAIL else person.phone


async def _names(session: AsyncSession, model: Any, tenant_id: int, keys: set[int]) -> dict:
    if not keys:
        return {}
    rows = await session.execute(
        select(model.id, model.name_zh).where(model.tenant_id == tenant_id, model.id.in_(keys))
    )
    return {r.id: r.name_zh for r in rows}


async def _fire(
    session: AsyncSession,
    caller: Caller,
    rule: Row[Any],
    cand: Candidate,
    person: Contact,
    now: datetime,
    zone: ZoneInfo,
    labels: dict[str, dict[int, str]],
    result: RunResult,
) -> None:
    fired = (
        await session.execute(
            insert(F)
            .values(
                tenant_id=caller.tenant_id,
                rule_id=rule.id,
                member_id=cand.member_id,
                occasion=cand.occasion,
                fired_at=now,
            )
            .on_conflict_do_nothing(
                index_elements=["tenant_id", "rule_id", "member_id", "occasion"]
            )
            .returning(F.c.id)
        )
    ).scalar_one_or_none()
    if fired is None:
        result.already_fired += 1
        return
    stores = rule.location_ids
    if stores is None and cand.store_id is not None:
        stores = [cand.store_id]
    coupon = await create_coupon(
        session,
        caller,
        IssueCoupon(
            valid_from=now,
            valid_until=now + timedelta(days=rule.validity_days),
            amount_off=rule.amount_off,
            percent_off=rule.percent_off,
            location_ids=tuple(stores) if stores is not None else None,
            member_id=cand.member_id,
            rule_id=rule.id,
        ),
    )
    await session.execute(
        F.update()
        .where(F.c.tenant_id == caller.tenant_id, F.c.id == fired)
        .values(coupon_id=coupon.id)
    )
    store = cand.store_id if cand.store_id is not None else person.home_location_id
    value = (
        f"{coupon.currency} {coupon.amount_off}"
        if coupon.amount_off is not None
        else f"{coupon.percent_off.normalize():f}%"
    )
    values = {
        "name": person.name,
        "coupon": coupon.code,
        "store": labels["stores"].get(store, "") if store is not None else "",
        "product": labels["products"].get(cand.product_id, "") if cand.product_id else "",
        "value": value,
        "valid_until": coupon.valid_until.astimezone(zone).date().isoformat(),
    }
    sent: list[tuple[Channel, str]] = []
    for channel in (Channel(c) for c in rule.channels):
        counts = result.channels[channel]
        if cand.member_id not in await consenting(
            session, caller.tenant_id, channel, [cand.member_id]
        ):
            counts.skipped_no_consent += 1
            continue
        recipient = _recipient(channel, person)
        if recipient is None:
            counts.skipped_no_contact += 1
            continue
        await queue(
            session,
            caller,
            NewNotification(
                channel=channel.value,
                recipient=recipient,
                body=rules.render(rule.body, values),
                subject=rules.render(rule.subject, values) if rule.subject else None,
                template=f"offer:{rule.kind.lower()}",
                reference=ids.encode("Coupon", coupon.id),
                member_id=cand.member_id,
                consent_checked=True,
            ),
        )
        sent.append((channel, recipient))
    for channel, _ in sent:
        result.channels[channel].queued += 1
    result.fired += 1
    result.coupons_issued += 1


async def run_triggers(
    session: AsyncSession, caller: Caller, master: bytes, cmd: RunOfferTriggers
) -> RunResult:
    if not (caller.has(Permission.MEMBERS_WRITE) or caller.has(Permission.ADMIN)):
        raise Forbidden("members:write or admin is required")
    if cmd.now is not None and cmd.now.tzinfo is None:
        raise InvalidInput("now needs a time zone offset", ["now"])
    now = cmd.now or (await session.execute(select(func.now()))).scalar_one()
    now = now.astimezone(UTC)
    t = caller.tenant_id
    zone = await _tenant_zone(session, t)
    active = (
        await session.execute(
            select(R).where(R.c.tenant_id == t, R.c.active.is_(True)).order_by(R.c.id)
        )
    ).all()
    result = RunResult(now=now, rules=len(active))
    if not active:
        return result
    people = await contacts(session, t, master, None)
    plan = [
        (rule, c)
        for rule in active
        for c in await evaluate(session, caller, master, rule, now, people)
    ]
    result.candidates = len(plan)
    labels = {
        "stores": await _names(
            session,
            Location,
            t,
            {c.store_id for _, c in plan if c.store_id}
            | {p.home_location_id for p in people.values() if p.home_location_id},
        ),
        "products": await _names(
            session, Product, t, {c.product_id for _, c in plan if c.product_id}
        ),
    }
    for rule, cand in plan:
        person = people.get(cand.member_id)
        if person is None:
            continue
        try:
            async with session.begin_nested():
                await _fire(session, caller, rule, cand, person, now, zone, labels, result)
        except DomainError:
            result.failed += 1
    result.members_processed = len(people)
    return result
