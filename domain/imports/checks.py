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


_PHONE_NOISE = str.maketrans("", "", " -()")


def phone(value: str) -> str | None:
    """A Hong Kong (+852, 8 digits from 2–9), Macau (+853, 8 digits from 2 or 6) or mainland
    (+86, 11 digits from 1) mobile or fixed number, as E.164. 8 bare digits are Hong Kong."""
    checked = text(value, 32)
    if checked is None:
        return None
    digits = checked.translate(_PHONE_NOISE)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if not digits.startswith("+") and len(digits) == 8:
        digits = "+852" + digits
    number = digits[1:]
    valid = (
        digits.startswith("+")
        and number.isascii()
        and number.isdigit()
        and (
            (number.startswith("852") and len(number) == 11 and number[3] in "23456789")
            or (number.startswith("853") and len(number) == 11 and number[3] in "26")
            or (number.startswith("86") and len(number) == 13 and number[2] == "1")
        )
    )
    if not valid:
        raise Problem("INVALID_PHONE", "not a Hong Kong, Macau or mainland China number")
    return digits


def email(value: str) -> str | None:
    checked = text(value, 254)
    if checked is None:
        return None
    local, at, domain = checked.rpartition("@")
    if not at or not local or "." not in domain or " " in checked:
        raise Problem("INVALID_EMAIL", "not an email address")
    return checked


def birthday(value: str) -> str | None:
    """MM-DD or YYYY-MM-DD, as the members API takes it."""
    from datetime import date

    checked = text(value, 10)
    if checked is None:
        return None
    try:
        if len(checked) == 5:
            date.fromisoformat("2000-" + checked)
        else:
            date.fromisoformat(checked)
    except ValueError:
        raise Problem("INVALID_DATE", "a birthday is MM-DD or YYYY-MM-DD") from None
    return checked
