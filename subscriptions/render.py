"""Rendering a subscription's selection once per event, shared by every socket that asked for it.

Subscribers whose document, variables, tenant and permissions are equal share
one ``Selection``; the first sender to reach an event renders it (in a task of
its own, so a cancelled sender never strands the others) and the rest reuse
the JSON text. Events that arrive together are rendered together with one fresh
context: their nested fields batch into one statement per type, and no loader
serves a row cached by an earlier batch.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass, field
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
