"""Offer rule operations: arguments → one domain call → schema types."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from auth.caller import Caller
from domain.offers import service
from domain.offers.rules import RuleKind
from domain.offers.service import RunResult
from domain.pagination import page_size
from resolvers._app import master_key
from resolvers._mutation import MutationSpec, not_replayed, run_mutation
from schema.offers import (
    CreateOfferRuleInput,
    OfferRule,
    OfferRulePayload,
    OfferRun,
    RunOfferTriggersInput,
    RunOfferTriggersPayload,
)
from schema.relay import After, Connection, First, connection, decode_id, int_cursor

CREATE = MutationSpec(
    action="offer_rule.create",
    audit=service.audit_rule,
    snapshot=lambda row: {"id": row.id},
    restore=not_replayed,
)
RUN = MutationSpec(
    action="offer.run",
    audit=RunResult.audit,
    snapshot=lambda r: {"fired": r.fired},
    restore=not_replayed,
)


async def create_offer_rule(
    info: Info,
    input: Annotated[
        CreateOfferRuleInput,
        strawberry.argument(description="What to do; see CreateOfferRuleInput."),
    ],
) -> OfferRulePayload:
    async def execute(session: AsyncSession, caller: Caller, request_id: str) -> Any:
        cmd = service.CreateOfferRule(
            name=input.name,
            kind=RuleKind(input.kind),
            channels=tuple(input.channels),
            body=input.body,
            subject=input.subject,
            days_before=input.days_before,
            grace_days=input.grace_days,
            lookback_days=input.lookback_days,
            amount_off=input.amount_off,
            percent_off=input.percent_off,
            validity_days=input.validity_days,
            location_ids=tuple(
                decode_id(v, "Location", ["locationIds", str(i)])
                for i, v in enumerate(input.location_ids)
            )
            if input.location_ids is not None
            else None,
        )
        return await service.create_rule(session, caller, cmd)

    def render(row: Any) -> OfferRulePayload:
        return OfferRulePayload(offer_rule=OfferRule.from_row(row), user_errors=[])

    return await run_mutation(info, CREATE, OfferRulePayload, input, execute, render)


async def run_offer_triggers(
    info: Info,
    input: Annotated[
        RunOfferTriggersInput | None,
        strawberry.argument(description="What to do; see RunOfferTriggersInput."),
    ] = None,
) -> RunOfferTriggersPayload:
    master = master_key(info)
    given = input or RunOfferTriggersInput()

    async def execute(session: AsyncSession, caller: Caller, request_id: str) -> RunResult:
        return await service.run_triggers(
            session, caller, master, service.RunOfferTriggers(now=given.now)
        )

    def render(result: RunResult) -> RunOfferTriggersPayload:
        return RunOfferTriggersPayload(run=OfferRun.from_result(result), user_errors=[])

    return await run_mutation(info, RUN, RunOfferTriggersPayload, given, execute, render)


async def offer_rules(
    info: Info,
    first: First = None,
    after: After = None,
) -> Connection[OfferRule]:
    caller = info.context.viewer
    limit = page_size(first)
    cursor = int_cursor(after)
    async with info.context.db.tenant_transaction(caller.tenant_id) as session:
        page = await service.list_rules(session, caller, limit=limit, after=cursor)
    return connection(page, OfferRule.from_row, lambda r: r.id)
