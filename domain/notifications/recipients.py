"""What a recipient may be on each channel; pure, so it is tested without a database."""

from __future__ import annotations

import re

from domain.errors import InvalidInput
from domain.notifications.records import CHAT, EMAIL, SMS

MAX_EMAIL = 254
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
# Hong Kong (+852) and Macau (+853) numbers have exactly eight digits.
_LOCAL_LENGTH = {"+852": 8, "+853": 8}
_PHONE_NOISE = re.compile(r"[\s\-().]")
CHAT_GROUP = "group"
CHAT_ALL = "@all"


def email_address(value: str, field: list[str]) -> str:
    """A plain ``local@domain.tld`` (no display name, no spaces); the domain lower-cased."""
    text = value.strip()
    local, at, domain = text.rpartition("@")
    if (
        not at
        or len(text) > MAX_EMAIL
        or not _LOCAL.match(local)
        or local.startswith(".")
        or local.endswith(".")
        or ".." in local
    ):
        raise InvalidInput("the recipient is not an email address", field)
    try:
        ascii_domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise InvalidInput("the recipient is not an email address", field) from None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise InvalidInput("the recipient is not an email address", field)
    return f"{local}@{ascii_domain}"


def phone_number(value: str, field: list[str]) -> str:
    """An E.164 number (``+85291234567``); spaces, dashes, dots and brackets are dropped."""
    text = _PHONE_NOISE.sub("", value.strip())
    if not _E164.match(text):
        raise InvalidInput(
            "the recipient is not a phone number in international form (+852…)", field
        )
    for prefix, length in _LOCAL_LENGTH.items():
        if text.startswith(prefix) and len(text) != len(prefix) + length:
            raise InvalidInput(f"{prefix} numbers have {length} digits", field)
    return text


def recipient(channel: str, value: str, field: list[str] | None = None) -> str:
    """The normalised recipient, or INVALID.

    EMAIL: an address. SMS: an E.164 number. CHAT (a group robot): ``group``
    (the group, nobody mentioned), ``@all``, or an E.164 number to mention.
    """
    where = field or ["recipient"]
    if channel == EMAIL:
        return email_address(value, where)
    if channel == SMS:
        return phone_number(value, where)
    if channel == CHAT:
        text = value.strip()
        if text.lower() in (CHAT_GROUP, CHAT_ALL):
            return text.lower()
        return phone_number(text, where)
    raise InvalidInput(f"unknown channel {channel!r}", ["channel"])
