"""Reading a settlement CSV strictly: UTF-8, a size limit, the columns a format needs.

Every refusal is a ``ParseError`` naming the line (1 is the header) and the column.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from domain.reconciliation.formats.rows import ParseError

MAX_BYTES = 20 * 1024 * 1024
MAX_FIELD = 500
HONG_KONG = ZoneInfo("Asia/Hong_Kong")


def _position(data: bytes, offset: int) -> tuple[int, str]:
    """The line and the column (by header name when it can be told) of a byte offset."""
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    index = data.count(b",", start, offset)
    header_end = data.find(b"\n")
    header = data[: header_end if header_end >= 0 else len(data)]
    names = header.decode("utf-8", "replace").lstrip("\ufeff").strip().split(",")
    column = names[index].strip() if index < len(names) else str(index + 1)
    return line, column


def rows(data: bytes, required: Sequence[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for each data row; the header must hold ``required``."""
    if len(data) > MAX_BYTES:
        line, column = _position(data, MAX_BYTES)
        raise ParseError(
            line, column, f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, column = _position(data, exc.start)
        raise ParseError(
            line, column, f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise ParseError(1, required[0], "the file is empty") from None
    except csv.Error as exc:
        raise ParseError(1, required[0], f"not CSV: {exc}") from None
    lowered = {h.lower(): i for i, h in enumerate(header)}
    for name in required:
        if name.lower() not in lowered:
            raise ParseError(1, name, "this column is missing from the header")
    try:
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(header):
                raise ParseError(
                    line,
                    header[min(len(record), len(header) - 1)],
                    f"{len(record)} fields where the header has {len(header)}",
                )
            for name, cell in zip(header, record, strict=True):
                if len(cell) > MAX_FIELD:
                    raise ParseError(line, name, f"longer than {MAX_FIELD} characters")
            yield line, {h.lower(): cell.strip() for h, cell in zip(header, record, strict=True)}
    except csv.Error as exc:
        raise ParseError(reader.line_num, header[0], f"not CSV: {exc}") from None


def money(line: int, column: str, value: str, *, optional: bool = False) -> Decimal:
    """A decimal amount with at most 2 places."""
    if value == "" and optional:
        return Decimal("0")
    try:
        amount = Decimal(value.replace(",", ""))
    except InvalidOperation:
        raise ParseError(line, column, f"{value!r} is not an amount") from None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        raise ParseError(line, column, f"{value!r} is not an amount with at most 2 decimals")
    if abs(amount) >= Decimal(10) ** 10:
        raise ParseError(line, column, f"{value!r} is too large")
    return amount


def timestamp(line: int, column: str, value: str, pattern: str, shown: str) -> datetime:
    """A local Hong Kong time in ``pattern``."""
    try:
        return datetime.strptime(value, pattern).replace(tzinfo=HONG_KONG)
    except ValueError:
        raise ParseError(line, column, f"{value!r} is not a time as {shown}") from None


def text_or_none(value: str) -> str | None:
    return value or None
