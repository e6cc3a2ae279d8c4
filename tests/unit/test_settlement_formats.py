"""Settlement file parsers and matching: pure, no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from domain.reconciliation.formats import PARSERS, ParseError, alipayhk, octopus
from domain.reconciliation.formats.csvfile import HONG_KONG, MAX_BYTES
from domain.reconciliation.matching import LineStatus, PosTender, match

ALIPAY_HEADER = (
    "Partner_transaction_id,Transaction_id,Amount,Fee,Settlement,Currency,Payment_time,"
    "Settlement_time,Type,Status,Remarks,original_partner_transaction_ID\n"
)
ALIPAY = ALIPAY_HEADER + (
    "AP-1,2026120722001,100.00,0.90,99.10,HKD,12/05/2026 10:15:00,12/06/2026 02:00:00,"
    "PAYMENT,SUCCESS,,\n"
    "AP-2,2026120722002,50.00,0.45,49.55,HKD,12/05/2026 11:00:00,12/06/2026 02:00:00,"
    "PAYMENT,SUCCESS,,\n"
    "AP-1R,2026120722003,30.00,-0.27,-29.73,HKD,12/05/2026 12:00:00,12/06/2026 02:00:00,"
    "REFUND,SUCCESS,size,AP-1\n"
)
OCTOPUS = (
    "reader_id,transaction_time,amount,octopus_reference,type,settlement_date,fee\n"
    "R01,2026-12-05 10:00:00,12.50,OCT-1,PAYMENT,2026-12-06,0.10\n"
    "R01,2026-12-05 10:05:00,8.00,,PAYMENT,2026-12-06,0.06\n"
    "R02,2026-12-05 10:07:00,8.00,,REFUND,2026-12-06,0\n"
)


def test_alipayhk_as_published():
    rows = alipayhk.parse(ALIPAY.encode())
    assert [(r.line, r.kind, r.reference, r.amount, r.fee, r.net) for r in rows] == [
        (2, "PAYMENT", "AP-1", Decimal("100.00"), Decimal("0.90"), Decimal("99.10")),
        (3, "PAYMENT", "AP-2", Decimal("50.00"), Decimal("0.45"), Decimal("49.55")),
        (4, "REFUND", "AP-1R", Decimal("-30.00"), Decimal("-0.27"), Decimal("-29.73")),
    ]
    assert rows[2].original_reference == "AP-1"
    assert rows[0].occurred_at == datetime(2026, 12, 5, 10, 15, tzinfo=HONG_KONG)
    assert rows[0].settled_on == date(2026, 12, 6)
    # A byte-order mark, other column order and letter case are all fine.
    shuffled = "\ufeff" + ALIPAY.replace("Partner_transaction_id", "PARTNER_TRANSACTION_ID")
    assert len(alipayhk.parse(shuffled.encode())) == 3
    # Columns in another order; failed rows are skipped.
    lines = [ln.split(",") for ln in ALIPAY.strip().split("\n")]
    reordered = "\n".join(",".join(reversed(cells)) for cells in lines) + "\n"
    assert alipayhk.parse(reordered.encode()) == rows
    failed = ALIPAY.replace("PAYMENT,SUCCESS,,\nAP-1R", "PAYMENT,FAIL,,\nAP-1R")
    assert [r.reference for r in alipayhk.parse(failed.encode())] == ["AP-1", "AP-1R"]


def test_octopus_format():
    rows = octopus.parse(OCTOPUS.encode())
    assert [(r.kind, r.terminal_id, r.reference, r.amount, r.net) for r in rows] == [
        ("PAYMENT", "R01", "OCT-1", Decimal("12.50"), Decimal("12.40")),
        ("PAYMENT", "R01", None, Decimal("8.00"), Decimal("7.94")),
        ("REFUND", "R02", None, Decimal("-8.00"), Decimal("-8.00")),
    ]
    without_fee = OCTOPUS.replace(",fee\n", "\n").replace(",0.10\n", "\n")
    without_fee = without_fee.replace(",0.06\n", "\n").replace(",0\n", "\n")
    assert [r.fee for r in octopus.parse(without_fee.encode())] == [Decimal("0")] * 3


def _error(parse, data: bytes) -> ParseError:
    with pytest.raises(ParseError) as caught:
        parse(data)
    return caught.value


def test_wrong_encoding_names_line_and_column():
    data = ALIPAY.replace("size", "尺碼").encode("big5")
    err = _error(alipayhk.parse, data)
    assert (err.line, err.column) == (4, "Remarks")
    assert "UTF-8" in str(err) and str(err).startswith("line 4, column Remarks:")


def test_missing_column():
    data = ALIPAY.replace(",Fee,", ",Charge,").encode()
    err = _error(alipayhk.parse, data)
    assert (err.line, err.column) == (1, "Fee")
    assert "missing" in err.message


@pytest.mark.parametrize(
    ("bad", "column"),
    [
        ("2026-12-05 10:15:00", "Payment_time"),
        ("13/45/2026 10:15:00", "Payment_time"),
    ],
)
def test_bad_dates(bad: str, column: str):
    data = ALIPAY.replace("12/05/2026 11:00:00", bad).encode()
    err = _error(alipayhk.parse, data)
    assert (err.line, err.column) == (3, column)
    assert "MM/DD/YYYY HH:MM:SS" in err.message


def test_bad_amounts_and_types():
    err = _error(alipayhk.parse, ALIPAY.replace("50.00,0.45", "fifty,0.45").encode())
    assert (err.line, err.column) == (3, "Amount")
    err = _error(alipayhk.parse, ALIPAY.replace("REFUND", "CHARGEBACK").encode())
    assert (err.line, err.column) == (4, "Type")
    err = _error(octopus.parse, OCTOPUS.replace("2026-12-06,0.06", "06/12/2026,0.06").encode())
    assert (err.line, err.column) == (3, "settlement_date")
    err = _error(octopus.parse, OCTOPUS.replace("12.50,OCT-1", "12.505,OCT-1").encode())
    assert (err.line, err.column) == (2, "amount")


def test_fifty_megabyte_file_is_refused_naming_line_and_column():
    line = "R01,2026-12-05 10:00:00,12.50,OCT-{},PAYMENT,2026-12-06,0.10\n"
    header = "reader_id,transaction_time,amount,octopus_reference,type,settlement_date,fee\n"
    body = "".join(line.format(i) for i in range(820_000))
    data = (header + body).encode()
    assert len(data) > 50 * 1024 * 1024
    err = _error(octopus.parse, data)
    expected_line = data.count(b"\n", 0, MAX_BYTES) + 1
    assert err.line == expected_line and err.column in {
        "reader_id",
        "transaction_time",
        "amount",
        "octopus_reference",
        "type",
        "settlement_date",
        "fee",
    }
    assert "larger than 20 MB" in err.message


def test_every_format_is_registered():
    assert set(PARSERS) == {"ALIPAYHK", "OCTOPUS"}


def _tender(id: int, amount: str, minute: int, **kw) -> PosTender:
    when = datetime(2026, 12, 5, 2, minute, tzinfo=UTC)
    return PosTender(
        id=id,
        amount=Decimal(amount),
        occurred_at=when,
        business_date=date(2026, 12, 5),
        location_id=1,
        **kw,
    )


def test_matching_every_status():
    rows = alipayhk.parse(
        (
            ALIPAY
            + "AP-2,2026120722002,50.00,0.45,49.55,HKD,12/05/2026 11:00:00,12/06/2026 02:00:00,"
            "PAYMENT,SUCCESS,,\n"
            + "AP-9,2026120722009,70.00,0.63,69.37,HKD,12/05/2026 11:30:00,12/06/2026 02:00:00,"
            "PAYMENT,SUCCESS,,\n"
        ).encode()
    )
    tenders = [
        _tender(1, "100.00", 15, reference="AP-1"),
        _tender(2, "55.00", 16, reference="AP-2"),  # the till rang up 55
        _tender(3, "-30.00", 20, original_reference="AP-1"),  # refund without its own ref
        _tender(4, "12.00", 30, reference="AP-X"),  # never settled
    ]
    outcomes = match(rows, tenders, (date(2026, 12, 5), date(2026, 12, 5)))
    got = [
        (o.status, o.row.reference if o.row else None, o.tender.id if o.tender else None)
        for o in outcomes
    ]
    assert got == [
        (LineStatus.MATCHED, "AP-1", 1),
        (LineStatus.AMOUNT_MISMATCH, "AP-2", 2),
        (LineStatus.MATCHED, "AP-1R", 3),
        (LineStatus.DUPLICATE, "AP-2", None),
        (LineStatus.MISSING_IN_POS, "AP-9", None),
        (LineStatus.MISSING_IN_SETTLEMENT, None, 4),
    ]


def test_matching_by_reader_amount_and_time():
    rows = octopus.parse(OCTOPUS.encode())
    base = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)  # 10:00 Hong Kong time
    tenders = [
        PosTender(1, Decimal("12.50"), base, date(2026, 12, 5), 1, "OCT-1", None, "R01"),
        # same amount, other reader: not a candidate for the R01 row
        PosTender(
            2, Decimal("8.00"), base + timedelta(minutes=5), date(2026, 12, 5), 1, None, None, "R09"
        ),
        PosTender(
            3, Decimal("8.00"), base + timedelta(minutes=7), date(2026, 12, 5), 2, None, None, "R01"
        ),
        # a refund far outside the window
        PosTender(
            4, Decimal("-8.00"), base + timedelta(hours=3), date(2026, 12, 5), 2, None, None, "R02"
        ),
    ]
    outcomes = match(rows, tenders, (date(2026, 12, 5), date(2026, 12, 5)))
    got = [
        (o.status, o.row.line if o.row else None, o.tender.id if o.tender else None)
        for o in outcomes
    ]
    assert got == [
        (LineStatus.MATCHED, 2, 1),
        (LineStatus.MATCHED, 3, 3),
        (LineStatus.MISSING_IN_POS, 4, None),
        (LineStatus.MISSING_IN_SETTLEMENT, None, 2),
        (LineStatus.MISSING_IN_SETTLEMENT, None, 4),
    ]
