"""Field checks shared by the import kinds: each returns the value or raises a coded Problem."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

MAX_MONEY = Decimal(10) ** 10
MAX_QUANTITY = 1_000_000


class Problem(Exception):
    """One field of one row is wrong; ``code`` is stable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def text(value: str, limit: int, *, required: bool = False) -> str | None:
    value = value.strip()
    if not value:
        if required:
            raise Problem("REQUIRED", "a value is required")
        return None
    if value.startswith("="):
        raise Problem("FORMULA", "formulas are not evaluated; give the value itself")
    if len(value) > limit:
        raise Problem("TOO_LONG", f"at most {limit} characters")
    return value


def code(value: str) -> str:
    """SKUs and location codes: 1 to 64 characters, no spaces."""
    checked = text(value, 64, required=True)
    assert checked is not None
    if any(c.isspace() for c in checked):
        raise Problem("INVALID", "no spaces allowed")
    return checked


def ean13(value: str) -> str | None:
    """An EAN-13 with a correct check digit (an 8- or 12-digit UPC is also accepted as is)."""
    checked = text(value, 32)
    if checked is None:
        return None
    if not checked.isdigit() or len(checked) not in (8, 12, 13):
        raise Problem("INVALID_BARCODE", "a barcode is 8, 12 or 13 digits")
    if len(checked) == 13:
        digits = [int(c) for c in checked]
        expected = (10 - sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits[:12])) % 10) % 10
        if digits[12] != expected:
            raise Problem("BAD_CHECK_DIGIT", f"the check digit should be {expected}")
    return checked


def money(value: str, *, required: bool = False, places: int = 4) -> Decimal | None:
    """A price or cost: a plain decimal number (HK$ and thousands commas allowed), ≥ 0."""
    checked = text(value, 32, required=required)
    if checked is None:
        return None
    cleaned = checked.replace(",", "").removeprefix("HK$").removeprefix("MOP$").removeprefix("$")
    try:
        amount = Decimal(cleaned.strip())
    except InvalidOperation:
        raise Problem("NOT_A_NUMBER", "not a number") from None
    if not amount.is_finite():
        raise Problem("NOT_A_NUMBER", "not a number")
    if amount < 0 or amount >= MAX_MONEY:
        raise Problem("OUT_OF_RANGE", f"must be from 0 to {MAX_MONEY}")
    if amount != amount.quantize(Decimal(1).scaleb(-places)):
        raise Problem("TOO_PRECISE", f"at most {places} decimal places")
    return amount


def quantity(value: str, *, allow_zero: bool = False) -> int:
    checked = text(value, 16, required=True)
    assert checked is not None
    try:
        number = Decimal(checked.replace(",", ""))
    except InvalidOperation:
        raise Problem("NOT_A_NUMBER", "not a number") from None
    if not number.is_finite() or number != number.to_integral_value():
        raise Problem("NOT_AN_INTEGER", "a whole number of units")
    low = 0 if allow_zero else 1
    if not low <= number <= MAX_QUANTITY:
        raise Problem("OUT_OF_RANGE", f"must be {low} to {MAX_QUANTITY}")
    return int(number)
