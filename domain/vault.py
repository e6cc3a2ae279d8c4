"""Secrets the sender must read back (webhook signing secrets, channel credentials),
sealed at rest under the data key.

Stored as ``sealed:v1:`` + base64url(AES-256-GCM blob) in the same text column.
The key is derived from the data (master) key for this purpose only, and the
associated data binds tenant, table and column, so a sealed value copied to
another tenant's row or another column does not open. Values written before
sealing existed are plain; ``unseal`` passes them through and
``seal_plain_rows`` seals them (run at start-up), so a dump holds none in clear.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.members import crypto

PREFIX = "sealed:v1:"
_LABEL = b"stockgraph/secrets-at-rest/v1"
# (table, column) of every sealed secret; both tables lead with tenant_id.
SEALED_COLUMNS = (
    ("webhook_endpoints", "secret"),
    ("notification_channels", "smtp_password"),
    ("notification_channels", "sms_auth_value"),
    ("notification_channels", "chat_secret"),
)


class MissingKey(RuntimeError):
    """A sealed value was read or written without the data key."""


def _key(master: bytes | None) -> bytes:
    if master is None:
        raise MissingKey("sealed secrets need the data key (STOCKGRAPH_DATA_KEY)")
    return hmac.new(master, _LABEL, hashlib.sha256).digest()


def _aad(tenant_id: int, table: str, column: str) -> bytes:
    return f"{crypto.PREFIX}|secret|tenant={tenant_id}|table={table}|column={column}".encode()


def is_sealed(stored: str | None) -> bool:
    return stored is not None and stored.startswith(PREFIX)


def seal(master: bytes | None, value: str, *, tenant_id: int, table: str, column: str) -> str:
    blob = crypto.seal(_key(master), value.encode(), _aad(tenant_id, table, column))
    return PREFIX + base64.urlsafe_b64encode(blob).decode()


def unseal(
    master: bytes | None, stored: str | None, *, tenant_id: int, table: str, column: str
) -> str | None:
    """The secret; a value from before sealing passes through as it is."""
    if stored is None or not is_sealed(stored):
        return stored
    blob = base64.urlsafe_b64decode(stored[len(PREFIX) :])
    return crypto.open_sealed(_key(master), blob, _aad(tenant_id, table, column)).decode()


async def seal_plain_rows(session: AsyncSession, master: bytes) -> int:
    """Seal every secret still stored in clear (the schema owner's session); how many."""
    done = 0
    for table, column in SEALED_COLUMNS:
        rows = await session.execute(
            text(
                f"SELECT ctid, tenant_id, {column} AS value FROM {table} "
                f"WHERE {column} IS NOT NULL AND {column} NOT LIKE 'sealed:%' FOR UPDATE"
            )
        )
        for row in rows.all():
            sealed = seal(master, row.value, tenant_id=row.tenant_id, table=table, column=column)
            await session.execute(
                text(f"UPDATE {table} SET {column} = :v WHERE ctid = :c"),
                {"v": sealed, "c": row.ctid},
            )
            done += 1
    return done
