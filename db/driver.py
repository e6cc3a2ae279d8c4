"""A write's hot statements over asyncpg directly, inside the session's transaction.

A statement through an ``AsyncSession`` costs about 180 µs of Python here (the ORM
session, the Core connection, the result machinery and two greenlet hops), the same
statement over asyncpg about 65 µs. A sale runs eight of them, so the ledger, the sale
and the audit append run their plain-SQL statements here: written once as ``text()``
with ``:name`` parameters, compiled once by SQLAlchemy's own asyncpg dialect into
``$n`` placeholders, and sent on the connection of the session's transaction.

Only a session opened by ``Database.tenant_transaction`` carries its connection
(``session.info[DRIVER]``); any other session (the owner's, a test's) runs the same
``text()`` through SQLAlchemy, as does a session whose transaction has not sent its
BEGIN yet. Either way the values and rows are the same: text statements have no
column types, so SQLAlchemy hands values to asyncpg unchanged.
"""

from __future__ import annotations

import collections
import functools
from collections.abc import Mapping
from typing import Any

from sqlalchemy import TextClause
from sqlalchemy.dialects.postgresql.asyncpg import dialect as AsyncpgDialect
from sqlalchemy.ext.asyncio import AsyncSession

DRIVER = "stockgraph.driver"  # session.info key: asyncpg's connection of the transaction
_DIALECT = AsyncpgDialect()


class Statement:
    """One ``text()`` statement, with its ``$n`` form for asyncpg."""

    __slots__ = ("clause", "names", "sql")

    def __init__(self, clause: TextClause) -> None:
        compiled = clause.compile(dialect=_DIALECT)
        self.clause = clause
        self.sql = compiled.string
        self.names = tuple(compiled.positiontup or ())

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        return [params[name] for name in self.names]


@functools.cache
def _row_class(columns: tuple[str, ...]) -> Any:
    return collections.namedtuple("Row", columns)  # type: ignore[misc]


def attach(session: AsyncSession, connection: Any) -> None:
    """Let this session's statements go to ``connection`` (asyncpg's) directly."""
    session.info[DRIVER] = connection


def detach(session: AsyncSession) -> None:
    session.info.pop(DRIVER, None)


def _connection(session: AsyncSession) -> Any:
    found = session.info.get(DRIVER)
    if found is not None and found.is_in_transaction():
        return found
    return None


async def rows(session: AsyncSession, statement: Statement, params: Mapping[str, Any]) -> list[Any]:
    """The statement's rows (attribute access by column name, as SQLAlchemy's)."""
    connection = _connection(session)
    if connection is None:
        return list((await session.execute(statement.clause, params)).all())
    found = await connection.fetch(statement.sql, *statement.args(params))
    if not found:
        return []
    make = _row_class(tuple(found[0].keys()))._make
    return [make(r) for r in found]


async def value(session: AsyncSession, statement: Statement, params: Mapping[str, Any]) -> Any:
    """The first column of the first row, or None when there is no row."""
    connection = _connection(session)
    if connection is None:
        return (await session.execute(statement.clause, params)).scalar()
    return await connection.fetchval(statement.sql, *statement.args(params))


async def execute(session: AsyncSession, statement: Statement, params: Mapping[str, Any]) -> None:
    """Run the statement for its effect."""
    connection = _connection(session)
    if connection is None:
        await session.execute(statement.clause, params)
        return
    await connection.execute(statement.sql, *statement.args(params))
