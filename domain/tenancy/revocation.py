"""Revocation epochs: how tokens issued before a disable or a secret rotation are refused.

Each subject (``app:<client id>``, ``staff:<id>``) has an epoch, 0 until the first
revocation. Tokens carry the epoch they were issued under (claim ``rev``); a token
whose epoch is below its subject's current one is refused by every process once
it has reloaded the table (``auth.revocations``). Bumping happens in the same
transaction as the change that causes it, so a token issued concurrently under
the old epoch is refused too. Only subjects ever revoked have a row.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_BUMP = text(
    """
    INSERT INTO token_revocations AS r (tenant_id, subject, epoch, changed_at)
    VALUES (:tenant, :subject, 1, now())
    ON CONFLICT (tenant_id, subject) DO UPDATE SET epoch = r.epoch + 1, changed_at = now()
    RETURNING r.epoch
    """
)
_ONE = text("SELECT epoch FROM token_revocations WHERE tenant_id = :tenant AND subject = :subject")
_ALL = text("SELECT tenant_id, subject, epoch FROM token_revocations")


def app_subject(client_id: str) -> str:
    return f"app:{client_id}"


def staff_subject(staff_id: int) -> str:
    return f"staff:{staff_id}"


async def bump(session: AsyncSession, tenant_id: int, subject: str) -> int:
    """Refuse every token of ``subject`` issued so far; the new epoch."""
    return int(
        (await session.execute(_BUMP, {"tenant": tenant_id, "subject": subject})).scalar_one()
    )


async def current_epoch(session: AsyncSession, tenant_id: int, subject: str) -> int:
    """The epoch a token issued now carries."""
    value = (await session.execute(_ONE, {"tenant": tenant_id, "subject": subject})).scalar()
    return int(value) if value is not None else 0


async def all_epochs(session: AsyncSession) -> dict[tuple[int, str], int]:
    """Every subject's epoch, for every tenant (the schema owner's session)."""
    return {(r.tenant_id, r.subject): r.epoch for r in await session.execute(_ALL)}
