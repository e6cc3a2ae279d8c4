"""Rendering a subscription's selection once per event, shared by every socket that asked for it.

Subscribers whose document, variables, tenant and permissions are equal share
one ``Selection``; the first sender to reach an event renders it (in a task of
its own, so a cancelled sender never strands the others) and the rest reuse
the JSON text. Events that arrive together are rendered together with one fresh
context: their nested fields batch into one statement per type, and no loader
serves a row cached by an earlier batch. A rendered result's errors are presented
by ``present``, the request policy's (api/policy.py: masked in production, no
suggestions), exactly as on every other path.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import asyncpg
import orjson
from graphql import DocumentNode, ExecutionResult, GraphQLSchema
from graphql.execution import Executor, execute_subscription_event
from sqlalchemy.exc import DBAPIError

from auth.caller import Caller
from db.session import Database
from schema.context import Context
from subscriptions.broker import LiveEvent


@dataclass(frozen=True, slots=True)
class Selection:
    schema: GraphQLSchema
    document: DocumentNode
    query: str
    operation_name: str | None
    variables: dict[str, Any] | None
    caller: Caller
    db: Database
    to_root: Callable[[LiveEvent], Any]
    present: Callable[[ExecutionResult], dict[str, Any]]

    key: tuple[Any, ...] = field(init=False)

    def __post_init__(self) -> None:
        key = (
            self.query,
            self.operation_name,
            json.dumps(self.variables, sort_keys=True, default=str),
            self.caller.tenant_id,
            self.caller.permissions,
        )
        object.__setattr__(self, "key", key)

    async def render(self, events: list[LiveEvent]) -> list[str]:
        """The `payload` of each event's `next` message, as JSON text.

        Events not rendered yet for this selection are rendered together with one
        context, so their nested fields load in one statement per type.
        """
        key = self.key
        missing = [e for e in events if key not in e.rendered]
        if missing:
            context = Context(
                db=self.db, caller=self.caller, request_id=f"events-{missing[0].sequence}"
            )
            for event in missing:
                event.rendered[key] = asyncio.ensure_future(self._render(event, context))
        out = []
        for event in events:
            task = event.rendered[key]
            out.append(task.result() if task.done() else await asyncio.shield(task))
        return out

    async def _render(self, event: LiveEvent, context: Context) -> str:
        """Execute the selection for one event.

        If the database is unreachable (a restart), wait and try again with a fresh
        context rather than send an error in place of the event: a delay, not a loss.
        """
        delay = 0.1
        for _ in range(RENDER_ATTEMPTS):
            result = await self._execute(event, context)
            if not _database_trouble(result):
                break
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
            context = Context(db=self.db, caller=self.caller, request_id=context.request_id)
        return orjson.dumps(self.present(result)).decode()

    async def _execute(self, event: LiveEvent, context: Context) -> ExecutionResult:
        executor = Executor.build(
            self.schema,
            self.document,
            context_value=context,
            raw_variable_values=self.variables,
            operation_name=self.operation_name,
        )
        if isinstance(executor, list):
            return ExecutionResult(data=None, errors=executor)
        outcome: Any = execute_subscription_event(
            executor.build_per_event_executor(self.to_root(event))
        )
        return cast(ExecutionResult, await outcome if inspect.isawaitable(outcome) else outcome)


RENDER_ATTEMPTS = 30  # with the back-off, about a minute


def _database_trouble(result: ExecutionResult) -> bool:
    return any(
        isinstance(e.original_error, DBAPIError | OSError | asyncpg.PostgresConnectionError)
        for e in result.errors or ()
    )
