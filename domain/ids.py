"""Opaque global IDs: base64url("Type:pk"). The type makes IDs of two types never collide."""

from __future__ import annotations

import base64
import binascii
import functools

_URLSAFE = bytes.maketrans(b"+/", b"-_")


MAX_ID_LENGTH = 200  # far longer than any ID we hand out


def _encode(type_name: str, pk: int | str) -> str:
    raw = binascii.b2a_base64(f"{type_name}:{pk}".encode(), newline=False)
    return raw.translate(_URLSAFE).rstrip(b"=").decode()


# Cached for the IDs we hand out (the same rows are listed again and again); decode
# checks IDs that callers send with the uncached one, so they never fill this cache.
encode = functools.lru_cache(maxsize=65_536)(_encode)


def decode(global_id: str) -> tuple[str, str] | None:
    """(type, pk) or None when the ID is not one of ours."""
    if len(global_id) > MAX_ID_LENGTH:
        return None
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode()
    except (binascii.Error, UnicodeError, ValueError):
        return None
    type_name, sep, pk = text.partition(":")
    if not sep or not type_name or not pk or _encode(type_name, pk) != global_id:
        return None  # only the one spelling we hand out is accepted
    return type_name, pk


def decode_int(global_id: str, type_name: str) -> int | None:
    """The integer pk of an ID of ``type_name``, or None for anything else."""
    parsed = decode(global_id)
    if parsed is None or parsed[0] != type_name:
        return None
    digits = parsed[1]
    if not digits.isascii() or not digits.isdigit() or digits.startswith("0"):
        return None
    value = int(digits)
    return value if value < 2**63 else None


def encode_scoped(type_name: str, tenant_id: int, pk: int) -> str:
    """For rows numbered per tenant (audit events): the tenant is part of the ID."""
    return encode(type_name, f"{tenant_id}-{pk}")


def decode_scoped(global_id: str, type_name: str) -> tuple[int, int] | None:
    parsed = decode(global_id)
    if parsed is None or parsed[0] != type_name:
        return None
    tenant, sep, pk = parsed[1].partition("-")
    parts = (tenant, pk)
    if not sep or not all(p.isascii() and p.isdigit() and not p.startswith("0") for p in parts):
        return None
    return int(tenant), int(pk)
