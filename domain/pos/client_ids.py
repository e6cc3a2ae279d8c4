"""Client IDs: the UUIDs a till gives its sales, returns and voids, kept canonical."""

from __future__ import annotations

import uuid

from domain.errors import InvalidInput


def canonical(value: str) -> str | None:
    """The lower-case hyphenated form, or None for anything that is not a UUID."""
    try:
        return str(uuid.UUID(value.strip()))
    except (ValueError, AttributeError):
        return None


def client_id_of(value: str, path: list[str]) -> str:
    """A client ID is a UUID; INVALID otherwise."""
    client = canonical(value)
    if client is None:
        raise InvalidInput("must be a UUID", path)
    return client
