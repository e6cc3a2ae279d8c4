"""Offer rules and trigger runs: types, inputs, payloads."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry

from auth.fields import visible_with
from auth.permissions import Permission
from domain import ids
from domain.offers.rules import RuleKind
from domain.offers.service import RunResult
from schema.errors import UserError
from schema.members import ConsentChannel
from schema.relay import Node

OfferRuleKind = strawberry.enum(RuleKind, name="OfferRuleKind")


@visible_with(Permission.MEMBERS_READ)
@strawberry.type(
    description="A triggered offer: when it fires (kind), the coupon it issues and the "
    "message it sends on the channels the member consents to. Placeholders: {name}, "
    "{coupon}, {value}, {valid_until}, {store}, {product}."
)
class OfferRule(Node):
    name: str
    kind: OfferRuleKind  # type: ignore[valid-type]
    days_before: int | None
    grace_days: int
    lookback_days: int
    amount_off: Decimal | None
    percent_off: Decimal | None
    validity_days: int
    store_ids: list[strawberry.ID] | None
    channels: list[ConsentChannel]  # type: ignore[valid-type]
    subject: str | None
    body: str
    active: bool
    created_at: datetime = strawberry.field(description="When it was created.")

    @classmethod
    def from_row(cls, row: Any) -> OfferRule:
        return cls(
            id=strawberry.ID(ids.encode("OfferRule", row.id)),
            name=row.name,
            kind=RuleKind(row.kind),
            days_before=row.days_before,
            grace_days=row.grace_days,
            lookback_days=row.lookback_days,
            amount_off=row.amount_off,
            percent_off=row.percent_off,
            validity_days=row.validity_days,
            store_ids=[strawberry.ID(ids.encode("Location", i)) for i in row.location_ids]
            if row.location_ids is not None
            else None,
            channels=list(row.channels),
            subject=row.subject,
            body=row.body,
            active=row.active,
            created_at=row.created_at,
        )


@strawberry.input(description="The input of createOfferRule.")
class CreateOfferRuleInput:
    name: str
    kind: OfferRuleKind  # type: ignore[valid-type]
    channels: list[ConsentChannel]  # type: ignore[valid-type]
    body: str
    subject: str | None = None
    days_before: int | None = strawberry.field(
        default=None, description="BIRTHDAY: fire from this many days before the birthday."
    )
    grace_days: int = strawberry.field(
        default=0, description="REPLENISHMENT_DUE: days added to the usual interval."
    )
    lookback_days: int = strawberry.field(
        default=90, description="CROSS_STORE: purchases in this many days count."
    )
    amount_off: Decimal | None = None
    percent_off: Decimal | None = None
    validity_days: int = 30
    location_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description="Where the coupons are valid; omitted: all (CROSS_STORE: the store "
        "that has the stock).",
    )


@strawberry.type(description="The result of createOfferRule: what changed, or userErrors.")
class OfferRulePayload:
    offer_rule: OfferRule | None
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused, each with a stable code and the path of the "
        "input field; empty when it succeeded."
    )

    @classmethod
    def failed(cls, errors: list[UserError]) -> OfferRulePayload:
        return cls(offer_rule=None, user_errors=errors)


@strawberry.input(description="The input of runOfferTriggers.")
class RunOfferTriggersInput:
    now: datetime | None = strawberry.field(
        default=None, description="The clock to evaluate on; omitted: the database's now."
    )


@strawberry.type
class OfferChannelCount:
    channel: ConsentChannel  # type: ignore[valid-type]
    queued: int
    skipped_no_consent: int
    skipped_no_contact: int


@strawberry.type
class OfferRun:
    now: datetime
    rules: int
    fired: int
    already_fired: int = strawberry.field(description="Occasions fired by an earlier run.")
    coupons_issued: int
    failed: int
    channels: list[OfferChannelCount]

    @classmethod
    def from_result(cls, r: RunResult) -> OfferRun:
        return cls(
            now=r.now,
            rules=r.rules,
            fired=r.fired,
            already_fired=r.already_fired,
            coupons_issued=r.coupons_issued,
            failed=r.failed,
            channels=[
                OfferChannelCount(
                    channel=c,
                    queued=n.queued,
                    skipped_no_consent=n.skipped_no_consent,
                    skipped_no_contact=n.skipped_no_contact,
                )
                for c, n in sorted(r.channels.items())
            ],
        )


@strawberry.type(description="The result of runOfferTriggers: what changed, or userErrors.")
class RunOfferTriggersPayload:
    run: OfferRun | None
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused, each with a stable code and the path of the "
        "input field; empty when it succeeded."
    )

    @classmethod
    def failed(cls, errors: list[UserError]) -> RunOfferTriggersPayload:
        return cls(run=None, user_errors=errors)
