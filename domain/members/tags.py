"""Computed member tags: pure rules over a member's purchase figures, and the functions
that recompute them for one member (after a linked sale) or a whole tenant (on a schedule).

Computed tags live in ``member_computed_tags``, apart from the hand-set ``members.tags``,
so recomputing never touches a tag set by hand. Every rule takes ``now`` explicitly.

Tags (``N`` days since the latest purchase, counts and totals over rolling windows ending
at ``now``; sales after ``now`` are ignored):

- ``recency:30d`` / ``recency:90d`` / ``recency:180d`` / ``recency:365d`` /
  ``recency:over365d``: the smallest band holding N, while N <= the lapsed threshold;
  ``recency:lapsed`` and ``lapsed`` when N > the threshold (default 180 days).
  No purchase at all: no recency tag.
- ``frequency:90d:<band>`` and ``frequency:365d:<band>``: purchases (sales) in the last
  90 / 365 days, bands ``1``, ``2-4``, ``5-11``, ``12+`` (no tag at zero).
- ``spend:<CUR>:<band>``: the total spent in each currency over 365 days, bands
  ``0-499``, ``500-1999``, ``2000-9999``, ``10000+`` (no tag at zero or below).
- ``favourite:<category>``: the product category with the most units over 365 days
  (ties: more spend, then the name); products without a category do not count.
- ``vip``: the tenant's rule: spend over 365 days in the tenant's currency >=
  ``vip_min_spend`` (default 10000) or purchases over 365 days >= ``vip_min_purchases``
  (default 24); a ``None`` threshold is not used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, exists, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from auth.permissions import Permission
from db.models import Member, MemberComputedTags
from domain.access import require
from domain.audit.service import AuditEntry
from domain.errors import InvalidInput

RECENCY_BANDS = (30, 90, 180, 365)
COUNT_BANDS = ((12, "12+"), (5, "5-11"), (2, "2-4"), (1, "1"))
SPEND_BANDS = (
    (Decimal(10000), "10000+"),
    (Decimal(2000), "2000-9999"),
    (Decimal(500), "500-1999"),
    (Decimal("0.01"), "0-499"),
)
FAVOURITE = "favourite:"
MAX_TAG = 64
MAX_LAPSED_DAYS = 3650


@dataclass(frozen=True, slots=True)
class TagRule:
    """A tenant's VIP rule and lapsed threshold (the defaults until one is set)."""

    vip_min_spend: Decimal | None = Decimal(10000)
    vip_min_purchases: int | None = 24
    lapsed_days: int = 180


DEFAULT_RULE = TagRule()


@dataclass(frozen=True, slots=True)
class CategoryTotal:
    category: str
    units: int
    spend: Decimal


@dataclass(frozen=True, slots=True)
class MemberStats:
    """One member's purchase figures as of ``now``."""

    last_purchase_at: datetime | None = None
    purchases_90d: int = 0
    purchases_365d: int = 0
    spend_365d: Mapping[str, Decimal] = field(default_factory=dict)
    categories: Sequence[CategoryTotal] = ()


def recency_tags(last_purchase_at: datetime | None, now: datetime, lapsed_days: int) -> list[str]:
    if last_purchase_at is None:
        return []
    days = max((now - last_purchase_at).days, 0)
    if days > lapsed_days:
        return ["lapsed", "recency:lapsed"]
    band = next((b for b in RECENCY_BANDS if days <= b), None)
    return [f"recency:{band}d" if band is not None else "recency:over365d"]


def _count_band(count: int) -> str | None:
    return next((name for floor, name in COUNT_BANDS if count >= floor), None)


def frequency_tags(purchases_90d: int, purchases_365d: int) -> list[str]:
    out = []
    for window, count in (("90d", purchases_90d), ("365d", purchases_365d)):
        band = _count_band(count)
        if band is not None:
            out.append(f"frequency:{window}:{band}")
    return out


def spend_tags(spend: Mapping[str, Decimal]) -> list[str]:
    out = []
    for currency in sorted(spend):
        band = next((name for floor, name in SPEND_BANDS if spend[currency] >= floor), None)
        if band is not None:
            out.append(f"spend:{currency}:{band}")
    return out


def favourite_tag(categories: Sequence[CategoryTotal]) -> str | None:
    usable = [c for c in categories if c.category.strip() and c.units > 0]
    if not usable:
        return None
    best = min(usable, key=lambda c: (-c.units, -c.spend, c.category.strip()))
    return (FAVOURITE + best.category.strip())[:MAX_TAG]


def is_vip(stats: MemberStats, rule: TagRule, currency: str) -> bool:
    spent = stats.spend_365d.get(currency, Decimal(0))
    by_spend = rule.vip_min_spend is not None and spent >= rule.vip_min_spend
    by_count = rule.vip_min_purchases is not None and stats.purchases_365d >= rule.vip_min_purchases
    return by_spend or by_count


def compute_tags(stats: MemberStats, rule: TagRule, currency: str, now: datetime) -> list[str]:
    """Every computed tag of one member, sorted."""
    tags = [
        *recency_tags(stats.last_purchase_at, now, rule.lapsed_days),
        *frequency_tags(stats.purchases_90d, stats.purchases_365d),
        *spend_tags(stats.spend_365d),
    ]
    favourite = favourite_tag(stats.categories)
    if favourite is not None:
        tags.append(favourite)
    if is_vip(stats, rule, currency):
        tags.append("vip")
    return sorted(set(tags))


def merged(hand: Sequence[str], computed: Sequence[str]) -> list[str]:
    """What ``Member.tags`` shows: hand-set tags as set, then computed ones, sorted."""
    return [*hand, *sorted(t for t in set(computed) if t not in hand)]


# --- the database side -------------------------------------------------------------


def _computed() -> Any:
    m, c = Member.__table__, MemberComputedTags.__table__
    return select(c.c.member_id).where(c.c.tenant_id == m.c.tenant_id, c.c.member_id == m.c.id)


def has_tag(tag: str) -> ColumnElement[bool]:
    """A condition on ``members``: the member carries ``tag``, hand-set or computed."""
    m, c = Member.__table__, MemberComputedTags.__table__
    return or_(m.c.tags.contains([tag]), exists(_computed().where(c.c.tags.contains([tag]))))


def has_any_tag(tags: Sequence[str]) -> ColumnElement[bool]:
    """A condition on ``members``: the member carries at least one of ``tags``."""
    m, c = Member.__table__, MemberComputedTags.__table__
    wanted = list(tags)
    return or_(m.c.tags.overlap(wanted), exists(_computed().where(c.c.tags.overlap(wanted))))


_ONE = " AND member_id = :member"

_SALES = """
    SELECT member_id, currency, max(occurred_at) AS last_at,
           count(*) FILTER (WHERE occurred_at > :d90) AS n90,
           count(*) FILTER (WHERE occurred_at > :d365) AS n365,
           coalesce(sum(total) FILTER (WHERE occurred_at > :d365), 0) AS spend
    FROM sales
    WHERE tenant_id = :tenant AND member_id IS NOT NULL AND occurred_at <= :now{one}
    GROUP BY member_id, currency
"""

_CATEGORIES = """
    SELECT s.member_id, p.category, sum(-m.delta) AS units,
           coalesce(sum(-m.delta * m.unit_price), 0) AS spend
    FROM sales s
    JOIN stock_movements m ON m.tenant_id = s.tenant_id AND m.sale_id = s.id
    JOIN products p ON p.tenant_id = m.tenant_id AND p.id = m.product_id
    WHERE s.tenant_id = :tenant AND s.member_id IS NOT NULL
      AND s.occurred_at > :d365 AND s.occurred_at <= :now AND m.kind = 'SALE'
      AND p.category IS NOT NULL{one}
    GROUP BY s.member_id, p.category
"""

_UPSERT = text(
    """
    INSERT INTO member_computed_tags (tenant_id, member_id, tags, computed_at)
    VALUES (:tenant, :member, :tags, :now)
    ON CONFLICT (tenant_id, member_id)
    DO UPDATE SET tags = EXCLUDED.tags, computed_at = EXCLUDED.computed_at
    """
)

_RULE = text(
    "SELECT vip_min_spend, vip_min_purchases, lapsed_days FROM member_tag_rules "
    "WHERE tenant_id = :tenant"
)
_CURRENCY = text("SELECT currency FROM tenants WHERE tenant_id = :tenant")


async def tag_rule(session: AsyncSession, tenant_id: int) -> TagRule:
    row = (await session.execute(_RULE, {"tenant": tenant_id})).first()
    if row is None:
        return DEFAULT_RULE
    return TagRule(row.vip_min_spend, row.vip_min_purchases, row.lapsed_days)


async def member_stats(
    session: AsyncSession, tenant_id: int, now: datetime, member_id: int | None = None
) -> dict[int, MemberStats]:
    """Purchase figures per member with sales (one member, or every one of the tenant)."""
    params: dict[str, Any] = {
        "tenant": tenant_id,
        "now": now,
        "d90": now - timedelta(days=90),
        "d365": now - timedelta(days=365),
    }
    one = ""
    if member_id is not None:
        params["member"] = member_id
        one = _ONE
    acc: dict[int, dict[str, Any]] = {}
    for r in await session.execute(text(_SALES.format(one=one)), params):
        a = acc.setdefault(r.member_id, {"last": None, "n90": 0, "n365": 0, "spend": {}, "c": []})
        a["last"] = r.last_at if a["last"] is None else max(a["last"], r.last_at)
        a["n90"] += r.n90
        a["n365"] += r.n365
        if r.spend:
            a["spend"][r.currency] = Decimal(r.spend)
    one = _ONE.replace("member_id", "s.member_id") if member_id is not None else ""
    for r in await session.execute(text(_CATEGORIES.format(one=one)), params):
        if r.member_id in acc:
            acc[r.member_id]["c"].append(CategoryTotal(r.category, int(r.units), Decimal(r.spend)))
    return {
        m: MemberStats(a["last"], a["n90"], a["n365"], a["spend"], tuple(a["c"]))
        for m, a in acc.items()
    }


async def _currency(session: AsyncSession, tenant_id: int) -> str:
    return str((await session.execute(_CURRENCY, {"tenant": tenant_id})).scalar_one())


async def recompute_member(
    session: AsyncSession, tenant_id: int, member_id: int, *, now: datetime
) -> list[str]:
    """One member's computed tags, recomputed and stored (cheap: a few aggregates)."""
    rule = await tag_rule(session, tenant_id)
    currency = await _currency(session, tenant_id)
    stats = (await member_stats(session, tenant_id, now, member_id)).get(member_id, MemberStats())
    tags = compute_tags(stats, rule, currency, now)
    await session.execute(
        _UPSERT, {"tenant": tenant_id, "member": member_id, "tags": tags, "now": now}
    )
    return tags


async def recompute_tenant(session: AsyncSession, tenant_id: int, *, now: datetime) -> int:
    """Every live member of the tenant; erased members lose their computed tags.
    Returns how many members were recomputed."""
    rule = await tag_rule(session, tenant_id)
    currency = await _currency(session, tenant_id)
    stats = await member_stats(session, tenant_id, now)
    await session.execute(
        text(
            "DELETE FROM member_computed_tags c USING members m WHERE c.tenant_id = :tenant "
            "AND m.tenant_id = c.tenant_id AND m.id = c.member_id AND m.erased_at IS NOT NULL"
        ),
        {"tenant": tenant_id},
    )
    member_ids = (
        await session.execute(
            text("SELECT id FROM members WHERE tenant_id = :tenant AND erased_at IS NULL"),
            {"tenant": tenant_id},
        )
    ).scalars()
    rows = [
        {
            "tenant": tenant_id,
            "member": m,
            "tags": compute_tags(stats.get(m, MemberStats()), rule, currency, now),
            "now": now,
        }
        for m in member_ids
    ]
    if rows:
        await session.execute(_UPSERT, rows)
    return len(rows)


async def recompute_all(
    session: AsyncSession, *, now: datetime, tenant_id: int | None = None
) -> dict[int, int]:
    """Every tenant (an owner session), or one: members recomputed per tenant."""
    tenants = (
        [tenant_id]
        if tenant_id is not None
        else list(
            (
                await session.execute(text("SELECT tenant_id FROM tenants ORDER BY tenant_id"))
            ).scalars()
        )
    )
    return {t: await recompute_tenant(session, t, now=now) for t in tenants}


_LOCK = text("SELECT pg_try_advisory_xact_lock(hashtext('stockgraph.members.retag'))")


async def scheduled_recompute(session: AsyncSession, *, now: datetime) -> dict[int, int] | None:
    """``recompute_all`` unless another process is already at it (then None)."""
    if not (await session.execute(_LOCK)).scalar_one():
        return None
    return await recompute_all(session, now=now)


# --- the tenant's rule ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SetTagRule:
    vip_min_spend: Decimal | None
    vip_min_purchases: int | None
    lapsed_days: int


@dataclass(frozen=True, slots=True)
class TagRuleChange:
    tenant_id: int
    rule: TagRule

    def audit(self) -> AuditEntry:
        return AuditEntry(
            action="member.set_tag_rule",
            target_type="MemberTagRule",
            after={
                "vipMinSpend": str(self.rule.vip_min_spend)
                if self.rule.vip_min_spend is not None
                else None,
                "vipMinPurchases": self.rule.vip_min_purchases,
                "lapsedDays": self.rule.lapsed_days,
            },
        )


async def set_tag_rule(session: AsyncSession, caller: Caller, cmd: SetTagRule) -> TagRuleChange:
    """Replaces the tenant's rule (admin); tags follow at the next recompute."""
    require(caller, Permission.ADMIN)
    if cmd.vip_min_spend is not None and not Decimal(0) <= cmd.vip_min_spend < Decimal(10) ** 12:
        raise InvalidInput("vipMinSpend must be 0 or more", ["vipMinSpend"])
    if cmd.vip_min_purchases is not None and not 1 <= cmd.vip_min_purchases <= 100_000:
        raise InvalidInput("vipMinPurchases must be 1 to 100000", ["vipMinPurchases"])
    if not 1 <= cmd.lapsed_days <= MAX_LAPSED_DAYS:
        raise InvalidInput(f"lapsedDays must be 1 to {MAX_LAPSED_DAYS}", ["lapsedDays"])
    await session.execute(
        text(
            """
            INSERT INTO member_tag_rules (tenant_id, vip_min_spend, vip_min_purchases, lapsed_days)
            VALUES (:tenant, :spend, :count, :days)
            ON CONFLICT (tenant_id) DO UPDATE SET vip_min_spend = EXCLUDED.vip_min_spend,
              vip_min_purchases = EXCLUDED.vip_min_purchases,
              lapsed_days = EXCLUDED.lapsed_days, updated_at = now()
            """
        ),
        {
            "tenant": caller.tenant_id,
            "spend": cmd.vip_min_spend,
            "count": cmd.vip_min_purchases,
            "days": cmd.lapsed_days,
        },
    )
    return TagRuleChange(
        caller.tenant_id, TagRule(cmd.vip_min_spend, cmd.vip_min_purchases, cmd.lapsed_days)
    )
