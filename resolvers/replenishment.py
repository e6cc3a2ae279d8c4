"""Replenishment operations: arguments → one domain call → schema types."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from auth.caller import Caller
from domain import ids
from domain.audit.service import AuditEntry
from domain.pagination import page_size
from domain.replenishment import alerts, decisions, demand, notify, rules, suggestions, suppliers
from domain.replenishment.decisions import Decided
from domain.scheduler import runs
from resolvers._mutation import MutationSpec, run_mutation
from schema.relay import (
    Connection,
    Edge,
    PageInfo,
    connection,
    decode_id,
    decode_id_or_none,
    encode_cursor,
    int_cursor,
    pair_cursor,
)
from schema.replenishment import (
    AcceptReplenishmentSuggestionInput,
    AlertSettingsPayload,
    DemandForecast,
    DismissReplenishmentSuggestionInput,
    JobRun,
    ReplenishmentAlert,
    ReplenishmentDecision,
    ReplenishmentDecisionPayload,
    ReplenishmentRule,
    ReplenishmentSuggestion,
    SetAlertContactInput,
    SetAlertQuietHoursInput,
    SetReplenishmentRulesInput,
    SetReplenishmentRulesPayload,
)
from schema.suppliers import (
    SetSupplierProductsInput,
    SetSupplierProductsPayload,
    Supplier,
    SupplierInput,
    SupplierPayload,
    UpdateSupplierInput,
)

# --- suppliers -------------------------------------------------------------------------


def _supplier_json(row: Any) -> dict[str, Any]:
    data = dict(row._mapping)
    for key, value in data.items():
        if isinstance(value, datetime):
            data[key] = value.isoformat()
        elif isinstance(value, Decimal):
            data[key] = str(value)
    return data


def _supplier_row(data: dict[str, Any]) -> Any:
    values = dict(data)
    for key in ("created_at", "updated_at"):
        values[key] = datetime.fromisoformat(values[key])
    values["min_order_value"] = Decimal(values["min_order_value"])
    return SimpleNamespace(**values)


def _supplier_spec(action: str) -> MutationSpec:
    return MutationSpec(
        action=action,
        audit=lambda row: AuditEntry(
            action=action,
            target_type="Supplier",
            target_id=ids.encode("Supplier", row.id),
            after=_supplier_json(row) if hasattr(row, "_mapping") else vars(row),
        ),
        snapshot=_supplier_json,
        restore=_supplier_row,
    )


CREATE_SUPPLIER = _supplier_spec("supplier.create")
UPDATE_SUPPLIER = _supplier_spec("supplier.update")


def _fields(input: SupplierInput | UpdateSupplierInput) -> suppliers.SupplierFields:
    return suppliers.SupplierFields(
        code=input.code,
        name_zh=input.name_zh,
        name_en=input.name_en,
        currency=input.currency.value if input.currency is not None else None,
        lead_time_days=input.lead_time_days,
        order_days=tuple(d.value for d in input.order_days) if input.order_days else None,
        min_order_value=input.min_order_value,
        active=getattr(input, "active", None),
    )


def _supplier_payload(row: Any) -> SupplierPayload:
    return SupplierPayload(supplier=Supplier.from_row(row), user_errors=[])


async def create_supplier(info: Info, input: SupplierInput) -> SupplierPayload:
    async def execute(session: AsyncSession, caller: Caller, _: str) -> Any:
        return await suppliers.create_supplier(session, caller, _fields(input))

    return await run_mutation(
        info, CREATE_SUPPLIER, SupplierPayload, input, execute, _supplier_payload
    )


async def update_supplier(info: Info, input: UpdateSupplierInput) -> SupplierPayload:
    async def execute(session: AsyncSession, caller: Caller, _: str) -> Any:
        cmd = suppliers.UpdateSupplier(decode_id(input.id, "Supplier", ["id"]), _fields(input))
        return await suppliers.update_supplier(session, caller, cmd)

    return await run_mutation(
        info, UPDATE_SUPPLIER, SupplierPayload, input, execute, _supplier_payload
    )


SET_PRODUCTS = MutationSpec(
    action="supplier.set_products",
    audit=lambda r: AuditEntry(
        action="supplier.set_products",
        target_type="Supplier",
        target_id=ids.encode("Supplier", r["supplier"]["id"]),
        after={"count": r["count"]},
    ),
    snapshot=lambda r: r,
    restore=lambda r: r,
)


async def set_supplier_products(
    info: Info, input: SetSupplierProductsInput
) -> SetSupplierProductsPayload:
    async def execute(session: AsyncSession, caller: Caller, _: str) -> dict[str, Any]:
        cmd = suppliers.SetSupplierProducts(
            decode_id(input.supplier_id, "Supplier", ["supplierId"]),
            tuple(
                suppliers.SupplierProductLine(
                    p.sku, p.unit_cost, p.supplier_sku, p.pack_size, p.min_order_quantity
                )
                for p in input.products
            ),
        )
        count = await suppliers.set_supplier_products(session, caller, cmd)
        row = await suppliers.supplier_row(session, caller, cmd.supplier_id)
        return {"supplier": _supplier_json(row), "count": count}

    return await run_mutation(
        info,
        SET_PRODUCTS,
        SetSupplierProductsPayload,
        input,
        execute,
        lambda r: SetSupplierProductsPayload(
            supplier=Supplier.from_row(_supplier_row(r["supplier"])),
            count=r["count"],
            user_errors=[],
        ),
    )


async def suppliers_(
    info: Info, first: int | None = None, after: str | None = None
) -> Connection[Supplier]:
    caller = info.context.viewer
    db = info.context.db
    async with db.tenant_transaction(caller.tenant_id) as session:
        page = await suppliers.list_suppliers(
            session, caller, limit=page_size(first), after=int_cursor(after)
        )

    async def count() -> int:
        async with db.tenant_transaction(caller.tenant_id) as s:
            return await suppliers.count_suppliers(s, caller)

    return connection(page, Supplier.from_row, lambda r: r.id, count)


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
    info: Info, input: SetReplenishmentRulesInput
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
    location_id: strawberry.ID | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Connection[ReplenishmentRule]:
    caller = info.context.viewer
    loc = (decode_id_or_none(location_id, "Location") or 0) if location_id is not None else None
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
    info: Info, location_id: strawberry.ID, sku: str, days: int = 14
) -> DemandForecast | None:
    caller = info.context.viewer
    loc = decode_id_or_none(location_id, "Location")
    async with info.context.db.tenant_transaction(caller.tenant_id) as session:
        f = await demand.demand_forecast(session, caller, loc, sku, days)
    return DemandForecast.from_domain(f)


async def replenishment_suggestions(
    info: Info,
    location_id: strawberry.ID,
    first: int | None = None,
    after: str | None = None,
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
    info: Info, input: AcceptReplenishmentSuggestionInput
) -> ReplenishmentDecisionPayload:
    async def execute(session: AsyncSession, caller: Caller, _: str) -> Decided:
        cmd = decisions.DecideSuggestion(
            decode_id(input.location_id, "Location", ["locationId"]), input.sku, note=input.note
        )
        return await decisions.accept(session, caller, cmd)

    return await run_mutation(info, ACCEPT, ReplenishmentDecisionPayload, input, execute, _decided)


async def dismiss_replenishment_suggestion(
    info: Info, input: DismissReplenishmentSuggestionInput
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


# --- job runs ---------------------------------------------------------------------------


async def job_runs(
    info: Info, first: int | None = None, after: str | None = None, job: str | None = None
) -> Connection[JobRun]:
    caller = info.context.viewer
    async with info.context.db.tenant_transaction(caller.tenant_id) as session:
        page = await runs.list_runs(
            session, caller, limit=page_size(first), after=int_cursor(after), job=job
        )
    return connection(page, JobRun.from_row, lambda r: r.id)


async def replenishment_alerts(
    info: Info,
    location_id: strawberry.ID | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Connection[ReplenishmentAlert]:
    caller = info.context.viewer
    loc = (decode_id_or_none(location_id, "Location") or 0) if location_id is not None else None
    async with info.context.db.tenant_transaction(caller.tenant_id) as session:
        page = await alerts.list_alerts(
            session, caller, location_id=loc, limit=page_size(first), after=int_cursor(after)
        )
    return connection(page, ReplenishmentAlert.from_row, lambda r: r.id)


# --- alert contacts and quiet hours -----------------------------------------------------


def _settings_spec(action: str) -> MutationSpec:
    return MutationSpec(
        action=action,
        audit=lambda data: AuditEntry(action=action, target_type="AlertSettings", after=data),
        snapshot=lambda data: data,
        restore=lambda data: data,
    )


SET_CONTACT = _settings_spec("replenishment.set_alert_contact")
SET_QUIET = _settings_spec("replenishment.set_quiet_hours")


async def set_alert_contact(info: Info, input: SetAlertContactInput) -> AlertSettingsPayload:
    async def execute(session: AsyncSession, caller: Caller, _: str) -> dict[str, Any]:
        cmd = notify.SetAlertContact(
            decode_id(input.staff_id, "Staff", ["staffId"]), input.channel, input.recipient
        )
        row = await notify.set_contact(session, caller, cmd)
        return {"staffId": row.staff_id, "channel": row.channel}

    return await run_mutation(
        info,
        SET_CONTACT,
        AlertSettingsPayload,
        input,
        execute,
        lambda _: AlertSettingsPayload(ok=True, user_errors=[]),
    )


async def set_alert_quiet_hours(info: Info, input: SetAlertQuietHoursInput) -> AlertSettingsPayload:
    async def execute(session: AsyncSession, caller: Caller, _: str) -> dict[str, Any]:
        row = await notify.set_quiet_hours(
            session, caller, notify.SetQuietHours(input.start, input.end)
        )
        return {"quietStart": row.quiet_start, "quietEnd": row.quiet_end}

    return await run_mutation(
        info,
        SET_QUIET,
        AlertSettingsPayload,
        input,
        execute,
        lambda _: AlertSettingsPayload(ok=True, user_errors=[]),
    )
