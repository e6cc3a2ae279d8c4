"""Normalising and masking personal data. Pure; the one definition of every mask.

Masks (the same in queries, exports, errors and any future subscription):

- phone: ``"****"`` + the last four digits (``"****5678"``);
- email: the first character of the local part, ``"***@"``, the domain
  (``"c***@example.com"``);
- birthday: the month only, as ISO 8601's truncated month ``"--MM"`` (``"--05"``).

Unmasked, a birthday reads as it was given: ``"MM-DD"`` or ``"YYYY-MM-DD"``.
"""

from __future__ import annotations

import re
from datetime import date

from domain.errors import InvalidInput

_PHONE_NOISE = re.compile(r"[\s\-().]")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")
_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")
_FULL_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")

# Local numbers in Hong Kong and Macau have 8 digits and no trunk prefix.
COUNTRY_CODES = {"HK": "852", "MO": "853"}


def normalise_phone(raw: str, default_country: str = "852", field: str = "phone") -> str:
    """E.164 (``+85291234567``): ``+`` or ``00`` and a country code, or 8 local digits."""
    text = _PHONE_NOISE.sub("", raw.strip())
    if text.startswith("00"):
        text = "+" + text[2:]
    if not text.startswith("+") and len(text) == 8:
        text = "+" + default_country + text
    digits = text[1:]
    if not (text.startswith("+") and digits.isascii() and digits.isdigit()):
        raise InvalidInput("phone must be an E.164 number or 8 local digits", [field])
    if not 8 <= len(digits) <= 15 or digits.startswith("0"):
        raise InvalidInput("phone must be an E.164 number or 8 local digits", [field])
    return "+" + digits


def looks_like_phone(text: str) -> bool:
    cleaned = _PHONE_NOISE.sub("", text.strip())
    body = cleaned[1:] if cleaned.startswith("+") else cleaned
    return body.isascii() and body.isdigit() and len(body) >= 8


def normalise_email(raw: str, field: str = "email") -> str:
    text = raw.strip()
    if len(text) > 254 or not _EMAIL.match(text):
        raise InvalidInput("email is not a valid address", [field])
    local, _, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}"


def normalise_birthday(raw: str, today: date | None = None, field: str = "birthday") -> str:
    """``MM-DD`` or ``YYYY-MM-DD``, a real date (29 February allowed without a year)."""
    text = raw.strip()
    error = InvalidInput("birthday must be MM-DD or YYYY-MM-DD", [field])
    if m := _MONTH_DAY.match(text):
        year, month, day = 2000, int(m.group(1)), int(m.group(2))
    elif m := _FULL_DATE.match(text):
        year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if year < 1900:
            raise error
    else:
        raise error
    try:
        when = date(year, month, day)
    except ValueError:
        raise error from None
    if _FULL_DATE.match(text) and when > (today or date.today()):
        raise error
    return text


def mask_phone(phone: str | None) -> str | None:
    if phone is None:
        return None
    return "****" + phone[-4:]


def mask_email(email: str | None) -> str | None:
    if email is None:
        return None
    local, _, domain = email.rpartition("@")
    return f"{local[:1]}***@{domain}"


def mask_birthday(birthday: str | None) -> str | None:
    if birthday is None:
        return None
    month = birthday[-5:-3]  # "MM-DD" and "YYYY-MM-DD" both end in MM-DD
    return f"--{month}"
