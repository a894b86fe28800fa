"""Reading numbers from CSV/XLSX attachments: `read_rows` streams the data rows.

Attachments are untrusted. `read_rows` checks the size first, tells the format from the bytes
(the file name only improves messages), and never evaluates a formula. The CSV and XLSX
details live in `csv_reader` and `xlsx_reader`; the contract both share is in `sheet`.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from openpyxl.utils import get_column_letter

from provisioning.files.csv_reader import CsvSheet
from provisioning.files.sheet import (
    ACCEPTED_FORMATS,
    BOM,
    EXPECTED_HEADER,
    FIX_HEADER,
    FileError,
    Row,
    Sheet,
    check_size,
)
from provisioning.files.xlsx_reader import XlsxSheet
from provisioning.settings import Settings
from provisioning.text import literal

_BLANK = re.compile(rb"\s*")
_HEADER_SEPARATORS = re.compile(r"[\s_-]+")
_NUMBER, _RANGE_END = "number", "range end"


def read_rows(data: bytes, filename: str = "", *, max_rows: int = Settings.max_rows,
              max_bytes: int = Settings.max_file_bytes) -> Iterator[Row]:
    """Stream the data rows of a CSV or XLSX attachment, skipping blank ones.

    Whole-file problems (size, format, encoding, zip bomb, header, NUL byte) raise FileError
    from this call, before any row. A row past `max_rows` or damage deep inside the file
    raises FileError while iterating: callers consume the rows inside a transaction that
    they roll back on error.
    """
    check_size(len(data), max_bytes)
    kind = _sniff(data, filename)
    sheet: Sheet = XlsxSheet(data, max_bytes) if kind == "xlsx" else CsvSheet(data)
    line, header = sheet.header()
    number_col, range_col = _columns(header, line)
    return _data_rows(sheet, number_col, range_col, max_rows)


def _sniff(data: bytes, filename: str) -> str:
    """'xlsx' or 'csv' from the first bytes; FileError for what we know we cannot read."""
    named = literal(filename, 80) if filename else "The file"
    head = data[:1024].lstrip()
    if not head and _BLANK.fullmatch(data):
        raise FileError(f"{named} is empty: send a {ACCEPTED_FORMATS} file with the header `{EXPECTED_HEADER}`.")
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "xlsx"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise FileError(f"{named} is an old Excel 97-2003 (.xls) workbook or a password-protected file: "
                        "open it and save it as .xlsx (without a password) or as CSV UTF-8.")
    if head.startswith(b"%PDF"):
        raise FileError(f"{named} is a PDF document, not a spreadsheet: send a {ACCEPTED_FORMATS} file.")
    if head.startswith(b"<"):
        raise FileError(f"{named} is a web page or XML file, not a spreadsheet: open it in your spreadsheet "
                        f"program and save it as .xlsx or CSV UTF-8.")
    return "csv"


def normalise_header(cell: str) -> str:
    """Header text as compared: case, surrounding spaces, BOMs and `_`/`-` separators ignored."""
    return _HEADER_SEPARATORS.sub(" ", cell.replace(BOM, " ")).strip().casefold()


def _columns(header: list[str], line: int) -> tuple[int, int | None]:
    """Positions of the Number and Range End columns in the header row."""
    names = [normalise_header(cell) for cell in header]
    numbers = [i for i, name in enumerate(names) if name == _NUMBER]
    ends = [i for i, name in enumerate(names) if name == _RANGE_END]
    if not numbers:
        found = ",".join(cell.strip() for cell in header).strip(",")
        raise FileError(f"Row {line} ({literal(found)}) has no `Number` column: {FIX_HEADER}.")
    for name, found in (("Number", numbers), ("Range End", ends)):
        if len(found) > 1:
            raise FileError(f"The header has {len(found)} `{name}` columns ({_letters(found)}): keep one.")
    return numbers[0], (ends[0] if ends else None)


def _letters(columns: list[int], shown: int = 5) -> str:
    """Column letters for a message, the first few only: a forged header can repeat a name 10,000 times."""
    more = f", … {len(columns) - shown} more" if len(columns) > shown else ""
    return ", ".join(get_column_letter(i + 1) for i in columns[:shown]) + more


def _data_rows(sheet: Sheet, number_col: int, range_col: int | None, max_rows: int) -> Iterator[Row]:
    width = max(number_col, -1 if range_col is None else range_col) + 1
    count = 0
    for line, cells in sheet.rows(width):
        if len(cells) < width:  # CSV rows can be shorter than the header
            cells = [*cells, *[""] * (width - len(cells))]
        number = cells[number_col].strip()
        range_end = "" if range_col is None else cells[range_col].strip()
        if number or range_end:
            count += 1
            if count > max_rows:
                raise FileError(f"The file has more than {max_rows:,} rows of numbers (the limit): "
                                "split it into several files.")
            yield Row(line, number, range_end)
