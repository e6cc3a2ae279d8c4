"""Suppliers and what they sell: arguments → one domain call → schema types."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from auth.caller import Caller
from domain import ids
from domain.audit.service import AuditEntry
from domain.pagination import page_size
from domain.replenishment import suppliers
from resolvers._mutation import MutationSpec, run_mutation
from schema.relay import (
    After,
    Connection,
    First,
    connection,
    decode_id,
    int_cursor,
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


async def create_supplier(
    info: Info,
    input: Annotated[
        SupplierInput, strawberry.argument(description="What to do; see SupplierInput.")
    ],
) -> SupplierPayload:
    async def execute(session: AsyncSession, caller: Caller, _: str) -> Any:
        return await suppliers.create_supplier(session, caller, _fields(input))

    return await run_mutation(
        info, CREATE_SUPPLIER, SupplierPayload, input, execute, _supplier_payload
    )


async def update_supplier(
    info: Info,
    input: Annotated[
        UpdateSupplierInput, strawberry.argument(description="What to do; see UpdateSupplierInput.")
    ],
) -> SupplierPayload:
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
    info: Info,
    input: Annotated[
        SetSupplierProductsInput,
        strawberry.argument(description="What to do; see SetSupplierProductsInput."),
    ],
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
    info: Info,
    first: First = None,
    after: After = None,
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
