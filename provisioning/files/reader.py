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
# Header names people's spreadsheets already have, best first (compared after `normalise_header`).
NUMBER_HEADERS = ("number", "phone number", "phone", "e.164", "e164", "did", "telephone number", "telephone",
                  "numbers", "phone numbers", "dids")
RANGE_END_HEADERS = ("range end", "end", "last number")
_NUMBER_LIKE = re.compile(r"[+=0-9(]")


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
    if _headerless(header):
        return _data_rows(sheet, 0, None, max_rows, first=Row(line, header[0].strip(), ""))
    number_col, range_col = _columns(header, line)
    return _data_rows(sheet, number_col, range_col, max_rows)


def columns_used(data: bytes, filename: str = "", *, max_bytes: int = Settings.max_file_bytes) -> str:
    """Which columns the numbers are read from, for the preview (`Phone Number` is column B...).

    Reads the header only; call it after `read_rows` accepted the file."""
    kind = _sniff(data, filename)
    sheet: Sheet = XlsxSheet(data, max_bytes) if kind == "xlsx" else CsvSheet(data)
    line, header = sheet.header()
    if _headerless(header):
        return "Numbers read from column A (no header row: every row is a number)."
    number_col, range_col = _columns(header, line)
    used = f"Numbers read from column {get_column_letter(number_col + 1)} ({literal(header[number_col].strip())})"
    if range_col is not None:
        used += f", range ends from column {get_column_letter(range_col + 1)} ({literal(header[range_col].strip())})"
    return used + "."


def _headerless(header: list[str]) -> bool:
    """A single column whose first row is already a number (or a damaged one): no header row."""
    filled = [cell.strip() for cell in header if cell.strip()]
    return len(filled) == 1 and header[0].strip() == filled[0] and _NUMBER_LIKE.match(filled[0]) is not None


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
    """Positions of the Number and Range End columns in the header row (the first known name present)."""
    names = [normalise_header(cell) for cell in header]
    numbers = _first_named(names, NUMBER_HEADERS)
    ends = _first_named(names, RANGE_END_HEADERS)
    if not numbers:
        found = ",".join(cell.strip() for cell in header).strip(",")
        known = ", ".join(f"`{name.title() if name != 'e.164' else 'E.164'}`" for name in NUMBER_HEADERS[:6])
        raise FileError(f"Row {line} ({literal(found)}) has no `Number` column (also read: {known}): {FIX_HEADER}.")
    for name, found in (("Number", numbers), ("Range End", ends)):
        if len(found) > 1:
            raise FileError(f"The header has {len(found)} `{name}` columns ({_letters(found)}): keep one.")
    return numbers[0], (ends[0] if ends else None)


def _first_named(names: list[str], wanted: tuple[str, ...]) -> list[int]:
    """The columns carrying the best-ranked of the `wanted` names that the header has."""
    for name in wanted:
        found = [i for i, cell in enumerate(names) if cell == name]
        if found:
            return found
    return []


def _letters(columns: list[int], shown: int = 5) -> str:
    """Column letters for a message, the first few only: a forged header can repeat a name 10,000 times."""
    more = f", … {len(columns) - shown} more" if len(columns) > shown else ""
    return ", ".join(get_column_letter(i + 1) for i in columns[:shown]) + more


def _data_rows(sheet: Sheet, number_col: int, range_col: int | None, max_rows: int,
               first: Row | None = None) -> Iterator[Row]:
    width = max(number_col, -1 if range_col is None else range_col) + 1
    count = 0
    make = tuple.__new__  # Row(...) without NamedTuple's Python-level __new__: a million rows per read
    if first is not None:  # a file without a header row: its first row is data
        count += 1
        yield first
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
            yield make(Row, (line, number, range_end))
