"""Coupon operations: arguments → one domain call → schema types."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from auth.caller import Caller
from domain.coupons import service
from domain.pagination import page_size
from resolvers._mutation import MutationSpec, not_replayed, run_mutation
from schema.coupons import Coupon, CouponPayload, IssueCouponInput, RedeemCouponInput
from schema.relay import After, Connection, First, connection, decode_id, int_cursor

_DATES = ("valid_from", "valid_until", "created_at", "redeemed_at")
_DECIMALS = ("amount_off", "percent_off")


def _snapshot(row: Any) -> dict[str, Any]:
    """The coupon as JSON, so a retried redemption answers exactly as the first did."""
    data: dict[str, Any] = dict(row._mapping)
    for k in _DATES:
        data[k] = data[k].isoformat() if data[k] is not None else None
    for k in _DECIMALS:
        data[k] = str(data[k]) if data[k] is not None else None
    return data


def _restore(data: dict[str, Any]) -> Any:
    values = dict(data)
    for k in _DATES:
        values[k] = datetime.fromisoformat(values[k]) if values[k] is not None else None
    for k in _DECIMALS:
        values[k] = Decimal(values[k]) if values[k] is not None else None
    return SimpleNamespace(**values)


ISSUE = MutationSpec(
    action="coupon.issue",
    audit=service.audit_issued,
    snapshot=lambda row: {"id": row.id},
    restore=not_replayed,
    redact=lambda data: {k: ("[redacted]" if k == "code" and v else v) for k, v in data.items()},
)
REDEEM = MutationSpec(
    action="coupon.redeem",
    audit=service.audit_redeemed,
    snapshot=_snapshot,
    restore=_restore,
    redact=lambda data: {k: ("[redacted]" if k == "code" else v) for k, v in data.items()},
)


def _render(row: Any) -> CouponPayload:
    return CouponPayload(coupon=Coupon.from_row(row), user_errors=[])


async def issue_coupon(
    info: Info,
    input: Annotated[
        IssueCouponInput, strawberry.argument(description="What to do; see IssueCouponInput.")
    ],
) -> CouponPayload:
    async def execute(session: AsyncSession, caller: Caller, request_id: str) -> Any:
        cmd = service.IssueCoupon(
            valid_from=input.valid_from,
            valid_until=input.valid_until,
            amount_off=input.amount_off,
            percent_off=input.percent_off,
            code=input.code,
            location_ids=tuple(
                decode_id(v, "Location", ["locationIds", str(i)])
                for i, v in enumerate(input.location_ids)
            )
            if input.location_ids is not None
            else None,
            member_id=decode_id(input.member_id, "Member", ["memberId"])
            if input.member_id is not None
            else None,
        )
        return await service.issue_coupon(session, caller, cmd)

    return await run_mutation(info, ISSUE, CouponPayload, input, execute, _render)


async def redeem_coupon(
    info: Info,
    input: Annotated[
        RedeemCouponInput, strawberry.argument(description="What to do; see RedeemCouponInput.")
    ],
) -> CouponPayload:
    async def execute(session: AsyncSession, caller: Caller, request_id: str) -> Any:
        cmd = service.RedeemCoupon(
            code=input.code,
            location_id=decode_id(input.location_id, "Location", ["locationId"]),
            receipt_number=input.receipt_number,
        )
        return await service.redeem_coupon(session, caller, cmd)

    return await run_mutation(info, REDEEM, CouponPayload, input, execute, _render)


async def coupon(
    info: Info, code: Annotated[str, strawberry.argument(description="The coupon code (any case).")]
) -> Coupon | None:
    caller = info.context.viewer
    async with info.context.db.tenant_transaction(caller.tenant_id) as session:
        row = await service.coupon_by_code(session, caller, code)
    return Coupon.from_row(row) if row is not None else None


async def coupons(
    info: Info,
    first: First = None,
    after: After = None,
    member_id: Annotated[
        strawberry.ID | None, strawberry.argument(description="Only coupons issued to this member.")
    ] = None,
) -> Connection[Coupon]:
    caller = info.context.viewer
    limit = page_size(first)
    cursor = int_cursor(after)
    member = decode_id(member_id, "Member", ["memberId"]) if member_id is not None else None
    async with info.context.db.tenant_transaction(caller.tenant_id) as session:
        page = await service.list_coupons(
            session, caller, limit=limit, after=cursor, member_id=member
        )
    return connection(page, Coupon.from_row, lambda r: r.id)
