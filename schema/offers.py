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
from schema.describe import enum_values
from schema.errors import UserError
from schema.members import ConsentChannel
from schema.relay import Node

OfferRuleKind = enum_values(
    BIRTHDAY="From daysBefore days before a member's birthday to the day; once a year.",
    REPLENISHMENT_DUE="When a member who bought a SKU at least twice is past the usual "
    "interval (median gap) plus graceDays; once per last purchase.",
    CROSS_STORE="When the home store is out of a SKU the member bought within "
    "lookbackDays and another store has it; once per member, SKU and day.",
)(strawberry.enum(RuleKind, name="OfferRuleKind", description="When an offer fires."))


@visible_with(Permission.MEMBERS_READ)
@strawberry.type(
    description="A triggered offer: when it fires (kind), the coupon it issues and the "
    "message it sends on the channels the member consents to. Placeholders: {name}, "
    "{coupon}, {value}, {valid_until}, {store}, {product}."
)
class OfferRule(Node):
    name: str = strawberry.field(description="The rule's name.")
    kind: OfferRuleKind = strawberry.field(description="When it fires.")  # type: ignore[valid-type]
    days_before: int | None = strawberry.field(
        description="BIRTHDAY: fires from this many days before the birthday."
    )
    grace_days: int = strawberry.field(
        description="REPLENISHMENT_DUE: days added to the member's usual interval before it fires."
    )
    lookback_days: int = strawberry.field(
        description="CROSS_STORE: purchases within this many days count."
    )
    amount_off: Decimal | None = strawberry.field(
        description="The coupon's amount off, in the tenant's currency; null for a percentage."
    )
    percent_off: Decimal | None = strawberry.field(
        description="The coupon's percentage off; null for an amount."
    )
    validity_days: int = strawberry.field(description="Days each coupon it issues stays valid.")
    store_ids: list[strawberry.ID] | None = strawberry.field(
        description="Where its coupons are valid (Location IDs); null: every store."
    )
    channels: list[ConsentChannel] = strawberry.field(  # type: ignore[valid-type]
        description="The channels it messages on, where the member consents."
    )
    subject: str | None = strawberry.field(description="The email subject template.")
    body: str = strawberry.field(description="The message template.")
    active: bool = strawberry.field(description="False once switched off: it no longer fires.")
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
    name: str = strawberry.field(
        description="The rule's name, 1 to 200 characters. Needs members:write."
    )
    kind: OfferRuleKind = strawberry.field(description="When it fires.")  # type: ignore[valid-type]
    channels: list[ConsentChannel] = strawberry.field(  # type: ignore[valid-type]
        description="One or more channels, each once."
    )
    body: str = strawberry.field(
        description="The message template, 1 to 2000 characters, with placeholders {name}, "
        "{coupon}, {value}, {valid_until}, {store}, {product}."
    )
    subject: str | None = strawberry.field(
        default=None,
        description="The email subject, one line of 1 to 200 characters; required when "
        "channels include EMAIL.",
    )
    days_before: int | None = strawberry.field(
        default=None, description="BIRTHDAY: fire from this many days before the birthday."
    )
    grace_days: int = strawberry.field(
        default=0, description="REPLENISHMENT_DUE: days added to the usual interval."
    )
    lookback_days: int = strawberry.field(
        default=90, description="CROSS_STORE: purchases in this many days count."
    )
    amount_off: Decimal | None = strawberry.field(
        default=None,
        description="The coupon's amount off (tenant currency); give this or percentOff.",
    )
    percent_off: Decimal | None = strawberry.field(
        default=None, description="The coupon's percentage off, above 0 up to 100."
    )
    validity_days: int = strawberry.field(
        default=30, description="Days each coupon stays valid, 1 to 365 (default 30)."
    )
    location_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description="Where the coupons are valid; omitted: all (CROSS_STORE: the store "
        "that has the stock).",
    )


@strawberry.type(description="The result of createOfferRule: what changed, or userErrors.")
class OfferRulePayload:
    offer_rule: OfferRule | None = strawberry.field(
        description="The rule created; null when refused."
    )
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


@strawberry.type(description="Messages of one run on one channel.")
class OfferChannelCount:
    channel: ConsentChannel = strawberry.field(description="The channel.")  # type: ignore[valid-type]
    queued: int = strawberry.field(description="Messages queued for sending.")
    skipped_no_consent: int = strawberry.field(
        description="Skipped: the member has not consented on this channel."
    )
    skipped_no_contact: int = strawberry.field(
        description="Skipped: no phone or email for this channel."
    )


@strawberry.type(description="What one run of the offer triggers did.")
class OfferRun:
    now: datetime = strawberry.field(description="The clock it evaluated on.")
    rules: int = strawberry.field(description="Active rules evaluated.")
    fired: int = strawberry.field(description="Offers fired (coupon issued, messages queued).")
    already_fired: int = strawberry.field(description="Occasions fired by an earlier run.")
    coupons_issued: int = strawberry.field(description="Coupons issued.")
    failed: int = strawberry.field(
        description="Offers that failed and were skipped (the rest of the run went on)."
    )
    channels: list[OfferChannelCount] = strawberry.field(description="Messages per channel.")

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
    run: OfferRun | None = strawberry.field(description="What the run did; null when refused.")
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused, each with a stable code and the path of the "
        "input field; empty when it succeeded."
    )

    @classmethod
    def failed(cls, errors: list[UserError]) -> RunOfferTriggersPayload:
        return cls(run=None, user_errors=errors)
