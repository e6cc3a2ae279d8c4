"""``stockgraph import``: a real process against the real database, checked in the tables."""

from __future__ import annotations

import json
from decimal import Decimal

from sqlalchemy import text

from tests.api.test_cli import cli
from tests.helpers import count_rows, ledger_mismatches

PRODUCTS = (
    "彩虹藥房 貨品清單\n"
    "SKU,條碼,中文名稱,English Name,類別,售價,成本\n"
    "N-1,4891234567898,維他檸檬茶,Vita Lemon Tea,飲品,7.50,4.10\n"
    "N-2,,㗎喱魚蛋,Curry Fishballs,小食,12,6.5\n"
)
BAD_ROW = "N-3,4891234567890,壞條碼,Bad barcode,飲品,abc,1\n"


def summary(result) -> dict:
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, (result.stdout, result.stderr)
    return json.loads(lines[0])


async def products(tenant) -> dict[str, tuple]:
    async with tenant.db.owner_transaction() as s:
        rows = await s.execute(
            text(
                "SELECT sku, name_zh, retail_price, cost_price FROM products WHERE tenant_id = :t"
            ),
            {"t": tenant.tenant_id},
        )
        return {r.sku: (r.name_zh, r.retail_price, r.cost_price) for r in rows}


async def test_products_all_or_nothing_dry_run_valid_only_and_the_same_file_once(
    database_url, tenant, other_tenant, tmp_path
):
    bad = tmp_path / "bad.csv"
    bad.write_bytes((PRODUCTS + BAD_ROW).encode("big5hkscs"))
    before = await products(tenant)

    dry = cli(database_url, "import", "products", str(bad), "--tenant", tenant.code, "--dry-run")
    assert dry.returncode == 1
    report = summary(dry)
    assert (report["status"], report["encoding"], report["headerRow"]) == (
        "VALIDATED",
        "big5hkscs",
        2,
    )
    assert (report["rowsTotal"], report["rowsValid"], report["errorCount"]) == (3, 2, 2)
    assert {(e["row"], e["column"], e["code"], e["value"]) for e in report["errors"]} == {
        (5, "條碼", "BAD_CHECK_DIGIT", "4891234567890"),
        (5, "售價", "NOT_A_NUMBER", "abc"),
    }
    refused = cli(database_url, "import", "products", str(bad), "--tenant", tenant.code)
    assert refused.returncode == 1 and summary(refused)["status"] == "REFUSED"
    assert await products(tenant) == before  # nothing half-written

    valid_only = cli(
        database_url, "import", "products", str(bad), "--tenant", tenant.code, "--valid-only"
    )
    assert valid_only.returncode == 0, valid_only.stderr
    assert summary(valid_only)["rowsWritten"] == 2
    after = await products(tenant)
    assert after["N-2"] == ("㗎喱魚蛋", Decimal("12.00"), Decimal("6.5000"))
    assert "N-3" not in after

    again = cli(
        database_url, "import", "products", str(bad), "--tenant", tenant.code, "--valid-only"
    )
    assert again.returncode == 0
    assert summary(again)["replayed"] is True
    assert summary(again)["id"] == summary(valid_only)["id"]
    assert await products(tenant) == after
    assert "N-1" not in await products(other_tenant)

    async with tenant.db.owner_transaction() as s:
        actions = [
            r.action
            for r in await s.execute(
                text(
                    "SELECT action FROM audit_events "
                    "WHERE tenant_id = :t AND action LIKE 'import.%'"
                ),
                {"t": tenant.tenant_id},
            )
        ]
    assert actions.count("import.commit") == 3 and actions.count("import.dry_run") == 1


async def test_opening_stock_posts_opening_movements_at_cost(database_url, tenant, tmp_path):
    body = "Location,SKU,Quantity,Unit Cost\nS1,A,10,4.20\nS2,B,3,\nWH,C,5,2.00\n"
    path = tmp_path / "opening.csv"
    path.write_bytes(("\ufeff" + body).encode("utf-8"))
    done = cli(database_url, "import", "opening-stock", str(path), "--tenant", tenant.code)
    assert done.returncode == 0, done.stderr
    assert summary(done)["rowsWritten"] == 3 and summary(done)["encoding"] == "utf-8-sig"
    async with tenant.db.owner_transaction() as s:
        rows = (
            await s.execute(
                text(
                    "SELECT m.kind, m.delta, m.unit_cost, l.code FROM stock_movements m "
                    "JOIN locations l ON l.tenant_id = m.tenant_id AND l.id = m.location_id "
                    "WHERE m.tenant_id = :t ORDER BY m.sequence"
                ),
                {"t": tenant.tenant_id},
            )
        ).all()
    assert [(r.kind, r.delta, r.unit_cost, r.code) for r in rows] == [
        ("OPENING", 10, Decimal("4.2000"), "S1"),
        ("OPENING", 3, Decimal("9.5000"), "S2"),  # no cost given: the catalogue cost
        ("OPENING", 5, Decimal("2.0000"), "WH"),
    ]
    assert await ledger_mismatches(tenant.db, tenant.tenant_id) == []


async def test_reorder_rules_and_a_hostile_file(database_url, tenant, tmp_path):
    path = tmp_path / "rules.csv"
    path.write_text("店舖,貨號,再訂購點\nS1,A,4\nS2,A,0\n", encoding="utf-8")
    done = cli(database_url, "import", "replenishment-rules", str(path), "--tenant", tenant.code)
    assert done.returncode == 0, done.stderr
    async with tenant.db.owner_transaction() as s:
        points = sorted(
            r.reorder_point
            for r in await s.execute(
                text("SELECT reorder_point FROM stock_levels WHERE tenant_id = :t"),
                {"t": tenant.tenant_id},
            )
        )
    assert points == [0, 4]
    async with tenant.db.owner_transaction() as s:
        made = sorted(
            (r.location_id, r.method, r.reorder_point, r.safety_stock, r.review_period_days)
            for r in await s.execute(
                text("SELECT * FROM replenishment_rules WHERE tenant_id = :t"),
                {"t": tenant.tenant_id},
            )
        )
    # the rules suggestions read, with the defaults of setReplenishmentRules
    assert made == [
        (tenant.locations["S1"], "REORDER_POINT", 4, 0, 7),
        (tenant.locations["S2"], "REORDER_POINT", 0, 0, 7),
    ]

    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(["SKU"] * 10_000) + "\n", encoding="utf-8")
    failed = cli(database_url, "import", "products", str(wide), "--tenant", tenant.code)
    assert failed.returncode == 1
    assert summary(failed)["errors"][0]["code"] == "TOO_MANY_COLUMNS"
    assert await count_rows(tenant.db, "stock_movements", tenant.tenant_id) == 0


async def test_export_movements_streams_csv_with_cost_and_escapes_formulas(
    database_url, tenant, tmp_path
):
    import csv
    import io
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    body = "Location,SKU,Quantity,Unit Cost\nS1,A,10,4.20\n"
    opening = tmp_path / "opening.csv"
    opening.write_text(body, encoding="utf-8")
    assert (
        cli(
            database_url, "import", "opening-stock", str(opening), "--tenant", tenant.code
        ).returncode
        == 0
    )
    async with tenant.db.owner_transaction() as s:
        await s.execute(
            text(
                "INSERT INTO products (tenant_id, sku, name_zh, name_en) "
                "VALUES (:t, '@X', '=1+1', '-2+3')"
            ),
            {"t": tenant.tenant_id},
        )
    today = datetime.now(ZoneInfo("Asia/Hong_Kong")).date()
    result = cli(
        database_url,
        "export",
        "movements",
        "--tenant",
        tenant.code,
        "--from",
        (today - timedelta(days=1)).isoformat(),
        "--to",
        today.isoformat(),
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["kind"], r["delta"], r["unit_cost"], r["value"], r["location"]) for r in rows] == [
        ("OPENING", "10", "4.2000", "42.0000", "S1")
    ]
    levels = cli(database_url, "export", "levels", "--tenant", tenant.code)
    assert levels.returncode == 0, levels.stderr
    lines = list(csv.DictReader(io.StringIO(levels.stdout)))
    assert [(r["sku"], r["on_hand"], r["stock_value"]) for r in lines] == [("A", "10", "42.0000")]
    # a product whose text starts with = + - @ leaves escaped (it has a level once stocked)
    async with tenant.db.owner_transaction() as s:
        await s.execute(
            text(
                "INSERT INTO stock_levels (tenant_id, location_id, product_id) "
                "SELECT :t, :l, id FROM products WHERE tenant_id = :t AND sku = '@X'"
            ),
            {"t": tenant.tenant_id, "l": tenant.locations["S2"]},
        )
    levels = cli(database_url, "export", "levels", "--tenant", tenant.code)
    evil = next(r for r in csv.DictReader(io.StringIO(levels.stdout)) if r["sku"] == "'@X")
    assert (evil["name_zh"], evil["name_en"]) == ("'=1+1", "'-2+3")
    xlsx = tmp_path / "m.xlsx"
    done = cli(
        database_url,
        "export",
        "levels",
        "--tenant",
        tenant.code,
        "--format",
        "xlsx",
        "--output",
        str(xlsx),
    )
    assert json.loads(done.stdout)["rows"] == 2
    import openpyxl

    ws = openpyxl.load_workbook(xlsx).active
    assert ws["A1"].value == "location" and ws.freeze_panes == "A2"


async def test_members_import_checks_phones_and_seals_them(database_url, tenant, tmp_path):
    body = (
        "會員名單\n"
        "姓名,電話,電郵,生日,所屬分店,等級\n"
        "陳大文,9123 4567,tai.man@example.com,03-15,S1,GOLD\n"
        "李小明,+853 6612 3456,,1990-02-28,,\n"
        "王芳,+86 138 0013 8000,,,,\n"
        "Bad Phone,1234 5678,,,,\n"
        "Bad,91234567,not-an-email,13-40,,\n"
        "Dup,91234567,,,ZZ,\n"
    )
    path = tmp_path / "members.csv"
    path.write_bytes(body.encode("big5hkscs"))
    env = {"STOCKGRAPH_DATA_KEY": bytes(range(32)).hex()}  # the test database's key
    dry = cli(
        database_url,
        "import",
        "members",
        str(path),
        "--tenant",
        tenant.code,
        "--dry-run",
        extra_env=env,
    )
    report = summary(dry)
    assert (report["rowsTotal"], report["rowsValid"]) == (6, 3)
    assert {(e["row"], e["column"], e["code"], e["value"]) for e in report["errors"]} == {
        (6, "電話", "INVALID_PHONE", "1234 5678"),
        (7, "電郵", "INVALID_EMAIL", "not-an-email"),
        (7, "生日", "INVALID_DATE", "13-40"),
        (8, "電話", "DUPLICATE_IN_FILE", "91234567"),
        (8, "所屬分店", "UNKNOWN_LOCATION", "ZZ"),
    }
    done = cli(
        database_url,
        "import",
        "members",
        str(path),
        "--tenant",
        tenant.code,
        "--valid-only",
        extra_env=env,
    )
    assert done.returncode == 0, done.stderr
    assert summary(done)["rowsWritten"] == 3
    async with tenant.db.owner_transaction() as s:
        tiers = sorted(
            r.tier
            for r in await s.execute(
                text("SELECT tier FROM members WHERE tenant_id = :t"), {"t": tenant.tenant_id}
            )
        )
    assert len(tiers) == 3 and "GOLD" in tiers


SUPPLIERS = (
    "供應商 Suppliers\n"
    "供應商編號,供應商名稱,英文名稱,貨幣,交貨期,訂貨日,最低訂貨額\n"
    "V-1,維記牛奶,Kowloon Dairy,HKD,2,一三五,500\n"
    "V-2,澳門食品,Macau Foods,MOP,3,Mon-Fri,\n"
)
BAD_SUPPLIER = "V-1,重複,Duplicate,USD,1,,\n"


async def suppliers(tenant) -> dict[str, tuple]:
    async with tenant.db.owner_transaction() as s:
        rows = await s.execute(
            text(
                "SELECT code, name_zh, name_en, currency, lead_time_days, order_days, "
                "min_order_value FROM suppliers WHERE tenant_id = :t"
            ),
            {"t": tenant.tenant_id},
        )
        return {r.code: tuple(r)[1:] for r in rows}


async def test_suppliers_import_from_big5_all_or_nothing_then_valid_rows_once(
    database_url, tenant, other_tenant, tmp_path
):
    bad = tmp_path / "suppliers.csv"
    bad.write_bytes((SUPPLIERS + BAD_SUPPLIER).encode("big5"))

    dry = cli(database_url, "import", "suppliers", str(bad), "--tenant", tenant.code, "--dry-run")
    assert dry.returncode == 1
    report = summary(dry)
    assert (report["status"], report["kind"], report["encoding"], report["headerRow"]) == (
        "VALIDATED",
        "SUPPLIERS",
        "big5",
        2,
    )
    assert {(e["row"], e["column"], e["code"], e["value"]) for e in report["errors"]} == {
        (5, "貨幣", "INVALID_CURRENCY", "USD"),
    }
    refused = cli(database_url, "import", "suppliers", str(bad), "--tenant", tenant.code)
    assert refused.returncode == 1 and summary(refused)["status"] == "REFUSED"
    assert await suppliers(tenant) == {}  # nothing half-written

    written = cli(
        database_url, "import", "suppliers", str(bad), "--tenant", tenant.code, "--valid-only"
    )
    assert written.returncode == 0, written.stderr
    assert summary(written)["rowsWritten"] == 2
    assert await suppliers(tenant) == {
        "V-1": ("維記牛奶", "Kowloon Dairy", "HKD", 2, [1, 3, 5], Decimal("500.00")),
        "V-2": ("澳門食品", "Macau Foods", "MOP", 3, [1, 2, 3, 4, 5], Decimal("0.00")),
    }
    again = cli(
        database_url, "import", "suppliers", str(bad), "--tenant", tenant.code, "--valid-only"
    )
    assert again.returncode == 0
    assert (summary(again)["replayed"], summary(again)["id"]) == (True, summary(written)["id"])
    assert await suppliers(other_tenant) == {}

    # a new file naming a code that now exists is refused row by row
    later = tmp_path / "later.csv"
    later.write_bytes(SUPPLIERS.replace("V-2", "V-3").encode("big5"))
    clash = cli(database_url, "import", "suppliers", str(later), "--tenant", tenant.code)
    assert clash.returncode == 1
    assert {(e["row"], e["code"]) for e in summary(clash)["errors"]} == {(3, "ALREADY_EXISTS")}


def _on_a_terminal(database_url: str, *args: str) -> tuple[int, str]:
    """Run the CLI with stderr on a pseudo-terminal (as an operator sees it); its output."""
    import os
    import pty
    import subprocess
    import sys

    main, side = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", *args],
        stdout=subprocess.DEVNULL,
        stderr=side,
        env={**os.environ, "DATABASE_URL": database_url, "COLUMNS": "120"},
    )
    os.close(side)
    seen = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the terminal closed: the process has ended
            break
        if not chunk:
            break
        seen += chunk
    os.close(main)
    return process.wait(timeout=120), seen.decode("utf-8", "replace")


async def test_the_cli_shows_a_progress_bar_with_phases_on_a_terminal(
    database_url, tenant, tmp_path
):
    rows = "\n".join(f"T{i:05d},貨品{i},Item {i},{i % 40 + 1}" for i in range(30_000))
    path = tmp_path / "many.csv"
    path.write_bytes(f"SKU,中文名稱,English Name,售價\n{rows}\n".encode("big5"))
    code, screen = _on_a_terminal(
        database_url, "import", "products", str(path), "--tenant", tenant.code
    )
    assert code == 0, screen
    assert "validating" in screen and "writing" in screen, screen
    assert "of 30,000 rows" in screen  # writing knows its total
    assert "%" in screen


async def test_replenishment_rules_with_methods_sources_and_their_checks(
    database_url, tenant, tmp_path
):
    cli(
        database_url, "import", "suppliers", str(_suppliers_file(tmp_path)), "--tenant", tenant.code
    )
    body = (
        "分店,貨號,再訂購點,補貨方式,最低存量,最高存量,安全存量,檢討週期,供應商,調貨來源\n"
        "S1,A,5,,,,2,14,V-1,\n"
        "S2,B,0,MIN_MAX,10,40,,,,WH\n"
        "S2,C,3,min/max,50,20,,,V-9,S2\n"
    )
    path = tmp_path / "rules.csv"
    path.write_bytes(body.encode("big5"))
    refused = cli(database_url, "import", "replenishment-rules", str(path), "--tenant", tenant.code)
    assert refused.returncode == 1
    assert {(e["row"], e["column"], e["code"]) for e in summary(refused)["errors"]} == {
        (4, "最低存量", "OUT_OF_RANGE"),
        (4, "供應商", "UNKNOWN_SUPPLIER"),
        (4, "調貨來源", "INVALID"),
    }
    done = cli(
        database_url,
        "import",
        "replenishment-rules",
        str(path),
        "--tenant",
        tenant.code,
        "--valid-only",
    )
    assert done.returncode == 0, done.stderr
    async with tenant.db.owner_transaction() as s:
        made = {
            (r.location_id, r.product_id): tuple(r)[2:]
            for r in await s.execute(
                text(
                    "SELECT r.location_id, r.product_id, method, min_quantity, max_quantity, "
                    "reorder_point, safety_stock, review_period_days, s.code, "
                    "source_location_id FROM replenishment_rules r "
                    "LEFT JOIN suppliers s ON s.tenant_id = r.tenant_id "
                    "AND s.id = r.source_supplier_id WHERE r.tenant_id = :t"
                ),
                {"t": tenant.tenant_id},
            )
        }
    assert made == {
        (tenant.locations["S1"], tenant.products["A"]): (
            "REORDER_POINT",
            None,
            None,
            5,
            2,
            14,
            "V-1",
            None,
        ),
        (tenant.locations["S2"], tenant.products["B"]): (
            "MIN_MAX",
            10,
            40,
            0,
            0,
            7,
            None,
            tenant.locations["WH"],
        ),
    }


def _suppliers_file(tmp_path):
    path = tmp_path / "suppliers.csv"
    path.write_bytes(SUPPLIERS.encode("big5"))
    return path


async def test_supplier_products_join_suppliers_and_skus_and_upsert(database_url, tenant, tmp_path):
    cli(
        database_url, "import", "suppliers", str(_suppliers_file(tmp_path)), "--tenant", tenant.code
    )
    body = (
        "供應商編號,貨號,進貨價,供應商貨號,每箱數量,最低訂購量\n"
        "V-1,A,3.50,KD-A,12,2\n"
        "V-1,B,HK$8.2,,,\n"
        "V-2,A,3.40,MF-A,6,1\n"
        "V-1,A,3.60,,,\n"
        "V-9,Z,abc,,0,\n"
    )
    path = tmp_path / "supplier-products.csv"
    path.write_bytes(body.encode("big5"))
    dry = cli(
        database_url, "import", "supplier-products", str(path), "--tenant", tenant.code, "--dry-run"
    )
    assert {(e["row"], e["column"], e["code"]) for e in summary(dry)["errors"]} == {
        (5, "貨號", "DUPLICATE_IN_FILE"),
        (6, "進貨價", "NOT_A_NUMBER"),
        (6, "每箱數量", "OUT_OF_RANGE"),
    }
    done = cli(
        database_url,
        "import",
        "supplier-products",
        str(path),
        "--tenant",
        tenant.code,
        "--valid-only",
    )
    assert done.returncode == 0, done.stderr
    assert summary(done)["rowsWritten"] == 3
    async with tenant.db.owner_transaction() as s:
        rows = await s.execute(
            text(
                "SELECT s.code, p.sku, sp.unit_cost, sp.supplier_sku, sp.pack_size, "
                "sp.min_order_quantity FROM supplier_products sp "
                "JOIN suppliers s ON s.tenant_id = sp.tenant_id AND s.id = sp.supplier_id "
                "JOIN products p ON p.tenant_id = sp.tenant_id AND p.id = sp.product_id "
                "WHERE sp.tenant_id = :t"
            ),
            {"t": tenant.tenant_id},
        )
        got = sorted(tuple(r) for r in rows)
    assert got == [
        ("V-1", "A", Decimal("3.5000"), "KD-A", 12, 2),
        ("V-1", "B", Decimal("8.2000"), None, 1, 1),
        ("V-2", "A", Decimal("3.4000"), "MF-A", 6, 1),
    ]
