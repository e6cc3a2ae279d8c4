"""What each kind of import reads: its columns, their names in both languages, the header row."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from domain.imports.source import SourceError

HEADER_SEARCH_ROWS = 20  # title rows above the header are skipped, up to this many


class ImportKind(StrEnum):
    PRODUCTS = "PRODUCTS"
    SUPPLIERS = "SUPPLIERS"
    SUPPLIER_PRODUCTS = "SUPPLIER_PRODUCTS"
    OPENING_STOCK = "OPENING_STOCK"
    REPLENISHMENT_RULES = "REPLENISHMENT_RULES"
    MEMBERS = "MEMBERS"


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    required: bool
    names: tuple[str, ...]


def _col(key: str, required: bool, *names: str) -> Column:
    return Column(key, required, (key, *names))


SKU = _col("sku", True, "SKU", "貨號", "產品編號", "item code")
LOCATION = _col("location", True, "location code", "store", "店舖", "地點", "分店")

COLUMNS: dict[ImportKind, tuple[Column, ...]] = {
    ImportKind.PRODUCTS: (
        SKU,
        _col("barcode", False, "EAN", "EAN-13", "條碼", "條形碼"),
        _col("name_zh", True, "name (zh)", "chinese name", "中文名稱", "品名", "名稱"),
        _col("name_en", True, "name (en)", "english name", "英文名稱"),
        _col("category", False, "類別", "分類"),
        _col("price", False, "retail price", "售價", "零售價"),
        _col("cost", False, "cost price", "unit cost", "成本", "成本價"),
    ),
    ImportKind.SUPPLIERS: (
        _col("code", True, "supplier code", "supplier", "供應商編號", "供應商代號", "供應商代碼"),
        _col("name_zh", True, "name (zh)", "chinese name", "中文名稱", "供應商名稱", "名稱"),
        _col("name_en", True, "name (en)", "english name", "英文名稱"),
        _col("currency", False, "貨幣", "幣種", "結算貨幣"),
        _col(
            "lead_time_days",
            False,
            "lead time",
            "lead time (days)",
            "lead time days",
            "送貨日數",
            "交貨期",
            "交貨日數",
        ),
        _col("order_days", False, "order days", "ordering days", "訂貨日", "落單日", "訂貨日期"),
        _col(
            "min_order_value",
            False,
            "minimum order",
            "minimum order value",
            "min order value",
            "最低訂貨額",
            "最低訂單金額",
            "起訂金額",
        ),
    ),
    ImportKind.SUPPLIER_PRODUCTS: (
        _col("supplier", True, "supplier code", "供應商編號", "供應商代號", "供應商"),
        SKU,
        _col("unit_cost", True, "cost", "unit cost", "cost price", "單位成本", "成本", "進貨價"),
        _col("supplier_sku", False, "supplier sku", "supplier item code", "供應商貨號"),
        _col("pack_size", False, "pack", "pack size", "case size", "每箱數量", "包裝數量"),
        _col(
            "min_order_quantity",
            False,
            "moq",
            "minimum order quantity",
            "min order quantity",
            "最低訂購量",
            "起訂量",
        ),
    ),
    ImportKind.OPENING_STOCK: (
        LOCATION,
        SKU,
        _col("quantity", True, "qty", "數量", "存貨"),
        _col("unit_cost", False, "cost", "unit cost", "單位成本", "成本"),
    ),
    ImportKind.MEMBERS: (
        _col("name", True, "member name", "姓名", "會員姓名", "名稱"),
        _col("phone", False, "mobile", "電話", "手提電話", "手機"),
        _col("email", False, "e-mail", "電郵", "電子郵件"),
        _col("birthday", False, "date of birth", "生日", "出生日期"),
        _col("home_location", False, "home store", "所屬分店", "常去分店"),
        _col("tier", False, "level", "等級", "會員等級"),
    ),
    ImportKind.REPLENISHMENT_RULES: (
        LOCATION,
        SKU,
        _col("reorder_point", True, "reorder point", "再訂購點", "補貨點"),
        _col("method", False, "rule", "補貨方式", "補貨方法"),
        _col("min_quantity", False, "min", "min quantity", "minimum", "最低存量", "最少存量"),
        _col("max_quantity", False, "max", "max quantity", "maximum", "最高存量", "最多存量"),
        _col("safety_stock", False, "safety stock", "安全存量", "安全庫存"),
        _col(
            "review_period_days",
            False,
            "review period",
            "review period (days)",
            "review days",
            "檢討週期",
            "覆核週期",
        ),
        _col("supplier", False, "supplier code", "preferred supplier", "供應商", "供應商編號"),
        _col(
            "source_location",
            False,
            "source location",
            "transfer from",
            "調貨來源",
            "調貨分店",
        ),
    ),
}


def normalise(name: str) -> str:
    """Header text compared without case, spaces, underscores or a BOM."""
    return re.sub(r"[\s_\-\ufeff]+", "", name).casefold()


@dataclass(frozen=True, slots=True)
class Header:
    """Where the header row is (1-based) and which column index holds each key."""

    row: int
    positions: dict[str, int]
    titles: dict[str, str]  # key -> the header text as written in the file


def find_header(kind: ImportKind, rows: Iterator[list[str]]) -> Header:
    """The first row among the first few that names every required column."""
    columns = COLUMNS.get(kind)
    if columns is None:
        raise SourceError("UNSUPPORTED", f"{kind.value} imports are not available yet")
    lookup = {normalise(n): c.key for c in columns for n in c.names}
    required = {c.key for c in columns if c.required}
    for number, row in enumerate(rows, start=1):
        positions: dict[str, int] = {}
        titles: dict[str, str] = {}
        for index, cell in enumerate(row):
            key = lookup.get(normalise(cell))
            if key is not None and key not in positions:
                positions[key] = index
                titles[key] = cell.strip()
        if required <= positions.keys():
            return Header(number, positions, titles)
        if number >= HEADER_SEARCH_ROWS:
            break
    names = ", ".join(c.names[1] for c in columns if c.required)
    raise SourceError("NO_HEADER", f"no header row naming {names} in the first rows")
