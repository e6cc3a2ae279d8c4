"""Matching settlement rows to the tills' tenders: pure, one method at a time.

1. A settlement row that repeats an earlier row's reference and kind is a DUPLICATE.
2. A row with a reference takes the tender with that provider reference (same
   sign: payments with payments, refunds with refunds); a refund or
   cancellation whose own reference is unknown takes a refund of the payment
   it names. Equal amounts are MATCHED, others AMOUNT_MISMATCH. A tender that
   a previous row already took makes the row a DUPLICATE.
3. Otherwise the row takes the unmatched tender of the same reader (when both
   name one) and the same amount closest in time within ``window``: MATCHED.
4. Rows left are MISSING_IN_POS; tenders left inside the file's period are
   MISSING_IN_SETTLEMENT (those just outside it were only candidates).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from domain.reconciliation.formats.rows import SettlementRow

WINDOW = timedelta(minutes=10)


class LineStatus(StrEnum):
    MATCHED = "MATCHED"
    AMOUNT_MISMATCH = "AMOUNT_MISMATCH"
    MISSING_IN_SETTLEMENT = "MISSING_IN_SETTLEMENT"
    MISSING_IN_POS = "MISSING_IN_POS"
    DUPLICATE = "DUPLICATE"


@dataclass(frozen=True, slots=True)
class PosTender:
    """A tender as the till recorded it; refunds are negative."""

    id: int
    amount: Decimal
    occurred_at: datetime
    business_date: date
    location_id: int
    reference: str | None = None
    original_reference: str | None = None  # for a refund: its payment's reference
    terminal_id: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    status: LineStatus
    row: SettlementRow | None
    tender: PosTender | None
    note: str | None = None


def _sign(value: Decimal) -> int:
    return 1 if value >= 0 else -1


def match(
    rows: Sequence[SettlementRow],
    tenders: Sequence[PosTender],
    period: tuple[date, date],
    window: timedelta = WINDOW,
) -> list[Outcome]:
    by_ref: dict[tuple[str, int], list[PosTender]] = defaultdict(list)
    by_original: dict[str, list[PosTender]] = defaultdict(list)
    for t in sorted(tenders, key=lambda t: (t.occurred_at, t.id)):
        if t.reference is not None:
            by_ref[(t.reference, _sign(t.amount))].append(t)
        if t.original_reference is not None and t.amount < 0:
            by_original[t.original_reference].append(t)
    used: set[int] = set()
    seen: set[tuple[str, str]] = set()
    outcomes: list[Outcome] = []
    unplaced: list[SettlementRow] = []

    def take(candidates: list[PosTender]) -> PosTender | None:
        return next((t for t in candidates if t.id not in used), None)

    for row in rows:
        if row.reference is not None:
            if (row.reference, row.kind) in seen:
                outcomes.append(
                    Outcome(LineStatus.DUPLICATE, row, None, "the file repeats this transaction")
                )
                continue
            seen.add((row.reference, row.kind))
            candidates = by_ref.get((row.reference, _sign(row.amount)), [])
            tender = take(candidates)
            if tender is None and row.kind != "PAYMENT" and row.original_reference is not None:
                tender = take(by_original.get(row.original_reference, []))
            if tender is None and candidates:
                outcomes.append(
                    Outcome(
                        LineStatus.DUPLICATE,
                        row,
                        candidates[0],
                        "another settlement row already took this tender",
                    )
                )
                continue
            if tender is not None:
                used.add(tender.id)
                same = tender.amount == row.amount
                outcomes.append(
                    Outcome(
                        LineStatus.MATCHED if same else LineStatus.AMOUNT_MISMATCH,
                        row,
                        tender,
                        None if same else f"the till recorded {tender.amount}",
                    )
                )
                continue
        unplaced.append(row)

    open_tenders = [t for t in tenders if t.id not in used]
    for row in unplaced:
        best: PosTender | None = None
        for t in open_tenders:
            if t.id in used or t.amount != row.amount:
                continue
            if row.terminal_id and t.terminal_id and row.terminal_id != t.terminal_id:
                continue
            gap = abs(t.occurred_at - row.occurred_at)
            if gap <= window and (best is None or gap < abs(best.occurred_at - row.occurred_at)):
                best = t
        if best is not None:
            used.add(best.id)
            outcomes.append(
                Outcome(LineStatus.MATCHED, row, best, "matched on reader, amount and time")
            )
        else:
            outcomes.append(Outcome(LineStatus.MISSING_IN_POS, row, None, "no tender of the tills"))
    start, end = period
    for t in sorted(tenders, key=lambda t: (t.occurred_at, t.id)):
        if t.id not in used and start <= t.business_date <= end:
            outcomes.append(
                Outcome(LineStatus.MISSING_IN_SETTLEMENT, None, t, "not in the settlement file")
            )
    return outcomes
