"""Executing operations against the real schema and database, without HTTP."""

from __future__ import annotations

from typing import Any

from api.graphql import build_schema
from auth.caller import Caller
from db.session import Database
from schema.context import Context


class Executor:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.schema = build_schema()

    async def __call__(
        self, query: str, caller: Caller | None, variables: dict[str, Any] | None = None
    ) -> Any:
        ctx = Context(db=self.db, caller=caller, request_id="test")
        return await self.schema.execute(query, variable_values=variables, context_value=ctx)

    async def ok(
        self, query: str, caller: Caller, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        result = await self(query, caller, variables)
        assert result.errors is None, result.errors
        return result.data  # type: ignore[no-any-return]
