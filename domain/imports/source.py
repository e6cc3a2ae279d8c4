"""Reading an import file as rows of text, streamed, whatever it was saved as.

CSV: UTF-8 (with or without BOM), UTF-16 (with BOM, or without one when every
other byte of the start is NUL), Big5 and Big5-HKSCS are told apart by
decoding: a file that is valid UTF-8 throughout is UTF-8, else one that Big5
(CP950) decodes is Big5, else Big5-HKSCS. The caller may name the encoding
instead. XLSX: read with openpyxl in read-only mode (values as stored: a
formula stays its text and is never evaluated), after the archive's declared
sizes are checked, so a zip bomb is refused before anything is inflated.

Rows are yielded one at a time; nothing holds the whole file.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

MAX_COLUMNS = 200
MAX_CELL = 2000
MAX_XLSX_INFLATED = 512 * 1024 * 1024  # bytes, all entries together
MAX_XLSX_RATIO = 200  # inflated ÷ compressed, per entry
CHUNK = 1 << 16

BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
ENCODINGS = {"utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "big5", "big5hkscs"}


class SourceError(Exception):
    """The file as a whole cannot be read; ``code`` is stable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _decodes(path: Path, encoding: str) -> bool:
    """True when the whole file decodes strictly (read in chunks)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with path.open("rb") as f:
            while chunk := f.read(CHUNK):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(path: Path) -> str:
    """The encoding of a CSV file, by its BOM or by what decodes it (see the module doc)."""
    with path.open("rb") as f:
        head = f.read(4096)
    for bom, name in BOMS:
        if head.startswith(bom):
            return name
    if len(head) >= 4 and head[1::2].count(0) > len(head) // 4:
        return "utf-16-le"
    if len(head) >= 4 and head[0::2].count(0) > len(head) // 4:
        return "utf-16-be"
    for name in ("utf-8", "cp950", "big5hkscs"):
        if _decodes(path, name):
            return "big5" if name == "cp950" else name
    raise SourceError("ENCODING", "the file is not UTF-8, UTF-16, Big5 or Big5-HKSCS text")


def _python_codec(encoding: str) -> str:
    return "cp950" if encoding == "big5" else encoding


class Gauge:
    """How far through its file a row iterator is, as a fraction (None: cannot tell)."""

    def __init__(self, size: int = 0) -> None:
        self.size = size
        self.file: BinaryIO | None = None
        self.rows = 0
        self.of_rows: int | None = None

    def fraction(self) -> float | None:
        if self.file is not None and self.size and not self.file.closed:
            return min(1.0, self.file.tell() / self.size)
        if self.of_rows:
            return min(1.0, self.rows / self.of_rows)
        return None


def csv_rows(path: Path, encoding: str, gauge: Gauge | None = None) -> Iterator[list[str]]:
    """The CSV's rows as lists of strings; too many columns or a bad byte is a SourceError."""
    if encoding not in ENCODINGS:
        raise SourceError("ENCODING", f"unknown encoding {encoding!r}")
    csv.field_size_limit(MAX_CELL * 4)
    with path.open("rb") as raw:
        if gauge is not None:
            gauge.file = raw
        text = io.TextIOWrapper(raw, encoding=_python_codec(encoding), newline="", errors="strict")
        reader = csv.reader(text)
        try:
            for row in reader:
                if len(row) > MAX_COLUMNS:
                    raise SourceError(
                        "TOO_MANY_COLUMNS",
                        f"row {reader.line_num} has {len(row)} columns (at most {MAX_COLUMNS})",
                    )
                yield row
        except UnicodeDecodeError as error:
            raise SourceError(
                "ENCODING", f"not {encoding} text near line {reader.line_num + 1}: {error.reason}"
            ) from error
        except csv.Error as error:
            raise SourceError("MALFORMED", f"line {reader.line_num}: {error}") from error


def check_xlsx(path: Path) -> None:
    """Refuse archives that are not XLSX or that would inflate beyond the limits."""
    try:
        with zipfile.ZipFile(path) as archive:
            total = 0
            for info in archive.infolist():
                total += info.file_size
                ratio = info.file_size / max(info.compress_size, 1)
                if total > MAX_XLSX_INFLATED or (
                    info.file_size > 1 << 20 and ratio > MAX_XLSX_RATIO
                ):
                    raise SourceError("TOO_LARGE", "the workbook inflates beyond the limits")
            if "xl/workbook.xml" not in archive.namelist():
                raise SourceError("MALFORMED", "not an XLSX workbook")
    except zipfile.BadZipFile as error:
        raise SourceError("MALFORMED", "not an XLSX workbook") from error


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def xlsx_rows(
    path: Path, sheet: str | None = None, gauge: Gauge | None = None
) -> Iterator[list[str]]:
    """The first (or the named) sheet's rows as strings; formulas come back as their text."""
    import openpyxl  # imported here: only XLSX imports need it

    check_xlsx(path)
    # opened as a file: openpyxl refuses a path whose name does not end in .xlsx, and an
    # upload is saved under a name of our own
    handle = path.open("rb")
    try:
        book = openpyxl.load_workbook(handle, read_only=True, data_only=False)
    except Exception as error:  # openpyxl raises many kinds on a damaged file
        handle.close()
        raise SourceError("MALFORMED", f"the workbook cannot be read: {error}") from error
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise SourceError("SHEET", f"no sheet named {sheet!r}")
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        if gauge is not None:
            gauge.of_rows = ws.max_row  # from the sheet's dimension, when it has one
        for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
            if gauge is not None:
                gauge.rows = number
            row = [_cell(v) for v in values]
            while row and row[-1] == "":
                row.pop()
            if len(row) > MAX_COLUMNS:
                raise SourceError(
                    "TOO_MANY_COLUMNS",
                    f"row {number} has {len(row)} columns (at most {MAX_COLUMNS})",
                )
            yield row
    finally:
        book.close()
        handle.close()


@dataclass(frozen=True, slots=True)
class Opened:
    """What was read: the rows, and how (for the summary)."""

    format: str
    encoding: str | None
    rows: Iterator[list[str]]
    gauge: Gauge = field(default_factory=Gauge)


def open_rows(path: Path, *, encoding: str | None = None, sheet: str | None = None) -> Opened:
    """Rows of a CSV or XLSX file, told apart by content (XLSX is a ZIP archive)."""
    with path.open("rb") as f:
        magic = f.read(4)
    gauge = Gauge(path.stat().st_size)
    if magic == b"PK\x03\x04":
        return Opened("XLSX", None, xlsx_rows(path, sheet, gauge), gauge)
    chosen = encoding or detect_encoding(path)
    return Opened("CSV", chosen, csv_rows(path, chosen, gauge), gauge)
