"""Moving weighted-average cost: the pure rule, applied line by line under the level lock.

A level (SKU × location) carries its quantity, its value and its average unit
cost. Every movement records the unit cost it moved at, and the level's value
is always the exact sum of ``delta × unit_cost`` over its movements, just as
``on_hand`` is the sum of ``delta``. So cost of goods sold and closing value
come from the ledger alone.

- Goods that come in with a cost of their own (a receipt with a unit cost, a
  transfer arriving at the cost it left its source at, opening stock) enter
  at that cost, and the average becomes value ÷ quantity.
- Anything else that comes in (a stocktake gain, units found, a return, a
  receipt without a cost) enters at the current average: the average does not
  move, the value grows with the units.
- Everything that goes out leaves at the current average; the average does
  not move.
- A level with no average yet starts from the product's catalogue cost, else 0.

Rounding: unit costs and averages are kept to 4 decimal places, rounded half
up; values are exact products of units and 4-place costs (no further
rounding), and money is shown to the cent only when displayed. When a level
empties, what the rounding of the average left behind (a fraction of a cent
per unit moved) stays in its value and is folded into the average by the next
costed receipt, so the ledger and the level never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

UNIT = Decimal("0.0001")
ZERO = Decimal("0")

# Kinds whose given unit cost is the cost the goods come in at.
COSTED_IN = frozenset({"RECEIPT", "TRANSFER_IN", "OPENING"})


def unit(value: Decimal) -> Decimal:
    """A unit cost to 4 places, rounded half up."""
    return value.quantize(UNIT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Position:
    """One level's valuation: units on hand, their value, their average unit cost."""

    on_hand: int
    value: Decimal
    average: Decimal | None

    def move(self, kind: str, delta: int, given: Decimal | None) -> tuple[Decimal, Position]:
        """The unit cost this movement moves at, and the position after it."""
        current = self.average if self.average is not None else ZERO
        incoming = delta > 0 and kind in COSTED_IN and given is not None
        cost = unit(given) if incoming and given is not None else current
        on_hand = self.on_hand + delta
        value = self.value + cost * delta
        if delta > 0:
            average = unit(value / on_hand) if on_hand > 0 else cost
        else:
            average = current
        return cost, Position(on_hand, value, average)


def start(
    on_hand: int, value: Decimal, average: Decimal | None, catalogue: Decimal | None
) -> Position:
    """A level's position as locked, with the catalogue cost where it has no average yet."""
    if average is None and catalogue is not None:
        average = unit(catalogue)
    return Position(on_hand, value, average)
