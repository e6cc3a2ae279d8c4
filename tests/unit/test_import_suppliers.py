"""Supplier rows through the validation layer: currencies, lead times, weekdays, codes."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from domain.imports import checks
from domain.imports.columns import ImportKind, find_header
from domain.imports.source import open_rows
from domain.imports.validation import Catalogue, Validator

HEADER = "供應商編號,供應商名稱,英文名稱,貨幣,交貨期,訂貨日,最低訂貨額\n"


@pytest.mark.parametrize(
    ("written", "days"),
    [
        ("Mon,Wed,Fri", (1, 3, 5)),
        ("1 3 5", (1, 3, 5)),
        ("一、三、五", (1, 3, 5)),
        ("一三五", (1, 3, 5)),
        ("星期一至星期五", (1, 2, 3, 4, 5)),
        ("Mon-Fri", (1, 2, 3, 4, 5)),
        ("週六, Sunday", (6, 7)),
        ("", None),
    ],
)
def test_order_days_read_as_buyers_write_them(written, days):
    assert checks.weekdays(written) == days


@pytest.mark.parametrize(
    ("written", "code"), [("Funday", "INVALID_WEEKDAY"), ("Fri-Mon", "INVALID_WEEKDAY")]
)
def test_order_days_that_are_not_weekdays_are_refused(written, code):
    with pytest.raises(checks.Problem) as refused:
        checks.weekdays(written)
    assert refused.value.code == code


def test_supplier_rows_are_checked_by_column_and_against_existing_codes(tmp_path: Path):
    body = (
        "供應商清單 Suppliers\n"
        + HEADER
        + "SUP-1,維記牛奶,Kowloon Dairy,HKD,2,一三五,500\n"
        + "SUP-2,澳門食品,Macau Foods,MOP,3天,Mon-Fri,\n"
        + "SUP-1,重複,Duplicate,HKD,1,,\n"
        + "OLD,舊供應商,Old,HKD,1,,\n"
        + "SUP-3,壞資料,Bad,USD,400,Funday,abc\n"
    )
    path = tmp_path / "s.csv"
    path.write_bytes(body.encode("big5"))
    opened = open_rows(path)
    assert opened.encoding == "big5"
    header = find_header(ImportKind.SUPPLIERS, opened.rows)
    assert header.row == 2
    validator = Validator(ImportKind.SUPPLIERS, header, Catalogue(suppliers={"OLD": 1}))
    first, errors = validator.check(3, next(opened.rows))
    assert errors == []
    assert first == {
        "code": "SUP-1",
        "name_zh": "維記牛奶",
        "name_en": "Kowloon Dairy",
        "currency": "HKD",
        "lead_time_days": 2,
        "order_days": (1, 3, 5),
        "min_order_value": Decimal("500"),
    }
    second, errors = validator.check(4, next(opened.rows))
    assert errors == [] and second is not None
    assert (second["currency"], second["lead_time_days"], second["order_days"]) == (
        "MOP",
        3,
        (1, 2, 3, 4, 5),
    )
    assert second["min_order_value"] is None  # the default (no minimum) when written
    _, errors = validator.check(5, next(opened.rows))
    assert [(e.column, e.code, e.message) for e in errors] == [
        ("供應商編號", "DUPLICATE_IN_FILE", "already on row 3")
    ]
    _, errors = validator.check(6, next(opened.rows))
    assert [(e.column, e.code) for e in errors] == [("供應商編號", "ALREADY_EXISTS")]
    _, errors = validator.check(7, next(opened.rows))
    assert {(e.column, e.code, e.value) for e in errors} == {
        ("貨幣", "INVALID_CURRENCY", "USD"),
        ("交貨期", "OUT_OF_RANGE", "400"),
        ("訂貨日", "INVALID_WEEKDAY", "Funday"),
        ("最低訂貨額", "NOT_A_NUMBER", "abc"),
    }


def test_supplier_xlsx_with_english_headers(tmp_path: Path):
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(
        [
            "Supplier code",
            "Name (zh)",
            "Name (en)",
            "Currency",
            "Lead time (days)",
            "Order days",
            "Minimum order value",
        ]
    )
    ws.append(["S-9", "大昌", "Dah Chong", "hkd", 4, "Tue, Thu", 1200.5])
    path = tmp_path / "s.xlsx"
    book.save(path)
    opened = open_rows(path)
    header = find_header(ImportKind.SUPPLIERS, opened.rows)
    values, errors = Validator(ImportKind.SUPPLIERS, header, Catalogue()).check(
        2, next(opened.rows)
    )
    assert errors == [] and values is not None
    assert (values["currency"], values["lead_time_days"], values["order_days"]) == (
        "HKD",
        4,
        (2, 4),
    )
    assert values["min_order_value"] == Decimal("1200.5")
