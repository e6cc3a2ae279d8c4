"""Members: the type (personal data masked or in clear, never both), inputs, payloads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import strawberry
from aiodataloader import DataLoader
from strawberry.types import Info

from auth.fields import requires, visible_with
from auth.permissions import Permission
from domain import ids
from domain.members import queries
from domain.members.consent import Channel, current_state
from domain.members.tags import merged
from domain.pagination import page_size
from schema.catalog import CurrencyCode, Money, Product, loaded_product
from schema.describe import enum_values
from schema.errors import UserError
from schema.loading import READS, compiled_type
from schema.locations import Location, loaded_location
from schema.relay import After, Connection, First, Node, connection, int_cursor

ConsentChannel = enum_values(
    SMS="Text messages.",
    EMAIL="Email.",
    CHAT="Chat messages (e.g. WhatsApp).",
)(
    strawberry.enum(
        Channel,
        name="ConsentChannel",
        description="A channel a member may consent to be contacted on.",
    )
)


class PersonalDataLoader(DataLoader[int, queries.PersonalData]):
    """One read per request level: masked, or in clear with one audit event per member."""

    def __init__(self, context: Any) -> None:
        super().__init__()
        self.context = context

    async def batch_load_fn(self, keys: Sequence[int]) -> list[queries.PersonalData]:
        ctx = self.context
        master = ctx.db.data_key
        if master is None:
            raise RuntimeError("no personal-data key (STOCKGRAPH_DATA_KEY) is configured")
        caller = ctx.viewer
        async with ctx.db.tenant_transaction(caller.tenant_id) as session:
            found = await queries.read_personal_data(
                session, caller, master, list(set(keys)), request_id=ctx.request_id
            )
        return [found.get(k, queries.ERASED) for k in keys]


def personal_data(info: Info) -> PersonalDataLoader:
    ctx = info.context
    if ctx._personal_data is None:
        ctx._personal_data = PersonalDataLoader(ctx)
    loader: PersonalDataLoader = ctx._personal_data
    return loader


@compiled_type
@strawberry.type(description="The current consent on one channel, from the consent ledger.")
class MemberConsent:
    channel: ConsentChannel = strawberry.field(description="The channel.")  # type: ignore[valid-type]
    granted: bool = strawberry.field(description="True when the member may be contacted on it now.")
    wording_version: str | None = strawberry.field(
        description="The version of the consent wording of the latest entry."
    )
    recorded_at: datetime | None = strawberry.field(
        description="When the latest entry was recorded; null when never asked."
    )
    recorded_by: str | None = strawberry.field(
        description="`staff:<id>` or `app:<client id>` of the latest entry."
    )
    client_id: str | None = strawberry.field(
        description="The OAuth client_id the latest entry came through, if any."
    )


@compiled_type
@strawberry.type(description="One entry of the append-only consent ledger.")
class ConsentRecord:
    channel: ConsentChannel = strawberry.field(description="The channel.")  # type: ignore[valid-type]
    granted: bool = strawberry.field(description="Granted (true) or withdrawn (false).")
    wording_version: str | None = strawberry.field(
        description="The version of the consent wording shown, if given."
    )
    recorded_at: datetime = strawberry.field(description="When it was recorded.")
    recorded_by: str = strawberry.field(
        description='Who recorded it, as a stored subject ("staff:<id>" or "app:<client id>").'
    )
    client_id: str | None = strawberry.field(
        description="The OAuth client_id it came through, if any."
    )
    staff_id: strawberry.ID | None = strawberry.field(
        description="The staff member who recorded it (a Staff ID), if any."
    )


@compiled_type
@strawberry.type(description="One product of a sale.")
class SaleLine:
    quantity: int = strawberry.field(description="Units sold.")
    unit_price: Decimal | None = strawberry.field(
        description="The price per unit charged (2 decimal places), in the sale's currency."
    )
    product_pk: strawberry.Private[int]

    product: Product = loaded_product("product_pk", "The product.")


@compiled_type
@strawberry.type(description="A POS receipt recorded with recordSale.")
class Sale(Node):
    receipt_number: str = strawberry.field(
        description="The till receipt number, unique per location."
    )
    occurred_at: datetime = strawberry.field(description="When it was rung up.")
    total: Money = strawberry.field(description="The sum of unit price × quantity over the lines.")
    oversold: bool = strawberry.field(description="True when a line took stock below zero.")
    posted_on: date | None = strawberry.field(
        description="Set when the sale was dated in a closed period: the first open day, "
        "on which it counts (occurredAt stays as rung up)."
    )
    pk: strawberry.Private[int]
    location_pk: strawberry.Private[int]

    location: Location = loaded_location("location_pk", "The store that sold.")

    @strawberry.field(description="The products sold.", metadata=READS)
    async def lines(self, info: Info) -> list[SaleLine]:
        rows = await info.context.loaders.movements_by_sale.load(self.pk)
        return [
            SaleLine(quantity=-r.delta, unit_price=r.unit_price, product_pk=r.product_id)
            for r in rows
        ]

    @classmethod
    def from_row(cls, row: Any) -> Sale:
        return cls(
            id=strawberry.ID(ids.encode("Sale", row.id)),
            receipt_number=row.receipt_number,
            occurred_at=row.occurred_at,
            total=Money(amount=row.total, currency=CurrencyCode(row.currency)),
            oversold=row.oversold,
            posted_on=getattr(row, "posted_on", None),
            pk=row.id,
            location_pk=row.location_id,
        )


@visible_with(Permission.MEMBERS_READ)
@compiled_type
@strawberry.type(
    description="A loyalty member. `phone`, `email` and `birthday` are masked without "
    'members:pii ("****5678", "c***@example.com", birthday "--MM"); every unmasked read '
    "is audited. Erased members have no personal data."
)
class Member(Node):
    member_number: str = strawberry.field(
        description='The member\'s number (e.g. "M00000042"), unique in the tenant.'
    )
    name: str = strawberry.field(description="The member's name.")
    tier: str = strawberry.field(
        description='The membership tier (e.g. "STANDARD", the default); upper case.'
    )
    hand_tags: strawberry.Private[list[str]]
    created_by: str = strawberry.field(description="`staff:<id>` or `app:<client id>`.")
    created_at: datetime = strawberry.field(description="When it was created.")
    erased_at: datetime | None = strawberry.field(
        description="When the member's personal data was erased (eraseMember); null otherwise."
    )
    pk: strawberry.Private[int]
    home_location_pk: strawberry.Private[int | None]

    @strawberry.field(
        description="Hand-set tags as set, then the computed ones (recency, frequency, spend, "
        "favourite, lapsed, vip), sorted.",
        metadata=READS,
    )
    async def tags(self, info: Info) -> list[str]:
        row = await info.context.loaders.computed_tags_by_member.load(self.pk)
        return merged(self.hand_tags, row.tags if row is not None else [])

    @strawberry.field(description="E.164; masked without members:pii.")
    async def phone(self, info: Info) -> str | None:
        return (await personal_data(info).load(self.pk)).phone

    @strawberry.field(description="Masked without members:pii.")
    async def email(self, info: Info) -> str | None:
        return (await personal_data(info).load(self.pk)).email

    @strawberry.field(
        description='"MM-DD" or "YYYY-MM-DD"; without members:pii the month only ("--MM").'
    )
    async def birthday(self, info: Info) -> str | None:
        return (await personal_data(info).load(self.pk)).birthday

    # phone, email and birthday are not declared compilable: read with members:pii they
    # write a member.pii_read audit event (queries.read_personal_data), so they always
    # run on the full path.

    @strawberry.field(description="The member's home store, if set.", metadata=READS)
    async def home_location(self, info: Info) -> Location | None:
        if self.home_location_pk is None:
            return None
        row = await info.context.loaders.location_by_id.load(self.home_location_pk)
        return Location.from_row(row)

    @strawberry.field(
        description="The current state per channel (SMS, EMAIL, CHAT).", metadata=READS
    )
    async def consents(self, info: Info) -> list[MemberConsent]:
        rows = await info.context.loaders.consents_by_member.load(self.pk)
        return [
            MemberConsent(
                channel=s.channel,
                granted=s.granted,
                wording_version=s.wording_version,
                recorded_at=s.recorded_at,
                recorded_by=s.actor,
                client_id=s.client_id,
            )
            for s in current_state(rows)
        ]

    @strawberry.field(description="The consent ledger, oldest first.", metadata=READS)
    async def consent_history(self, info: Info) -> list[ConsentRecord]:
        rows = await info.context.loaders.consents_by_member.load(self.pk)
        return [
            ConsentRecord(
                channel=Channel(r.channel),
                granted=r.granted,
                wording_version=r.wording_version,
                recorded_at=r.recorded_at,
                recorded_by=r.actor,
                client_id=r.client_id,
                staff_id=strawberry.ID(ids.encode("Staff", r.staff_id)) if r.staff_id else None,
            )
            for r in rows
        ]

    @strawberry.field(
        description="Sales recorded with this memberId, newest first.", metadata=READS
    )
    async def purchases(
        self,
        info: Info,
        first: First = None,
        after: After = None,
    ) -> Connection[Sale]:
        caller = info.context.viewer
        limit = page_size(first)
        cursor = int_cursor(after)
        async with info.context.db.tenant_transaction(caller.tenant_id) as session:
            page = await queries.member_purchases(
                session, caller, self.pk, limit=limit, after=cursor
            )
        return connection(page, Sale.from_row, lambda r: r.id)

    @classmethod
    def from_row(cls, row: Any) -> Member:
        return cls(
            id=strawberry.ID(ids.encode("Member", row.id)),
            member_number=row.member_number,
            name=row.name,
            tier=row.tier,
            hand_tags=list(row.tags),
            created_by=row.created_by,
            created_at=row.created_at,
            erased_at=row.erased_at,
            pk=row.id,
            home_location_pk=row.home_location_id,
        )


@strawberry.input(description="A member's answer on one channel.")
class ConsentInput:
    channel: ConsentChannel = strawberry.field(description="The channel.")  # type: ignore[valid-type]
    granted: bool = strawberry.field(description="Granted (true) or declined (false).")
    wording_version: str | None = strawberry.field(
        default=None, description="The version of the consent wording shown to the member."
    )


@strawberry.input(description="The input of createMember.")
class CreateMemberInput:
    name: str = strawberry.field(description="The member's name, 1 to 200 printable characters.")
    phone: str | None = strawberry.field(
        default=None,
        description='A mobile number: E.164 ("+85291234567") or 8 local digits (the '
        "tenant's country code is added); stored encrypted.",
    )
    email: str | None = strawberry.field(
        default=None, description="An email address; stored encrypted."
    )
    birthday: str | None = strawberry.field(default=None, description='"MM-DD" or "YYYY-MM-DD"')
    home_location_id: strawberry.ID | None = strawberry.field(
        default=None, description="The home store (a Location ID)."
    )
    tier: str | None = strawberry.field(
        default=None, description="The tier, 1 to 32 characters (upper-cased); default STANDARD."
    )
    tags: list[str] | None = strawberry.field(
        default=None, description="Hand-set tags, at most 50, each 1 to 64 printable characters."
    )
    consents: list[ConsentInput] | None = strawberry.field(
        default=None, description="Consents given at sign-up, at most one per channel."
    )


@strawberry.input(description="Omitted fields stay; a field given as null is cleared.")
class UpdateMemberInput:
    id: strawberry.ID = strawberry.field(
        description="The member's global ID; an erased member cannot be changed."
    )
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="A new name, 1 to 200 printable characters."
    )
    phone: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="A new phone (E.164 or 8 local digits); null clears it.",
    )
    email: str | None = strawberry.field(
        default=strawberry.UNSET, description="A new email; null clears it."
    )
    birthday: str | None = strawberry.field(
        default=strawberry.UNSET,
        description='A new birthday, "MM-DD" or "YYYY-MM-DD"; null clears it.',
    )
    home_location_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="A new home store (a Location ID); null clears it."
    )
    tier: str | None = strawberry.field(
        default=strawberry.UNSET, description="A new tier, 1 to 32 characters (upper-cased)."
    )


@strawberry.input(description="The input of setMemberTags.")
class SetMemberTagsInput:
    id: strawberry.ID = strawberry.field(description="The member's global ID.")
    tags: list[str] = strawberry.field(
        description="The hand-set tags, replacing the old ones: at most 50, each 1 to 64 "
        "printable characters. Computed tags are not affected."
    )


@strawberry.input(description="The input of setMemberConsent.")
class SetMemberConsentInput:
    member_id: strawberry.ID = strawberry.field(description="The member's global ID.")
    channel: ConsentChannel = strawberry.field(description="The channel.")  # type: ignore[valid-type]
    granted: bool = strawberry.field(
        description="Granted (true) or withdrawn (false); appended to the consent ledger."
    )
    wording_version: str | None = strawberry.field(
        default=None, description="The version of the consent wording shown, 1 to 64 characters."
    )


@strawberry.input(description="The input of eraseMember.")
class EraseMemberInput:
    id: strawberry.ID = strawberry.field(
        description="The member's global ID: the personal data (name, phone, email, "
        "birthday) is erased for good; sales stay, anonymous."
    )


@strawberry.type(
    description="The result of createMember, eraseMember, setMemberConsent, setMemberTags and "
    "updateMember: what changed, or userErrors."
)
class MemberPayload:
    member: Member | None = strawberry.field(
        description="The member as changed; needs members:read (null with FORBIDDEN otherwise).",
        permission_classes=[requires(Permission.MEMBERS_READ)],
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused, each with a stable code and the path of the "
        "input field; empty when it succeeded."
    )

    @classmethod
    def failed(cls, errors: list[UserError]) -> MemberPayload:
        return cls(member=None, user_errors=errors)
