"""Coupons: the type, inputs and payloads."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.types import Info

from auth.fields import visible_with
from auth.permissions import Permission
from domain import ids
from schema.catalog import CurrencyCode, Money
from schema.errors import UserError
from schema.locations import Location
from schema.members import Member
from schema.relay import Node


@visible_with(Permission.MEMBERS_READ)
@strawberry.type(
    description="A single-use discount: an amount off (tenant currency) or a percentage, "
    "valid in a time window at some stores (all when `stores` is null)."
)
class Coupon(Node):
    code: str = strawberry.field(
        description="The code to type or scan at the till, upper case (4 to 40 letters and digits)."
    )
    amount_off: Money | None = strawberry.field(
        description="The amount off, in the tenant's currency; null for a percentage coupon."
    )
    percent_off: Decimal | None = strawberry.field(
        description="The percentage off, above 0 up to 100; null for an amount coupon."
    )
    valid_from: datetime = strawberry.field(description="Valid from this instant.")
    valid_until: datetime = strawberry.field(description="Valid until this instant (excluded).")
    issued_by: str = strawberry.field(
        description='Who issued it, as a stored subject ("staff:<id>", "app:<client id>" or '
        '"system").'
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    redeemed_at: datetime | None = strawberry.field(
        description="When it was redeemed; null while unused."
    )
    redeemed_receipt_number: str | None = strawberry.field(
        description="The receipt it was redeemed on, if given."
    )
    offer_rule_id: strawberry.ID | None = strawberry.field(
        description="The offer rule that issued it (an OfferRule ID), if one did."
    )
    store_pks: strawberry.Private[list[int] | None]
    member_pk: strawberry.Private[int | None]
    redeemed_location_pk: strawberry.Private[int | None]

    @strawberry.field(description="Where it is valid; null: every store.")
    async def stores(self, info: Info) -> list[Location] | None:
        if self.store_pks is None:
            return None
        rows = await info.context.loaders.location_by_id.load_many(self.store_pks)
        return [Location.from_row(r) for r in rows if r is not None]

    @strawberry.field(description="The member it was issued to, if any.")
    async def member(self, info: Info) -> Member | None:
        if self.member_pk is None:
            return None
        row = await info.context.loaders.member_by_id.load(self.member_pk)
        return Member.from_row(row) if row is not None else None

    @strawberry.field(description="The store it was redeemed at; null while unused.")
    async def redeemed_at_location(self, info: Info) -> Location | None:
        if self.redeemed_location_pk is None:
            return None
        row = await info.context.loaders.location_by_id.load(self.redeemed_location_pk)
        return Location.from_row(row) if row is not None else None

    @classmethod
    def from_row(cls, row: Any) -> Coupon:
        return cls(
            id=strawberry.ID(ids.encode("Coupon", row.id)),
            code=row.code,
            amount_off=Money(amount=row.amount_off, currency=CurrencyCode(row.currency))
            if row.amount_off is not None
            else None,
            percent_off=row.percent_off,
            valid_from=row.valid_from,
            valid_until=row.valid_until,
            issued_by=row.issued_by,
            created_at=row.created_at,
            redeemed_at=row.redeemed_at,
            redeemed_receipt_number=row.redeemed_receipt,
            offer_rule_id=strawberry.ID(ids.encode("OfferRule", row.rule_id))
            if row.rule_id is not None
            else None,
            store_pks=list(row.location_ids) if row.location_ids is not None else None,
            member_pk=row.member_id,
            redeemed_location_pk=row.redeemed_location_id,
        )


@strawberry.input(description="The input of issueCoupon.")
class IssueCouponInput:
    valid_from: datetime = strawberry.field(
        description="Valid from this instant (with a UTC offset). Needs members:write."
    )
    valid_until: datetime = strawberry.field(
        description="Valid until this instant (with a UTC offset), after validFrom."
    )
    amount_off: Decimal | None = strawberry.field(
        default=None, description="In the tenant's currency; give this or percentOff."
    )
    percent_off: Decimal | None = strawberry.field(
        default=None, description="A percentage off, above 0 up to 100; give this or amountOff."
    )
    code: str | None = strawberry.field(
        default=None, description="Omitted: a random, unguessable 12-character code."
    )
    location_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="The stores where it is valid; omitted: all."
    )
    member_id: strawberry.ID | None = strawberry.field(
        default=None, description="The member it is for (a Member ID); omitted: anyone."
    )


@strawberry.input(description="The input of redeemCoupon.")
class RedeemCouponInput:
    code: str = strawberry.field(description="The coupon code (any case); single use.")
    location_id: strawberry.ID = strawberry.field(
        description="The store it is redeemed at (a Location ID); needs stock:write there."
    )
    receipt_number: str | None = strawberry.field(
        default=None, description="The receipt it is redeemed on, 1 to 100 characters."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Makes retries safe: the same key from the same caller with the same input "
        "answers the first response (a refusal included) and changes nothing again; "
        "with a different input, IDEMPOTENCY_KEY_REUSED. Kept at least 24 hours; at "
        "most 200 characters.",
    )


@strawberry.type(
    description="The result of issueCoupon and redeemCoupon: what changed, or userErrors."
)
class CouponPayload:
    coupon: Coupon | None = strawberry.field(
        description="The coupon after the change; null when refused."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused, each with a stable code and the path of the "
        "input field; empty when it succeeded."
    )

    @classmethod
    def failed(cls, errors: list[UserError]) -> CouponPayload:
        return cls(coupon=None, user_errors=errors)
