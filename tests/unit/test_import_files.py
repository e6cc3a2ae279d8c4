"""Reading and checking import files, without a database: encodings, headers, hostile files."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest

from domain.imports.columns import ImportKind, find_header
from domain.imports.source import SourceError, detect_encoding, open_rows
from domain.imports.validation import Catalogue, Validator

HEADER = "SKU,條碼,中文名稱,English Name,售價\n"
ROW = "A-1,4891234567898,維他檸檬茶,Vita Lemon Tea,7.50\n"


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("encoding", "prefix", "expected"),
    [
        ("utf-8", b"", "utf-8"),
        ("utf-8", b"\xef\xbb\xbf", "utf-8-sig"),
        ("cp950", b"", "big5"),
        ("utf-16-le", b"\xff\xfe", "utf-16"),
        ("utf-16-le", b"", "utf-16-le"),
    ],
)
def test_encodings_are_detected_and_read(tmp_path, encoding, prefix, expected):
    path = write(tmp_path, "p.csv", prefix + (HEADER + ROW).encode(encoding))
    assert detect_encoding(path) == expected
    opened = open_rows(path)
    rows = list(opened.rows)
    assert rows[1][2] == "維他檸檬茶" and rows[0][0] == "SKU"


def test_hkscs_characters_make_it_big5_hkscs_and_the_encoding_can_be_named(tmp_path):
    text = HEADER + "A-2,,㗎喱魚蛋,Curry Fishballs,12\n"  # 㗎 is only in HKSCS
    path = write(tmp_path, "hk.csv", text.encode("big5hkscs"))
    assert detect_encoding(path) == "big5hkscs"
    assert list(open_rows(path).rows)[1][2] == "㗎喱魚蛋"
    with pytest.raises(SourceError) as refused:
        list(open_rows(path, encoding="utf-8").rows)
    assert refused.value.code == "ENCODING"


def test_the_header_is_found_below_title_rows_and_errors_quote_the_value(tmp_path):
    body = (
        "彩虹藥房 貨品清單,,,,\n"
        "匯出日期 2026-11-30,,,,\n"
        + HEADER
        + ROW
        + "A-1,4891234567890,重複,Duplicate,abc\n"
        + ",,,,\n"
        + "B 2,123,名,Name,=1+2\n"
    )
    path = write(tmp_path, "p.csv", body.encode("utf-8"))
    rows = open_rows(path).rows
    header = find_header(ImportKind.PRODUCTS, rows)
    assert header.row == 3
    validator = Validator(ImportKind.PRODUCTS, header, Catalogue())
    checked = [validator.check(n, r) for n, r in enumerate(rows, start=header.row + 1)]
    assert checked[0][1] == [] and checked[0][0]["name_zh"] == "維他檸檬茶"
    problems = {(e.row, e.column, e.code, e.value) for e in checked[1][1]}
    assert problems == {
        (5, "條碼", "BAD_CHECK_DIGIT", "4891234567890"),
        (5, "售價", "NOT_A_NUMBER", "abc"),
    }
    assert checked[2] == (None, [])  # a blank row is skipped
    problems = {(e.column, e.code, e.value) for e in checked[3][1]}
    assert problems == {
        ("SKU", "INVALID", "B 2"),
        ("條碼", "INVALID_BARCODE", "123"),
        ("售價", "FORMULA", "=1+2"),
    }


def test_a_duplicate_sku_in_the_file_names_the_first_row(tmp_path):
    path = write(tmp_path, "p.csv", (HEADER + ROW + ROW).encode("utf-8"))
    rows = open_rows(path).rows
    header = find_header(ImportKind.PRODUCTS, rows)
    validator = Validator(ImportKind.PRODUCTS, header, Catalogue(products={"X": 1}))
    validator.check(2, next(rows))
    _, errors = validator.check(3, next(rows))
    assert [(e.code, e.message) for e in errors] == [("DUPLICATE_IN_FILE", "already on row 2")]


def test_opening_stock_rows_need_known_locations_and_skus(tmp_path):
    body = "Location,SKU,數量,單位成本\nS1,A,10,4.20\nXX,Z,1.5,-1\n"
    path = write(tmp_path, "o.csv", body.encode("utf-8"))
    rows = open_rows(path).rows
    header = find_header(ImportKind.OPENING_STOCK, rows)
    validator = Validator(
        ImportKind.OPENING_STOCK, header, Catalogue(locations={"S1": 1}, products={"A": 2})
    )
    values, errors = validator.check(2, next(rows))
    assert errors == [] and values["quantity"] == 10 and str(values["unit_cost"]) == "4.20"
    _, errors = validator.check(3, next(rows))
    assert {(e.column, e.code) for e in errors} == {
        ("數量", "NOT_AN_INTEGER"),
        ("單位成本", "OUT_OF_RANGE"),
    }


def test_no_header_is_a_file_error(tmp_path):
    path = write(tmp_path, "x.csv", b"a,b,c\n1,2,3\n")
    with pytest.raises(SourceError) as refused:
        find_header(ImportKind.PRODUCTS, open_rows(path).rows)
    assert refused.value.code == "NO_HEADER"


def test_ten_thousand_columns_are_refused(tmp_path):
    path = write(tmp_path, "wide.csv", (",".join(["x"] * 10_000) + "\n").encode())
    with pytest.raises(SourceError) as refused:
        list(open_rows(path).rows)
    assert refused.value.code == "TOO_MANY_COLUMNS"


def test_xlsx_header_below_a_title_and_formulas_kept_as_text(tmp_path):
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["貨品清單 Product list"])
    ws.merge_cells("A1:E1")
    ws.append(["SKU", "條碼", "中文名稱", "English Name", "售價"])
    ws.append(["A-1", "4891234567898", "維他檸檬茶", "Vita Lemon Tea", 7.5])
    ws.append(["A-2", None, '=HYPERLINK("http://x")', "Tea", "=1+1"])
    path = tmp_path / "p.xlsx"
    book.save(path)
    opened = open_rows(path)
    assert opened.format == "XLSX"
    header = find_header(ImportKind.PRODUCTS, opened.rows)
    assert header.row == 2
    validator = Validator(ImportKind.PRODUCTS, header, Catalogue())
    values, errors = validator.check(3, next(opened.rows))
    assert errors == [] and str(values["price"]) == "7.5"
    _, errors = validator.check(4, next(opened.rows))
    assert {(e.column, e.code) for e in errors} == {("中文名稱", "FORMULA"), ("售價", "FORMULA")}


def test_xlsx_with_ten_thousand_columns_is_refused(tmp_path):
    book = openpyxl.Workbook(write_only=True)
    ws = book.create_sheet()
    ws.append(["x"] * 10_000)
    path = tmp_path / "wide.xlsx"
    book.save(path)
    with pytest.raises(SourceError) as refused:
        list(open_rows(path).rows)
    assert refused.value.code == "TOO_MANY_COLUMNS"


def test_a_zip_bomb_named_xlsx_is_refused_before_inflating(tmp_path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as entry:
            zeros = b"\0" * (1 << 20)
            for _ in range(32):
                entry.write(zeros)
    assert path.stat().st_size < 200_000
    with pytest.raises(SourceError) as refused:
        list(open_rows(path).rows)
    assert refused.value.code == "TOO_LARGE"
    garbage = write(tmp_path, "fake.xlsx", b"PK\x03\x04not really a zip")
    with pytest.raises(SourceError) as refused:
        list(open_rows(garbage).rows)
    assert refused.value.code == "MALFORMED"
