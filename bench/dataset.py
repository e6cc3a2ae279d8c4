"""The comparison's data set: one tenant, L locations × P products, one receipt per level.

The tenant, its counters and the partner app go through the domain services; the
bulk rows are set-based SQL as the schema owner (a benchmark shortcut), written so
that the ledger's rules still hold: ``stock_levels.on_hand`` equals the sum of the
level's movements, each movement has its own per-tenant ``sequence``, and
``tenant_counters.last_sequence`` is the highest sequence taken.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import asyncpg

import bench.common  # noqa: F401  (configures the ID key the servers use)
from auth.caller import Caller
from db.session import Database, plain_url
from domain import ids
from domain.tenancy import service as tenancy

SKU_FORMAT = "SKU-{:05d}"
SCOPES = "stock:read stock:write"

_LOCATIONS = """
INSERT INTO locations (tenant_id, code, name_zh, name_en, kind, region)
SELECT $1, format('L%s', lpad(g::text, 3, '0')), format('分店 %s', g), format('Store %s', g),
       'STORE', 'HK'
FROM generate_series(1, $2) AS g
"""

_PRODUCTS = """
INSERT INTO products (tenant_id, sku, barcode, name_zh, name_en, category, retail_price)
SELECT $1, format('SKU-%s', lpad(g::text, 5, '0')), lpad(g::text, 13, '489'),
       format('貨品 %s', g), format('Product %s', g), 'bench', 10 + g % 90
FROM generate_series(1, $2) AS g
"""

# Levels in (location, product) order; the quantity is a deterministic pseudo-random 1..200.
_LEVELS = """
INSERT INTO stock_levels (tenant_id, location_id, product_id, on_hand, reorder_point, version)
SELECT $1, l.id, p.id, 1 + ((l.id * 7919 + p.id * 104729) % 200), NULL, 1
FROM locations l CROSS JOIN products p
WHERE l.tenant_id = $1 AND p.tenant_id = $1
ORDER BY l.id, p.id
"""

# One RECEIPT per level, sequences 1..N in level order (the counter starts at 0).
_MOVEMENTS = """
INSERT INTO stock_movements (tenant_id, sequence, location_id, product_id, kind, delta,
    on_hand_after, oversell, reason, reference, occurred_at, recorded_at, actor)
SELECT $1, row_number() OVER (ORDER BY s.location_id, s.product_id), s.location_id,
       s.product_id, 'RECEIPT', s.on_hand, s.on_hand, false, NULL, 'bench-seed', now(), now(),
       'system'
FROM stock_levels s WHERE s.tenant_id = $1
"""

_COUNTER = """
UPDATE tenant_counters
SET last_sequence = (SELECT max(sequence) FROM stock_movements WHERE tenant_id = $1)
WHERE tenant_id = $1
"""

_CHECK = """
SELECT count(*) AS levels,
       count(*) FILTER (WHERE s.on_hand IS DISTINCT FROM m.total) AS unbalanced,
       (SELECT last_sequence FROM tenant_counters WHERE tenant_id = $1) AS last_sequence,
       (SELECT max(sequence) FROM stock_movements WHERE tenant_id = $1) AS max_sequence
FROM stock_levels s
LEFT JOIN (SELECT location_id, product_id, sum(delta) AS total FROM stock_movements
           WHERE tenant_id = $1 GROUP BY 1, 2) m USING (location_id, product_id)
WHERE s.tenant_id = $1
"""


@dataclass(frozen=True, slots=True)
class Dataset:
    """What a load generator needs to address the data."""

    tenant_id: int
    location_ids: list[int]
    location_gids: list[str]
    products: int
    level_id_min: int
    level_id_max: int
    client_id: str
    client_secret: str

    @property
    def levels(self) -> int:
        return len(self.location_ids) * self.products


async def build(url: str, locations: int = 50, products: int = 2000) -> Dataset:
    """Create the tenant, partner app and bulk rows in ``url``'s (fresh) database."""
    db = Database.connect(url, pool_size=2)
    try:
        async with db.owner_transaction() as s:
            tenant = await tenancy.create_tenant(s, "bench", "Bench retail")
            tenant_id = tenant.tenant_id
            creds = await tenancy.create_client(s, Caller.system(tenant_id), "bench", SCOPES, None)
    finally:
        await db.dispose()
    conn = await asyncpg.connect(plain_url(url))
    try:
        superuser = await conn.fetchval(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
        )
        async with conn.transaction():
            if superuser:
                # Skip the per-row foreign-key triggers (~15 s for 200k rows): every level and
                # movement is built from a join of existing locations and products.
                await conn.execute("SET LOCAL session_replication_role = replica")
            await conn.execute(_LOCATIONS, tenant_id, locations)
            await conn.execute(_PRODUCTS, tenant_id, products)
            await conn.execute(_LEVELS, tenant_id)
            await conn.execute(_MOVEMENTS, tenant_id)
            await conn.execute(_COUNTER, tenant_id)
        check = await conn.fetchrow(_CHECK, tenant_id)
        if (
            check is None
            or check["levels"] != locations * products
            or check["unbalanced"]
            or check["last_sequence"] != check["max_sequence"]
        ):
            raise RuntimeError(f"data set is inconsistent: {dict(check or {})}")
        await conn.execute("VACUUM ANALYZE")
        loc_ids = [
            r["id"]
            for r in await conn.fetch(
                "SELECT id FROM locations WHERE tenant_id = $1 ORDER BY id", tenant_id
            )
        ]
        bounds = await conn.fetchrow(
            "SELECT min(id) AS lo, max(id) AS hi FROM stock_levels WHERE tenant_id = $1", tenant_id
        )
    finally:
        await conn.close()
    assert bounds is not None
    return Dataset(
        tenant_id=tenant_id,
        location_ids=loc_ids,
        location_gids=[ids.encode("Location", i) for i in loc_ids],
        products=products,
        level_id_min=int(bounds["lo"]),
        level_id_max=int(bounds["hi"]),
        client_id=creds.client_id,
        client_secret=creds.client_secret,
    )


def build_sync(url: str, locations: int = 50, products: int = 2000) -> Dataset:
    return asyncio.run(build(url, locations, products))
