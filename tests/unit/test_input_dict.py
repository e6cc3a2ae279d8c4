"""``input_dict`` (what a mutation hashes for idempotency and keeps for a refusal's
audit event) gives exactly ``strawberry.asdict``'s result: stored request hashes stay
valid, whatever path made them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import strawberry
from strawberry import UNSET
from strawberry.types.maybe import Maybe, Some

from domain import idempotency
from resolvers._mutation import input_dict
from schema.stock import PaymentInput, RecordSaleInput, SaleLineInput


@strawberry.input
class Patch:
    name: Maybe[str | None] = UNSET
    tags: list[str] | None = UNSET
    nested: list[SaleLineInput] | None = None
    idempotency_key: str | None = None


def test_a_sale_input_is_strawberrys_asdict() -> None:
    sale = RecordSaleInput(
        location_id=strawberry.ID("TG9jYXRpb246MQ"),
        receipt_number="R-1",
        lines=[
            SaleLineInput(sku="A", quantity=2, unit_price=Decimal("12.50")),
            SaleLineInput(sku="B", quantity=1),
        ],
        occurred_at=datetime(2026, 12, 7, 9, 30, tzinfo=UTC),
        payments=[PaymentInput(method="octopus", amount=Decimal("25.00"), reference=None)],
    )
    expected = strawberry.asdict(sale)
    expected.pop("idempotency_key", None)
    assert input_dict(sale) == expected
    assert idempotency.request_hash("stock.sale", input_dict(sale)) == idempotency.request_hash(
        "stock.sale", expected
    )


def test_unset_is_left_out_and_some_unwrapped() -> None:
    patch = Patch(name=Some(None), nested=[SaleLineInput(sku="C", quantity=3)], idempotency_key="k")
    expected = strawberry.asdict(patch)
    expected.pop("idempotency_key")
    assert input_dict(patch) == expected
    assert "tags" not in input_dict(patch)
    assert input_dict(patch)["name"] is None
    assert input_dict(Patch(name=Some("x")))["name"] == "x"
