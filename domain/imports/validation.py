"""Checking every row of an import: by row, column and code, quoting the value as given.

Pure: what the database knows (locations, existing SKUs) comes in as a Catalogue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from domain.imports import checks
from domain.imports.checks import Problem
from domain.imports.columns import COLUMNS, Header, ImportKind

QUOTE_LIMIT = 200


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    column: str | None
    code: str
    value: str | None
    message: str

    def to_json(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "code": self.code,
            "value": self.value,
            "message": self.message,
        }


@dataclass
class Catalogue:
    """The tenant's locations by code and products by SKU, as the import starts."""

    locations: dict[str, int] = field(default_factory=dict)
    products: dict[str, int] = field(default_factory=dict)
    suppliers: dict[str, int] = field(default_factory=dict)


Parse = Callable[[str], Any]

PARSERS: dict[str, Parse] = {
    "sku": checks.code,
    "location": checks.code,
    "barcode": checks.ean13,
    "name_zh": lambda v: checks.text(v, 300, required=True),
    "name_en": lambda v: checks.text(v, 300, required=True),
    "category": lambda v: checks.text(v, 100),
    "price": lambda v: checks.money(v, places=2),
    "cost": checks.money,
    "unit_cost": checks.money,
    "quantity": checks.quantity,
    "reorder_point": lambda v: checks.quantity(v, allow_zero=True),
    "name": lambda v: checks.text(v, 200, required=True),
    "phone": checks.phone,
    "email": checks.email,
    "birthday": checks.birthday,
    "home_location": lambda v: checks.text(v, 64),
    "tier": lambda v: checks.text(v, 32),
    "code": checks.code,
    "currency": checks.currency,
    "lead_time_days": checks.lead_time,
    "order_days": checks.weekdays,
    "min_order_value": lambda v: checks.money(v, places=2),
    "method": checks.rule_method,
    "supplier_sku": lambda v: checks.text(v, 64),
    "pack_size": lambda v: checks.bounded_quantity(v, 100_000),
    "min_order_quantity": lambda v: checks.bounded_quantity(v, 1_000_000),
    "min_quantity": checks.optional_quantity,
    "max_quantity": checks.optional_quantity,
    "safety_stock": checks.optional_quantity,
    "review_period_days": checks.lead_time,
    "supplier": lambda v: checks.code(v) if v.strip() else None,
    "source_location": lambda v: checks.code(v) if v.strip() else None,
}

# where a kind's column is narrower than the shared parser allows
KIND_PARSERS: dict[ImportKind, dict[str, Parse]] = {
    ImportKind.SUPPLIERS: {
        "name_zh": lambda v: checks.text(v, 200, required=True),
        "name_en": lambda v: checks.text(v, 200, required=True),
    },
    ImportKind.SUPPLIER_PRODUCTS: {
        "supplier": checks.code,
        "unit_cost": lambda v: checks.money(v, required=True),
    },
}


class Validator:
    """Checks rows one at a time; remembers only the keys it has seen (for duplicates)."""

    def __init__(self, kind: ImportKind, header: Header, catalogue: Catalogue) -> None:
        self.kind = kind
        self.header = header
        self.catalogue = catalogue
        self.columns = COLUMNS[kind]
        self.parsers = {**PARSERS, **KIND_PARSERS.get(kind, {})}
        self.seen: dict[Any, int] = {}

    def _title(self, key: str) -> str:
        return self.header.titles.get(key, key)

    def check(self, number: int, cells: list[str]) -> tuple[dict[str, Any] | None, list[RowError]]:
        """The row's values, or None and its errors. Blank rows come back as (None, [])."""
        if not any(c.strip() for c in cells):
            return None, []
        values: dict[str, Any] = {}
        errors: list[RowError] = []
        raw: dict[str, str] = {}
        for column in self.columns:
            index = self.header.positions.get(column.key)
            cell = cells[index] if index is not None and index < len(cells) else ""
            raw[column.key] = cell
            try:
                values[column.key] = self.parsers[column.key](cell)
            except Problem as problem:
                errors.append(self._error(number, column.key, cell, problem))
        if not errors:
            errors.extend(self._relate(number, values, raw))
        return (None, errors) if errors else (values, [])

    def _error(self, number: int, key: str, cell: str, problem: Problem) -> RowError:
        quoted = cell if len(cell) <= QUOTE_LIMIT else cell[:QUOTE_LIMIT] + "…"
        return RowError(number, self._title(key), problem.code, quoted, problem.message)

    def _relate_member(
        self, number: int, values: dict[str, Any], raw: dict[str, str]
    ) -> list[RowError]:
        errors: list[RowError] = []
        home = values["home_location"]
        if home is not None and home not in self.catalogue.locations:
            problem = Problem("UNKNOWN_LOCATION", "no such location")
            errors.append(self._error(number, "home_location", raw["home_location"], problem))
        phone = values["phone"]
        if phone is not None:
            first = self.seen.get(("phone", phone))
            if first is not None:
                problem = Problem("DUPLICATE_IN_FILE", f"already on row {first}")
                errors.append(self._error(number, "phone", raw["phone"], problem))
            else:
                self.seen[("phone", phone)] = number
        return errors

    def _relate_supplier(
        self, number: int, values: dict[str, Any], raw: dict[str, str]
    ) -> list[RowError]:
        code = values["code"]
        if code in self.catalogue.suppliers:
            problem = Problem("ALREADY_EXISTS", "a supplier with this code exists")
            return [self._error(number, "code", raw["code"], problem)]
        first = self.seen.get(("supplier", code))
        if first is not None:
            problem = Problem("DUPLICATE_IN_FILE", f"already on row {first}")
            return [self._error(number, "code", raw["code"], problem)]
        self.seen[("supplier", code)] = number
        return []

    def _relate_rule(
        self, number: int, values: dict[str, Any], raw: dict[str, str]
    ) -> list[RowError]:
        """A rule's own consistency, and the supplier or location it names."""
        errors: list[RowError] = []

        def problem(key: str, code: str, message: str) -> None:
            errors.append(self._error(number, key, raw[key], Problem(code, message)))

        supplier, source = values["supplier"], values["source_location"]
        if supplier is not None and supplier not in self.catalogue.suppliers:
            problem("supplier", "UNKNOWN_SUPPLIER", "no such supplier")
        if source is not None and source not in self.catalogue.locations:
            problem("source_location", "UNKNOWN_LOCATION", "no such location")
        if supplier is not None and source is not None:
            problem("source_location", "INVALID", "a rule has one preferred source")
        if source is not None and source == values["location"]:
            problem("source_location", "INVALID", "a location does not replenish itself")
        low, high = values["min_quantity"], values["max_quantity"]
        if values["method"] == "MIN_MAX":
            for key, given in (("min_quantity", low), ("max_quantity", high)):
                if given is None:
                    problem(key, "REQUIRED", "MIN_MAX needs a minimum and a maximum")
        if low is not None and high is not None and low > high:
            problem("min_quantity", "OUT_OF_RANGE", "the minimum is above the maximum")
        return errors

    def _relate(self, number: int, values: dict[str, Any], raw: dict[str, str]) -> list[RowError]:
        """Checks against the catalogue and the rows before this one."""
        errors: list[RowError] = []
        if self.kind is ImportKind.MEMBERS:
            return self._relate_member(number, values, raw)
        if self.kind is ImportKind.SUPPLIERS:
            return self._relate_supplier(number, values, raw)
        sku = values["sku"]
        if self.kind is ImportKind.PRODUCTS:
            key: Any = sku
            if sku in self.catalogue.products:
                errors.append(
                    self._error(number, "sku", raw["sku"], Problem("ALREADY_EXISTS", "SKU exists"))
                )
        elif self.kind is ImportKind.SUPPLIER_PRODUCTS:
            if values["supplier"] not in self.catalogue.suppliers:
                problem = Problem("UNKNOWN_SUPPLIER", "no such supplier")
                errors.append(self._error(number, "supplier", raw["supplier"], problem))
            if sku not in self.catalogue.products:
                problem = Problem("UNKNOWN_SKU", "no such product")
                errors.append(self._error(number, "sku", raw["sku"], problem))
            key = (values["supplier"], sku)
        else:
            location = values["location"]
            if location not in self.catalogue.locations:
                errors.append(
                    self._error(
                        number,
                        "location",
                        raw["location"],
                        Problem("UNKNOWN_LOCATION", "no such location"),
                    )
                )
            if sku not in self.catalogue.products:
                errors.append(
                    self._error(
                        number, "sku", raw["sku"], Problem("UNKNOWN_SKU", "no such product")
                    )
                )
            key = (location, sku)
            if self.kind is ImportKind.REPLENISHMENT_RULES:
                errors.extend(self._relate_rule(number, values, raw))
        first = self.seen.get(key)
        if first is not None:
            errors.append(
                self._error(
                    number,
                    "sku",
                    raw["sku"],
                    Problem("DUPLICATE_IN_FILE", f"already on row {first}"),
                )
            )
        else:
            self.seen[key] = number
        return errors
