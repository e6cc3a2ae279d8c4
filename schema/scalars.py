"""Custom scalars of the contract: BigInt as a string, accepted as string or integer."""

from __future__ import annotations

from typing import Any, NewType

import strawberry

BigInt = NewType("BigInt", int)


def _parse_bigint(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError("BigInt cannot be a boolean")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
        number = int(value)
    else:
        raise ValueError(f"BigInt cannot represent {value!r}")
    if not -(2**63) <= number < 2**63:
        raise ValueError("BigInt out of 64-bit range")
    return number


SCALAR_MAP: dict[object, Any] = {
    BigInt: strawberry.scalar(
        name="BigInt",
        description="A 64-bit integer, serialized as a string; accepted as a string or an integer.",
        serialize=lambda v: str(int(v)),
        parse_value=_parse_bigint,
    )
}
