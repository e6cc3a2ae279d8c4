"""Members' sealed contact details, opened to send a message they consented to.

This is processing for a purpose the member agreed to, not a person reading the
data: it is not a ``member.pii_read`` per member; the run that opens them records
one audit event saying how many members' data it processed (no values).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Member
from domain.members import crypto, keys
from domain.members.service import TABLE

M = cast(Table, Member.__table__)


@dataclass(frozen=True, slots=True)
class Contact:
    name: str
    home_location_id: int | None
    phone: str | None
    email: str | None
    birthday: str | None


async def contacts(
    session: AsyncSession, tenant_id: int, master: bytes, member_ids: Sequence[int] | None
) -> dict[int, Contact]:
    """Live (not erased) members of the tenant, all of them when ``member_ids`` is None."""
    stmt = select(M).where(M.c.tenant_id == tenant_id, M.c.erased_at.is_(None))
    if member_ids is not None:
        stmt = stmt.where(M.c.id.in_(list(member_ids)))
    rows = (await session.execute(stmt)).all()
    tkeys = await keys.tenant_keys(session, tenant_id, master)
    if tkeys is None or not rows:
        return {}
    member_keys = await keys.member_keys(session, tkeys, [r.id for r in rows])
    out: dict[int, Contact] = {}
    for r in rows:
        key = member_keys.get(r.id)
        if key is None:
            continue

        def plain(column: str, row: Any = r, key: bytes = key) -> str | None:
            blob = getattr(row, column)
            if blob is None:
                return None
            return crypto.decrypt_field(key, blob, tenant_id, TABLE, column, row.id)

        out[r.id] = Contact(
            name=r.name,
            home_location_id=r.home_location_id,
            phone=plain("phone"),
            email=plain("email"),
            birthday=plain("birthday"),
        )
    return out
