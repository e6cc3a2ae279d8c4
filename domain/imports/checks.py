"""Field checks shared by the import kinds: each returns the value or raises a coded Problem."""

from __future__ import annotations

import re
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


CURRENCIES = ("HKD", "MOP")
MAX_LEAD_TIME = 365


def currency(value: str) -> str | None:
    """HKD or MOP (HK$ and MOP$ as written on invoices too); blank: the default."""
    checked = text(value, 8)
    if checked is None:
        return None
    code = {"HK$": "HKD", "MOP$": "MOP", "港幣": "HKD", "港元": "HKD", "澳門元": "MOP"}.get(
        checked, checked.upper()
    )
    if code not in CURRENCIES:
        raise Problem("INVALID_CURRENCY", "HKD or MOP")
    return code


def lead_time(value: str) -> int | None:
    """Whole days from order to delivery, 0 to 365; blank: the default."""
    if not value.strip():
        return None
    days = quantity(value.strip().removesuffix("天").removesuffix("日").strip(), allow_zero=True)
    if days > MAX_LEAD_TIME:
        raise Problem("OUT_OF_RANGE", f"must be 0 to {MAX_LEAD_TIME}")
    return days


_WEEKDAYS = {
    **{str(n): n for n in range(1, 8)},
    **{name: n for n, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), 1)},
    **{
        name: n
        for n, name in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"), 1
        )
    },
    **{name: n for n, name in enumerate(("tues", "weds", "thur", "thurs"), 2)},
    **{c: n for n, c in enumerate("一二三四五六日", 1)},
    "天": 7,
}
_RANGE = re.compile(r"\s*(?:-|–|~|至|到)\s*")
_SPLIT = re.compile(r"[\s,，、/;；]+")
_PREFIX = re.compile(r"^(?:星期|禮拜|礼拜|週|周)")


def _weekday(token: str) -> int:
    day = _WEEKDAYS.get(_PREFIX.sub("", token.strip().casefold()).removesuffix("."))
    if day is None:
        raise Problem("INVALID_WEEKDAY", f"{token!r} is not a weekday (Mon–Sun, 1–7, 一–日)")
    return day


def weekdays(value: str) -> tuple[int, ...] | None:
    """The days a supplier takes orders, as ISO weekdays (1 = Monday), sorted.

    "Mon,Wed,Fri", "1 3 5", "一、三、五", "星期一至星期五", "Mon-Fri" all read; blank: the
    default (Monday to Friday).
    """
    checked = text(value, 100)
    if checked is None:
        return None
    days: set[int] = set()
    for part in _SPLIT.split(_RANGE.sub("-", checked)):
        if not part:
            continue
        first, dash, last = part.partition("-")
        if dash:
            start, end = _weekday(first), _weekday(last)
            if end < start:
                raise Problem("INVALID_WEEKDAY", f"{part!r} runs backwards")
            days.update(range(start, end + 1))
        elif len(part) > 1 and all(c in "一二三四五六日" for c in part):
            days.update(_weekday(c) for c in part)  # 一三五
        else:
            days.add(_weekday(part))
    return tuple(sorted(days))


def optional_quantity(value: str) -> int | None:
    """Units, 0 to the limit; blank: none given."""
    return quantity(value, allow_zero=True) if value.strip() else None


_METHODS = {
    "reorderpoint": "REORDER_POINT",
    "rop": "REORDER_POINT",
    "再訂購點": "REORDER_POINT",
    "minmax": "MIN_MAX",
    "最低最高": "MIN_MAX",
    "最低至最高": "MIN_MAX",
}


def rule_method(value: str) -> str | None:
    """REORDER_POINT (also ROP, 再訂購點) or MIN_MAX (also min/max, 最低最高); blank: default."""
    checked = text(value, 32)
    if checked is None:
        return None
    method = _METHODS.get(re.sub(r"[\s_\-/]+", "", checked).casefold())
    if method is None:
        raise Problem("INVALID_METHOD", "REORDER_POINT or MIN_MAX")
    return method


def bounded_quantity(value: str, limit: int) -> int | None:
    """A count of at least 1 and at most ``limit`` (pack size, minimum order); blank: 1."""
    if not value.strip():
        return None
    number = quantity(value)
    if number > limit:
        raise Problem("OUT_OF_RANGE", f"must be 1 to {limit}")
    return number
