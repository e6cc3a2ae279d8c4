"""Replenishment rules, the forecast and suggestions: arguments → one domain call → types."""

from __future__ import annotations

from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from auth.caller import Caller
from domain import ids
from domain.audit.service import AuditEntry
from domain.pagination import page_size
from domain.replenishment import decisions, demand, rules, suggestions
from domain.replenishment.decisions import Decided
from resolvers._mutation import MutationSpec, run_mutation
from schema.forecast import DemandForecast
from schema.relay import (
    After,
    Connection,
    Edge,
    First,
    PageInfo,
    connection,
    decode_id,
    encode_cursor,
    int_cursor,
    pair_cursor,
)
from schema.replenishment import (
    AcceptReplenishmentSuggestionInput,
    DismissReplenishmentSuggestionInput,
    ReplenishmentDecision,
    ReplenishmentDecisionPayload,
    ReplenishmentRule,
    ReplenishmentSuggestion,
    SetReplenishmentRulesInput,
    SetReplenishmentRulesPayload,
)

# --- rules ------------------------------------------------------------------------------

SET_RULES = MutationSpec(
    action="replenishment.set_rules",
    audit=lambda r: AuditEntry(
        action="replenishment.set_rules",
        target_type="ReplenishmentRule",
        after={"count": r.count, "changed": r.changed},
    ),
    snapshot=lambda r: {"count": r.count, "changed": r.changed},
    restore=lambda d: rules.RulesSet(d["count"], d["changed"]),
)


def _optional_id(value: strawberry.ID | None, type_name: str, path: list[str]) -> int | None:
    return decode_id(value, type_name, path) if value is not None else None


async def set_replenishment_rules(
    info: Info,
    input: Annotated[
        SetReplenishmentRulesInput,
        strawberry.argument(description="What to do; see SetReplenishmentRulesInput."),
    ],
) -> SetReplenishmentRulesPayload:
    async def execute(session: AsyncSession, caller: Caller, _: str) -> rules.RulesSet:
        lines = tuple(
            rules.RuleLine(
                location_id=decode_id(r.location_id, "Location", ["rules", str(i), "locationId"]),
                sku=r.sku,
                method=rules.RuleMethod(r.method),
                min_quantity=r.min_quantity,
                max_quantity=r.max_quantity,
                reorder_point=r.reorder_point,
                safety_stock=r.safety_stock,
                review_period_days=r.review_period_days,
                supplier_id=_optional_id(
                    r.supplier_id, "Supplier", ["rules", str(i), "supplierId"]
                ),
                source_location_id=_optional_id(
                    r.source_location_id, "Location", ["rules", str(i), "sourceLocationId"]
                ),
                alert_only=r.alert_only,
            )
            for i, r in enumerate(input.rules)
        )
        return await rules.set_rules(session, caller, rules.SetRules(lines))

    return await run_mutation(
        info,
        SET_RULES,
        SetReplenishmentRulesPayload,
        input,
        execute,
        lambda r: SetReplenishmentRulesPayload(count=r.count, changed=r.changed, user_errors=[]),
    )


async def replenishment_rules(
    info: Info,
    location_id: Annotated[
        strawberry.ID | None, strawberry.argument(description="Only rules of this location.")
    ] = None,
    first: First = None,
    after: After = None,
) -> Connection[ReplenishmentRule]:
    caller = info.context.viewer
    loc = decode_id(location_id, "Location", ["locationId"]) if location_id is not None else None
    db = info.context.db
    async with db.tenant_transaction(caller.tenant_id) as session:
        page = await rules.list_rules(
            session, caller, location_id=loc, limit=page_size(first), after=pair_cursor(after)
        )

    async def count() -> int:
        async with db.tenant_transaction(caller.tenant_id) as s:
            return await rules.count_rules(s, caller, loc)

    return connection(
        page, ReplenishmentRule.from_row, lambda r: [r.location_id, r.product_id], count
    )


# --- forecast and suggestions -------------------------------------------------------------


async def demand_forecast(
    info: Info,
    location_id: Annotated[
        strawberry.ID, strawberry.argument(description="The location's global ID.")
    ],
    sku: Annotated[str, strawberry.argument(description="The product's SKU.")],
    days: Annotated[
        int, strawberry.argument(description="How many days from today to forecast: 1 to 56.")
    ] = 14,
) -> DemandForecast | None:
    caller = info.context.viewer
    loc = decode_id(location_id, "Location", ["locationId"])
    async with info.context.db.tenant_transaction(caller.tenant_id) as session:
        f = await demand.demand_forecast(session, caller, loc, sku, days)
    return DemandForecast.from_domain(f)


async def replenishment_suggestions(
    info: Info,
    location_id: Annotated[
        strawberry.ID, strawberry.argument(description="The location's global ID.")
    ],
    first: First = None,
    after: After = None,
) -> Connection[ReplenishmentSuggestion]:
    """Computed now, in SKU order (by product); keyset on the product."""
    caller = info.context.viewer
    loc = decode_id(location_id, "Location", ["locationId"])
    limit = page_size(first)
    cursor = int_cursor(after)
    async with info.context.db.tenant_transaction(caller.tenant_id) as session:
        found = await suggestions.for_location(session, caller, loc)
    rows = [s for s in found if cursor is None or s.product_id > cursor]
    page = rows[:limit]
    edges = [Edge(_key=s.product_id, node=ReplenishmentSuggestion.from_domain(s)) for s in page]
    total = len(found)

    async def count() -> int:
        return total

    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(rows) > limit,
            has_previous_page=cursor is not None,
            start_cursor=encode_cursor(page[0].product_id) if page else None,
            end_cursor=encode_cursor(page[-1].product_id) if page else None,
        ),
        _count=count,
    )


def _decision_spec(action: str) -> MutationSpec:
    return MutationSpec(
        action=action,
        audit=lambda d: AuditEntry(
            action=action,
            target_type="ReplenishmentDecision",
            target_id=ids.encode("ReplenishmentDecision", d.decision_id),
            after=d.to_json()
            | (
                {"explanation": ReplenishmentSuggestion.from_domain(d.suggestion).explanation}
                if d.suggestion is not None
                else {}
            ),
            reason=d.reason,
        ),
        snapshot=lambda d: d.to_json(),
        restore=Decided.from_json,
    )


ACCEPT = _decision_spec("replenishment.accept")
DISMISS = _decision_spec("replenishment.dismiss")


def _decided(d: Decided) -> ReplenishmentDecisionPayload:
    return ReplenishmentDecisionPayload(
        decision=ReplenishmentDecision.from_domain(d), user_errors=[]
    )


async def accept_replenishment_suggestion(
    info: Info,
    input: Annotated[
        AcceptReplenishmentSuggestionInput,
        strawberry.argument(description="What to do; see AcceptReplenishmentSuggestionInput."),
    ],
) -> ReplenishmentDecisionPayload:
    async def execute(session: AsyncSession, caller: Caller, _: str) -> Decided:
        cmd = decisions.DecideSuggestion(
            decode_id(input.location_id, "Location", ["locationId"]), input.sku, note=input.note
        )
        return await decisions.accept(session, caller, cmd)

    return await run_mutation(info, ACCEPT, ReplenishmentDecisionPayload, input, execute, _decided)


async def dismiss_replenishment_suggestion(
    info: Info,
    input: Annotated[
        DismissReplenishmentSuggestionInput,
        strawberry.argument(description="What to do; see DismissReplenishmentSuggestionInput."),
    ],
) -> ReplenishmentDecisionPayload:
    async def execute(session: AsyncSession, caller: Caller, _: str) -> Decided:
        cmd = decisions.DecideSuggestion(
            decode_id(input.location_id, "Location", ["locationId"]),
            input.sku,
            reason=decisions.DismissReason(input.reason),
            note=input.note,
        )
        return await decisions.dismiss(session, caller, cmd)

    return await run_mutation(info, DISMISS, ReplenishmentDecisionPayload, input, execute, _decided)
