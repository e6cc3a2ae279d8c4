"""Tender methods and the checks every tender list passes (sales and refunds alike)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from domain.errors import InvalidInput

MAX_TENDERS = 20
MAX_MONEY = Decimal(10) ** 10


class TenderMethod(StrEnum):
    CASH = "CASH"
    OCTOPUS = "OCTOPUS"
    ALIPAYHK = "ALIPAYHK"
    WECHATPAY_HK = "WECHATPAY_HK"
    PAYME = "PAYME"
    FPS = "FPS"
    CARD = "CARD"
    COUPON = "COUPON"


@dataclass(frozen=True, slots=True)
class Tender:
    """An amount in the tenant's currency; the provider's reference and reader ID when the
    provider gave them (they are what settlement files are matched on)."""

    method: TenderMethod
    amount: Decimal
    provider_reference: str | None = None
    terminal_id: str | None = None


def check_tenders(tenders: Sequence[Tender], path: list[str]) -> Decimal:
    """Each amount positive with at most two decimals; returns the sum."""
    if len(tenders) > MAX_TENDERS:
        raise InvalidInput(f"at most {MAX_TENDERS} tenders", path)
    total = Decimal("0")
    for i, t in enumerate(tenders):
        at = [*path, str(i)]
        if (
            not t.amount.is_finite()
            or t.amount <= 0
            or t.amount >= MAX_MONEY
            or t.amount != t.amount.quantize(Decimal("0.01"))
        ):
            raise InvalidInput("amount must be positive, with at most 2 decimals", [*at, "amount"])
        for value, name, limit in (
            (t.provider_reference, "providerReference", 128),
            (t.terminal_id, "terminalId", 64),
        ):
            if value is not None and not 0 < len(value) <= limit:
                raise InvalidInput(f"{name} must be 1 to {limit} characters", [*at, name])
        total += t.amount
    return total
