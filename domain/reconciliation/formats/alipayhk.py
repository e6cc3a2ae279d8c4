"""AlipayHK settlement and transaction files, as AlipayHK publishes them.

Columns (any order, matched case-insensitively): ``Partner_transaction_id,
Transaction_id, Amount, Fee, Settlement, Currency, Payment_time,
Settlement_time, Type, Status, Remarks, original_partner_transaction_ID``.
Times are ``MM/DD/YYYY HH:MM:SS``, Hong Kong time. ``Type`` is PAYMENT, CANCEL
or REFUND; a refund carries a negative settlement and names its payment in
``original_partner_transaction_ID``. The partner transaction ID is the
reference the till received, so it is what matching uses.
"""

from __future__ import annotations

from domain.reconciliation.formats.csvfile import money, rows, text_or_none, timestamp
from domain.reconciliation.formats.rows import ParseError, SettlementRow

COLUMNS = (
    "Partner_transaction_id",
    "Transaction_id",
    "Amount",
    "Fee",
    "Settlement",
    "Currency",
    "Payment_time",
    "Settlement_time",
    "Type",
    "Status",
    "Remarks",
    "original_partner_transaction_ID",
)
TIME = "%m/%d/%Y %H:%M:%S"
KINDS = frozenset({"PAYMENT", "CANCEL", "REFUND"})
SKIPPED = frozenset({"FAIL", "FAILED", "CLOSED"})


def parse(data: bytes) -> list[SettlementRow]:
    parsed = []
    for line, row in rows(data, COLUMNS):
        kind = row["type"].upper()
        if kind not in KINDS:
            raise ParseError(line, "Type", f"{row['type']!r} is not PAYMENT, CANCEL or REFUND")
        if row["status"].upper() in SKIPPED:
            continue
        reference = row["partner_transaction_id"]
        if not reference:
            raise ParseError(line, "Partner_transaction_id", "is empty")
        amount = money(line, "Amount", row["amount"])
        fee = money(line, "Fee", row["fee"], optional=True)
        net = money(line, "Settlement", row["settlement"])
        paid = timestamp(line, "Payment_time", row["payment_time"], TIME, "MM/DD/YYYY HH:MM:SS")
        settled = timestamp(
            line, "Settlement_time", row["settlement_time"], TIME, "MM/DD/YYYY HH:MM:SS"
        )
        original = text_or_none(row["original_partner_transaction_id"])
        if kind != "PAYMENT" and original is None:
            raise ParseError(line, "original_partner_transaction_ID", f"a {kind} names its payment")
        parsed.append(
            SettlementRow(
                line=line,
                kind=kind,
                amount=abs(amount) if kind == "PAYMENT" else -abs(amount),
                fee=fee,
                net=net,
                occurred_at=paid,
                settled_on=settled.date(),
                reference=reference,
                original_reference=original,
                provider_id=text_or_none(row["transaction_id"]),
                currency=row["currency"].upper() or None,
            )
        )
    return parsed
