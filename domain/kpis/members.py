"""Member KPIs over days ``start``..``end`` (tenant time), optionally for one home store.

- repurchase rate = members with two or more sales in the period ÷ members with one or more;
- lifetime value per segment (the member's tier) = mean of each member's total spend
  over all time (sales totals), with the member count;
- offer conversion = coupons of triggered offers redeemed ÷ offer messages sent
  (offer firings), both counted on the day the offer fired.
A ratio whose denominator is zero is null.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from auth.permissions import Permission
from domain.access import require
from domain.kpis.inventory import KpiQuery, check_period, ratio
from domain.periods.service import tenant_zone

_REPURCHASE = text(
    """
    SELECT count(*) FILTER (WHERE n >= 2) AS repeat, count(*) AS buyers FROM (
      SELECT s.member_id, count(*) AS n FROM sales s
      JOIN members mb ON mb.tenant_id = s.tenant_id AND mb.id = s.member_id
      WHERE s.tenant_id = :tenant AND s.member_id IS NOT NULL
        AND COALESCE(s.posted_on, CAST(timezone(:zone, s.occurred_at) AS date))
            BETWEEN :start AND :end
        AND (CAST(:location AS bigint) IS NULL
             OR mb.home_location_id = CAST(:location AS bigint))
      GROUP BY s.member_id
    ) x
    """
)

_LIFETIME = text(
    """
    SELECT mb.tier, count(*) AS members, avg(COALESCE(spend.total, 0)) AS value
    FROM members mb
    LEFT JOIN (SELECT member_id, sum(total) AS total FROM sales
               WHERE tenant_id = :tenant AND member_id IS NOT NULL GROUP BY member_id) spend
      ON spend.member_id = mb.id
    WHERE mb.tenant_id = :tenant
      AND (CAST(:location AS bigint) IS NULL OR mb.home_location_id = CAST(:location AS bigint))
    GROUP BY mb.tier ORDER BY mb.tier
    """
)

_OFFERS = text(
    """
    SELECT count(*) AS sent, count(c.redeemed_at) AS redeemed
    FROM offer_firings f
    JOIN members mb ON mb.tenant_id = f.tenant_id AND mb.id = f.member_id
    LEFT JOIN coupons c ON c.tenant_id = f.tenant_id AND c.id = f.coupon_id
    WHERE f.tenant_id = :tenant
      AND CAST(timezone(:zone, f.fired_at) AS date) BETWEEN :start AND :end
      AND (CAST(:location AS bigint) IS NULL OR mb.home_location_id = CAST(:location AS bigint))
    """
)


@dataclass(frozen=True, slots=True)
class SegmentValue:
    segment: str
    members: int
    lifetime_value: Decimal


@dataclass(frozen=True, slots=True)
class MemberKpis:
    buyers: int
    repeat_buyers: int
    repurchase_rate: Decimal | None
    lifetime_value: list[SegmentValue]
    offers_sent: int
    offers_redeemed: int
    offer_conversion: Decimal | None


async def member_kpis(session: AsyncSession, caller: Caller, query: KpiQuery) -> MemberKpis:
    """Needs members:read; spend totals are money the member paid, not costs."""
    require(caller, Permission.MEMBERS_READ)
    check_period(query.start, query.end)
    zone = await tenant_zone(session, caller.tenant_id)
    args: dict[str, Any] = {
        "tenant": caller.tenant_id,
        "zone": zone.key,
        "start": query.start,
        "end": query.end,
        "location": query.location_id,
    }
    rep = (await session.execute(_REPURCHASE, args)).one()
    offers = (await session.execute(_OFFERS, args)).one()
    return MemberKpis(
        buyers=int(rep.buyers),
        repeat_buyers=int(rep.repeat),
        repurchase_rate=ratio(rep.repeat, rep.buyers),
        lifetime_value=[
            SegmentValue(r.tier, int(r.members), Decimal(r.value).quantize(Decimal("0.01")))
            for r in await session.execute(_LIFETIME, args)
        ],
        offers_sent=int(offers.sent),
        offers_redeemed=int(offers.redeemed),
        offer_conversion=ratio(offers.redeemed, offers.sent),
    )
