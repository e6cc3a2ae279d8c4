"""Rendering a subscription's selection once per event, shared by every socket that asked for it.

Subscribers whose document, variables, tenant and permissions are equal share
one ``Selection``; the first sender to reach an event renders it (in a task of
its own, so a cancelled sender never strands the others) and the rest reuse
the JSON text. Each render has a fresh context, so loaders never serve a row
cached by an earlier event.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import orjson
from graphql import DocumentNode, ExecutionResult, GraphQLSchema
from graphql.execution import Executor, execute_subscription_event

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

    @property
    def key(self) -> tuple[Any, ...]:
        return (
            self.query,
            self.operation_name,
            json.dumps(self.variables, sort_keys=True, default=str),
            self.caller.tenant_id,
            self.caller.permissions,
        )

    async def render(self, event: LiveEvent) -> str:
        """The `payload` of a `next` message for this event, as JSON text."""
        key = self.key
        task = event.rendered.get(key)
        if task is None:
            task = asyncio.ensure_future(self._render(event))
            event.rendered[key] = task
        return await asyncio.shield(task)

    async def _render(self, event: LiveEvent) -> str:
        context = Context(db=self.db, caller=self.caller, request_id=f"event-{event.sequence}")
        executor = Executor.build(
            self.schema,
            self.document,
            context_value=context,
            raw_variable_values=self.variables,
            operation_name=self.operation_name,
        )
        if isinstance(executor, list):
            result = ExecutionResult(data=None, errors=executor)
        else:
            outcome: Any = execute_subscription_event(
                executor.build_per_event_executor(self.to_root(event))
            )
            result = cast(
                ExecutionResult, await outcome if inspect.isawaitable(outcome) else outcome
            )
        return orjson.dumps(result.formatted).decode()
