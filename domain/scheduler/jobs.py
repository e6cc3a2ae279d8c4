"""The periodic jobs of ``stockgraph serve``, each a function of (session, tenant, now)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from domain.audit.service import append
from domain.members import tags
from domain.offers import service as offers
from domain.replenishment import alerts
from domain.scheduler.runner import Job

FORECAST_REFRESH = "forecast_refresh"
HOLIDAY_CHECK = "holiday_check"
OFFER_TRIGGERS = "offer_triggers"
MEMBER_RETAG = "member_retag"


def _offer_triggers(master: bytes):  # type: ignore[no-untyped-def]
    async def work(session: AsyncSession, tenant_id: int, now: datetime) -> dict[str, int]:
        caller = Caller.system(tenant_id)
        result = await offers.run_triggers(
            session, caller, master, offers.RunOfferTriggers(now=now)
        )
        await append(session, caller, result.audit(), request_id=f"job:{OFFER_TRIGGERS}")
        return {"rules": result.rules, "fired": result.fired, "failed": result.failed}

    return work


async def _member_retag(session: AsyncSession, tenant_id: int, now: datetime) -> dict[str, int]:
    return {"members": await tags.recompute_tenant(session, tenant_id, now=now)}


def default_jobs(
    master_key: bytes,
    *,
    period_seconds: float = 0,
    member_retag_minutes: float = 60.0,
) -> list[Job]:
    """``period_seconds`` > 0 replaces every period by one of that length (for tests)."""

    def every(natural: str | float) -> str | float:
        return period_seconds if period_seconds > 0 else natural

    jobs = [
        Job(FORECAST_REFRESH, every("day"), alerts.refresh_forecasts, at_hour=2),
        Job(HOLIDAY_CHECK, every("hour"), alerts.holiday_check),
        Job(OFFER_TRIGGERS, every("hour"), _offer_triggers(master_key)),
    ]
    if member_retag_minutes > 0:
        jobs.append(Job(MEMBER_RETAG, every(member_retag_minutes * 60), _member_retag))
    return jobs
