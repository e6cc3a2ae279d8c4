"""Custom scalars of the contract, and the input rules every scalar enforces at the edge.

Every refusal is a ``GraphQLError`` with ``extensions.code = "INVALID"``: graphql-core
passes such an error through as it is (a literal) or wraps it naming the variable
and the path inside it (``Variable '$input' has invalid value.note: …``), keeping
its extensions, so it is never taken for an unexpected error, masked as
"Unexpected error." or logged with a traceback.

- ``BigInt``: a 64-bit integer, as a string or an integer; at most 20 characters
  are even looked at, so a 100,000-digit literal costs nothing.
- ``Decimal``: at most 100 characters and a magnitude between 1e-40 and 1e40, so
  ``1e400`` and ``1e-1000000`` are refused before anything computes with them
  (both are valid ``decimal.Decimal`` values); NaN and business bounds are left
  to the domain, which answers them with userErrors.
- ``DateTime`` and ``Date``: ISO 8601; a refusal says what was expected, not what
  the parser tripped on (``invalid literal for int() with base 10``). A DateTime
  without its offset parses, and the domain refuses it with a userError.
- ``String`` and ``ID``: no NUL (PostgreSQL text cannot hold it) and no lone
  surrogate (no UTF-8 encoding exists for it). graphql-core forbids redefining
  its specified scalars, so ``harden_text_scalars`` adds the check to them in
  place; the schema builder calls it once.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import re
from collections.abc import Callable
from typing import Any, NewType

import strawberry
from graphql import GraphQLError, GraphQLID, GraphQLScalarType, GraphQLString
from graphql.language import FloatValueNode, IntValueNode, StringValueNode, ValueNode
from graphql.pyutils import inspect
from strawberry.file_uploads import Upload
from strawberry.scalars import JSON
from strawberry.schema.types.base_scalars import DateDefinition, DateTimeDefinition
from strawberry.schema.types.scalar import DEFAULT_SCALAR_REGISTRY

BigInt = NewType("BigInt", int)
INVALID = "INVALID"
MAX_BIGINT_CHARS = 20
MAX_DECIMAL_CHARS = 100
MAX_DECIMAL_EXPONENT = 40
MAX_DATETIME_CHARS = 64
DATETIME_EXPECTED = (
    "DateTime must be an ISO 8601 date and time with a UTC offset, "
    "such as 2026-12-07T09:30:00+08:00"
)
DATE_EXPECTED = "Date must be an ISO 8601 calendar date, such as 2026-12-07"
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


def invalid(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": INVALID})


def _parse_bigint(value: object) -> int:
    if isinstance(value, bool):
        raise invalid("BigInt cannot be a boolean")
    if isinstance(value, int):
        number = value
    elif (
        isinstance(value, str)
        and len(value) <= MAX_BIGINT_CHARS
        and value.isascii()
        and value.strip().lstrip("-").isdigit()
    ):
        number = int(value)
    else:
        raise invalid("BigInt must be a 64-bit integer, as a string or a number")
    if not -(2**63) <= number < 2**63:
        raise invalid("BigInt out of 64-bit range")
    return number


def _bigint_literal(node: ValueNode, _variables: Any = None) -> int:
    if isinstance(node, IntValueNode | StringValueNode) and len(node.value) <= MAX_BIGINT_CHARS:
        return _parse_bigint(node.value if isinstance(node, StringValueNode) else int(node.value))
    if isinstance(node, IntValueNode):
        raise invalid("BigInt out of 64-bit range")
    raise invalid("BigInt must be a 64-bit integer, as a string or a number")


def parse_decimal(value: object) -> decimal.Decimal:
    """A Decimal of bounded size from a string or a number; INVALID for anything else.

    Business bounds (no NaN, at most so many digits, not negative) are the domain's,
    reported as userErrors; this only keeps out what nothing can compute with cheaply.
    """
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise invalid("Decimal must be a number or a numeric string")
    text = value if isinstance(value, str) else repr(value)
    if len(text) > MAX_DECIMAL_CHARS:
        raise invalid(f"Decimal must be at most {MAX_DECIMAL_CHARS} characters")
    try:
        number = decimal.Decimal(text.strip())
    except (decimal.DecimalException, ValueError):
        raise invalid("Decimal must be a number or a numeric string") from None
    if number.is_finite() and number and abs(number.adjusted()) > MAX_DECIMAL_EXPONENT:
        raise invalid(
            f"Decimal must be between 1e-{MAX_DECIMAL_EXPONENT} and 1e{MAX_DECIMAL_EXPONENT}"
        )
    return number


def _decimal_literal(node: ValueNode, _variables: Any = None) -> decimal.Decimal:
    if isinstance(node, IntValueNode | FloatValueNode | StringValueNode):
        return parse_decimal(node.value)
    raise invalid("Decimal must be a number or a numeric string")


def parse_datetime(value: object) -> datetime.datetime:
    """An ISO 8601 date and time; INVALID saying what was expected (never the parser's
    own words, such as ``invalid literal for int() with base 10``)."""
    if not isinstance(value, str) or len(value) > MAX_DATETIME_CHARS:
        raise invalid(f"{DATETIME_EXPECTED}; got {_shown(value)}")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        # a value without its offset parses; the mutation then refuses it with a userError
        # naming its field (the domain's rule, as the scalar's description says)
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        raise invalid(f"{DATETIME_EXPECTED}; got {_shown(value)}") from None


def parse_date(value: object) -> datetime.date:
    if not isinstance(value, str) or len(value) > MAX_DATETIME_CHARS:
        raise invalid(f"{DATE_EXPECTED}; got {_shown(value)}")
    try:
        return datetime.date.fromisoformat(value.strip())
    except ValueError:
        raise invalid(f"{DATE_EXPECTED}; got {_shown(value)}") from None


def _shown(value: object) -> str:
    """The offending value as GraphQL prints it (a string in double quotes), cut short."""
    if isinstance(value, str):
        return '"' + (value if len(value) <= 60 else value[:57] + "...") + '"'
    shown = inspect(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def check_text(value: str, kind: str = "String") -> str:
    """``value`` unchanged, or INVALID when it holds NUL or a lone surrogate."""
    if _BAD_TEXT.search(value) is not None:
        raise invalid(f"{kind} must not contain NUL (U+0000) or unpaired surrogates")
    return value


def _checked(fn: Callable[..., Any], kind: str) -> Callable[..., Any]:
    def coerce(*args: Any) -> Any:
        result = fn(*args)
        return check_text(result, kind) if isinstance(result, str) else result

    coerce.hardened = True  # type: ignore[attr-defined]
    return coerce


def harden_text_scalars() -> None:
    """Refuse NUL and lone surrogates in every String and ID input (idempotent)."""
    for scalar, kind in ((GraphQLString, "String"), (GraphQLID, "ID")):
        _harden(scalar, kind)


def _harden(scalar: GraphQLScalarType, kind: str) -> None:
    for name in ("coerce_input_value", "coerce_input_literal", "parse_value", "parse_literal"):
        fn = getattr(scalar, name, None)
        if fn is not None and not getattr(fn, "hardened", False):
            setattr(scalar, name, _checked(fn, kind))


# Where each custom scalar is specified (introspection: ``specifiedByURL``).
RFC3339_DATE = "https://www.rfc-editor.org/rfc/rfc3339#section-5.6"
DATE_TIME_SPEC = "https://scalars.graphql.org/andimarek/date-time.html"
BIGINT_SPEC = "https://protobuf.dev/programming-guides/json/"
DECIMAL_SPEC = "https://speleotrove.com/decimal/daconvs.html"
JSON_SPEC = "https://www.rfc-editor.org/rfc/rfc8259"
UPLOAD_SPEC = "https://github.com/jaydenseric/graphql-multipart-request-spec"

SCALAR_MAP: dict[object, Any] = {
    BigInt: strawberry.scalar(
        name="BigInt",
        description="A 64-bit signed integer, serialized as a decimal string (JSON numbers "
        "lose precision above 2^53); accepted as a string or an integer, like int64 in the "
        "protobuf JSON mapping. Sequences and versions use it.",
        specified_by_url=BIGINT_SPEC,
        serialize=lambda v: str(int(v)),
        parse_value=_parse_bigint,
        parse_literal=_bigint_literal,
    ),
    decimal.Decimal: strawberry.scalar(
        name="Decimal",
        description='An exact decimal number, serialized as a string ("12.50"), never a float; '
        "accepted as a numeric string or a number (send strings: a JSON float may already "
        "have lost digits). At most 100 characters, magnitude between 1e-40 and 1e40.",
        specified_by_url=DECIMAL_SPEC,
        serialize=str,
        parse_value=parse_decimal,
        parse_literal=_decimal_literal,
    ),
    datetime.datetime: dataclasses.replace(
        DateTimeDefinition,
        description="An instant as an RFC 3339 date-time with a UTC offset, e.g. "
        '"2026-12-07T15:30:00+08:00" or "2026-12-07T07:30:00Z"; output always carries its '
        "offset. Input needs the offset: without one, the mutation refuses the value with "
        "an INVALID userError naming the field (the server never guesses a time zone).",
        specified_by_url=DATE_TIME_SPEC,
        parse_value=parse_datetime,
    ),
    datetime.date: dataclasses.replace(
        DateDefinition,
        description='A calendar date, RFC 3339 full-date "YYYY-MM-DD", with no time zone: '
        "a business day in the tenant's time zone (Asia/Hong_Kong unless set otherwise).",
        specified_by_url=RFC3339_DATE,
        parse_value=parse_date,
    ),
    JSON: dataclasses.replace(
        DEFAULT_SCALAR_REGISTRY[JSON],
        description="Any JSON value (RFC 8259): an object, array, string, number, boolean or "
        "null, passed through as it is.",
        specified_by_url=JSON_SPEC,
    ),
    Upload: dataclasses.replace(
        DEFAULT_SCALAR_REGISTRY[Upload],
        description="A file sent as a part of a multipart/form-data request, per the GraphQL "
        "multipart request specification; only as a variable, never inline.",
        specified_by_url=UPLOAD_SPEC,
    ),
}
