"""stockgraph's Octopus settlement CSV (Octopus publishes no file layout of its own).

Columns (any order, matched case-insensitively; ``fee`` may be left out):

| column | meaning |
| --- | --- |
| ``reader_id`` | the Octopus reader that took the payment |
| ``transaction_time`` | ``YYYY-MM-DD HH:MM:SS``, Hong Kong time |
| ``amount`` | HKD, positive; a refund may be written negative or positive |
| ``octopus_reference`` | Octopus's transaction reference (may be empty) |
| ``type`` | ``PAYMENT`` or ``REFUND`` |
| ``settlement_date`` | ``YYYY-MM-DD`` |
| ``fee`` | the merchant service fee of the row, HKD (0 when left out) |
"""

from __future__ import annotations

from domain.reconciliation.formats.csvfile import money, rows, text_or_none, timestamp
from domain.reconciliation.formats.rows import ParseError, SettlementRow

COLUMNS = (
    "reader_id",
    "transaction_time",
    "amount",
    "octopus_reference",
    "type",
    "settlement_date",
)
KINDS = frozenset({"PAYMENT", "REFUND"})


def parse(data: bytes) -> list[SettlementRow]:
    parsed = []
    for line, row in rows(data, COLUMNS):
        kind = row["type"].upper()
        if kind not in KINDS:
            raise ParseError(line, "type", f"{row['type']!r} is not PAYMENT or REFUND")
        reader = row["reader_id"]
        if not reader:
            raise ParseError(line, "reader_id", "is empty")
        amount = money(line, "amount", row["amount"])
        amount = abs(amount) if kind == "PAYMENT" else -abs(amount)
        fee = money(line, "fee", row.get("fee", ""), optional=True)
        when = timestamp(
            line,
            "transaction_time",
            row["transaction_time"],
            "%Y-%m-%d %H:%M:%S",
            "YYYY-MM-DD HH:MM:SS",
        )
        settled = timestamp(
            line, "settlement_date", row["settlement_date"], "%Y-%m-%d", "YYYY-MM-DD"
        )
        parsed.append(
            SettlementRow(
                line=line,
                kind=kind,
                amount=amount,
                fee=fee,
                net=amount - fee,
                occurred_at=when,
                settled_on=settled.date(),
                reference=text_or_none(row["octopus_reference"]),
                terminal_id=reader,
                currency="HKD",
            )
        )
    return parsed
