"""A write's statements over asyncpg directly (db/driver.py): the same transaction as
the session's, the same tenant, the same rollback, and SQLAlchemy's path wherever the
session has no connection of its own to offer."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from db import driver
from db.driver import Statement

TENANT_SETTING = Statement(
    text(
        "SELECT current_setting('app.tenant_id', true) AS tenant,"
        " CAST(:n AS int) + CAST(:n AS int) AS twice"
    )
)
IN_TRANSACTION = Statement(text("SELECT pg_current_xact_id_if_assigned() IS NOT NULL AS xid"))
RENAME = Statement(text("UPDATE locations SET name_en = :name WHERE tenant_id = :t AND id = :id"))
NAME = Statement(text("SELECT name_en FROM locations WHERE tenant_id = :t AND id = :id"))


def test_a_name_used_twice_is_one_placeholder() -> None:
    assert TENANT_SETTING.names == ("n",)
    assert "CAST($1 AS int) + CAST($1 AS int)" in TENANT_SETTING.sql
    assert RENAME.names == ("name", "t", "id")


async def test_statements_run_in_the_sessions_transaction(db, tenant) -> None:
    async with db.tenant_transaction(tenant.tenant_id) as session:
        connection = session.info[driver.DRIVER]
        assert connection.is_in_transaction()
        [row] = await driver.rows(session, TENANT_SETTING, {"n": 21})
        assert (row.tenant, row.twice) == (str(tenant.tenant_id), 42)
        # a write through the session is seen by the driver's statement and back
        loc = tenant.locations["S1"]
        await session.execute(
            text("UPDATE locations SET name_en = 'via session' WHERE tenant_id = :t AND id = :id"),
            {"t": tenant.tenant_id, "id": loc},
        )
        assert await driver.value(session, NAME, {"t": tenant.tenant_id, "id": loc}) == (
            "via session"
        )
        await driver.execute(
            session, RENAME, {"name": "via driver", "t": tenant.tenant_id, "id": loc}
        )
        seen = await session.execute(NAME.clause, {"t": tenant.tenant_id, "id": loc})
        assert seen.scalar_one() == "via driver"
    assert driver.DRIVER not in session.info


async def test_a_failure_rolls_back_the_drivers_writes_too(db, tenant) -> None:
    loc = tenant.locations["S1"]
    async with db.tenant_transaction(tenant.tenant_id) as session:
        before = await driver.value(session, NAME, {"t": tenant.tenant_id, "id": loc})
    with pytest.raises(RuntimeError):
        async with db.tenant_transaction(tenant.tenant_id) as session:
            await driver.execute(
                session, RENAME, {"name": "half", "t": tenant.tenant_id, "id": loc}
            )
            raise RuntimeError("refused after the write")
    async with db.tenant_transaction(tenant.tenant_id) as session:
        assert await driver.value(session, NAME, {"t": tenant.tenant_id, "id": loc}) == before


async def test_row_level_security_holds_on_the_driver(db, tenant, other_tenant) -> None:
    theirs = other_tenant.locations["S1"]
    async with db.tenant_transaction(tenant.tenant_id) as session:
        assert await driver.rows(session, NAME, {"t": other_tenant.tenant_id, "id": theirs}) == []


async def test_other_sessions_take_sqlalchemys_path(db, tenant) -> None:
    """The owner's session carries no connection; and before its first statement a
    session's BEGIN has not been sent, so the driver's connection is not used then."""
    async with db.owner_transaction() as session:
        assert driver.DRIVER not in session.info
        [row] = await driver.rows(session, TENANT_SETTING, {"n": 2})
        assert row.twice == 4
        assert await driver.value(session, IN_TRANSACTION, {}) is not None
    async with db.sessions() as session, session.begin():
        raw = (await (await session.connection()).get_raw_connection()).driver_connection
        driver.attach(session, raw)
        assert not raw.is_in_transaction()  # the BEGIN is sent with the first statement
        await driver.execute(session, RENAME, {"name": "x", "t": 0, "id": 0})
        assert raw.is_in_transaction()  # so it went through SQLAlchemy, which began
        driver.detach(session)
