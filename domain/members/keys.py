"""Key material in the database: the tenant's wrapped keys, each member's wrapped key."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import MemberKey, MemberTenantKey
from domain.members import crypto


class DataKeyMismatch(RuntimeError):
    """The tenant's keys were wrapped by another master key than the one configured."""


@dataclass(frozen=True, slots=True)
class TenantKeys:
    tenant_id: int
    data_key: bytes
    index_key: bytes

    def phone_index(self, normalised_phone: str) -> bytes:
        return crypto.blind_index(self.index_key, normalised_phone)


_CREATE = text(
    """
    INSERT INTO member_tenant_keys (tenant_id, master_key_id, wrapped_data_key, wrapped_index_key)
    VALUES (:tenant, :kid, :data, :index)
    ON CONFLICT (tenant_id) DO NOTHING
    """
)


async def tenant_keys(
    session: AsyncSession, tenant_id: int, master: bytes, *, create: bool = False
) -> TenantKeys | None:
    """The tenant's unwrapped keys; made on first use when ``create`` (race-free)."""
    table = MemberTenantKey.__table__
    stmt = select(table).where(table.c.tenant_id == tenant_id)
    row = (await session.execute(stmt)).first()
    if row is None and create:
        await session.execute(
            _CREATE,
            {
                "tenant": tenant_id,
                "kid": crypto.key_id(master),
                "data": crypto.wrap_key(
                    master, crypto.new_key(), crypto.tenant_key_aad(tenant_id, "data")
                ),
                "index": crypto.wrap_key(
                    master, crypto.new_key(), crypto.tenant_key_aad(tenant_id, "index")
                ),
            },
        )
        row = (await session.execute(stmt)).first()
    if row is None:
        return None
    if row.master_key_id != crypto.key_id(master):
        raise DataKeyMismatch(
            f"tenant {tenant_id}'s member keys were wrapped by master key {row.master_key_id}, "
            f"not by the configured STOCKGRAPH_DATA_KEY ({crypto.key_id(master)})"
        )
    return TenantKeys(
        tenant_id=tenant_id,
        data_key=crypto.unwrap_key(
            master, row.wrapped_data_key, crypto.tenant_key_aad(tenant_id, "data")
        ),
        index_key=crypto.unwrap_key(
            master, row.wrapped_index_key, crypto.tenant_key_aad(tenant_id, "index")
        ),
    )


async def store_member_key(
    session: AsyncSession, keys: TenantKeys, member_id: int, key: bytes
) -> None:
    wrapped = crypto.wrap_key(keys.data_key, key, crypto.member_key_aad(keys.tenant_id, member_id))
    session.add(MemberKey(tenant_id=keys.tenant_id, member_id=member_id, wrapped_key=wrapped))
    await session.flush()


async def member_keys(
    session: AsyncSession, keys: TenantKeys, member_ids: Sequence[int]
) -> dict[int, bytes]:
    """The unwrapped keys of these members; an erased member has none."""
    table = MemberKey.__table__
    rows = await session.execute(
        select(table.c.member_id, table.c.wrapped_key).where(
            table.c.tenant_id == keys.tenant_id, table.c.member_id.in_(list(member_ids))
        )
    )
    return {
        r.member_id: crypto.unwrap_key(
            keys.data_key, r.wrapped_key, crypto.member_key_aad(keys.tenant_id, r.member_id)
        )
        for r in rows
    }


async def destroy_member_key(session: AsyncSession, tenant_id: int, member_id: int) -> bool:
    """Crypto-shredding: without this row the member's ciphertexts never open again."""
    result = await session.execute(
        delete(MemberKey).where(MemberKey.tenant_id == tenant_id, MemberKey.member_id == member_id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
