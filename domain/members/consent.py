"""The consent ledger: append-only rows; the current state is the latest row per channel.

Withdrawal is one row, and the state is computed from the ledger on every read,
so it holds for every app and every audience as soon as its transaction
commits; only a later explicit opt-in (another row) re-enables the channel.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, false, func, select, text, true
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Member, MemberConsent


class Channel(StrEnum):
    SMS = "SMS"
    EMAIL = "EMAIL"
    CHAT = "CHAT"


@dataclass(frozen=True, slots=True)
class ConsentState:
    channel: Channel
    granted: bool
    wording_version: str | None
    recorded_at: datetime | None
    actor: str | None
    client_id: str | None
    staff_id: int | None


def current_state(rows: Iterable[Any]) -> list[ConsentState]:
    """Every channel, from a member's ledger rows (any order): the latest row wins;
    a channel never recorded is not granted."""
    latest: dict[str, Any] = {}
    for row in sorted(rows, key=lambda r: r.id):
        latest[row.channel] = row
    out = []
    for channel in Channel:
        row = latest.get(channel.value)
        out.append(
            ConsentState(
                channel=channel,
                granted=bool(row.granted) if row is not None else False,
                wording_version=row.wording_version if row is not None else None,
                recorded_at=row.recorded_at if row is not None else None,
                actor=row.actor if row is not None else None,
                client_id=row.client_id if row is not None else None,
                staff_id=row.staff_id if row is not None else None,
            )
        )
    return out


_CONSENTING = text(
    """
    SELECT DISTINCT ON (member_id) member_id, granted
    FROM member_consents
    WHERE tenant_id = :tenant AND channel = :channel AND member_id = ANY(:ids)
      AND member_id IN (SELECT id FROM members WHERE tenant_id = :tenant AND erased_at IS NULL)
    ORDER BY member_id, id DESC
    """
)


async def consenting(
    session: AsyncSession, tenant_id: int, channel: Channel, member_ids: Sequence[int]
) -> set[int]:
    """The members who may be contacted on ``channel`` now (for senders of any kind).

    Call it in the same transaction that sends, or right before: a withdrawal
    committed earlier is always seen."""
    rows = await session.execute(
        _CONSENTING, {"tenant": tenant_id, "channel": channel.value, "ids": list(member_ids)}
    )
    return {r.member_id for r in rows if r.granted}


def granted_now(channel: Channel) -> ColumnElement[bool]:
    """A condition on ``members``: the latest ledger entry for ``channel`` grants it
    (the same rule as ``current_state`` and ``consenting``: a withdrawal wins at once)."""
    m, c = Member.__table__, MemberConsent.__table__
    latest = (
        select(c.c.granted)
        .where(
            c.c.tenant_id == m.c.tenant_id, c.c.member_id == m.c.id, c.c.channel == channel.value
        )
        .order_by(c.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(latest, false()).is_(true())
