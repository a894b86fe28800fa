"""Numbers in and out of spreadsheets: read CSV/XLSX attachments, write CSV/XLSX files.

Attachments are untrusted. `read_rows` checks the size first, tells the format from the bytes
(the file name only improves messages), and never evaluates a formula. The CSV and XLSX
details live in `csvfiles` and `xlsxfiles`; this module holds the contract both share: the
`Number`/`Range End` header, row limits and what a row is. Files written for operators follow
OWASP's CSV-injection guidance so opening one can never run anything.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import NamedTuple, Protocol

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from provisioning.errors import UserError

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_ROWS = 1_000_000

EXPECTED_HEADER = "Number,Range End"
ACCEPTED_FORMATS = "CSV (UTF-8 or UTF-16, `,` or `;` separated) or Excel .xlsx"
FIX_HEADER = f"the first row must be the header `{EXPECTED_HEADER}` (send `template` for a file to fill in)"

# A single number and a range. Written with spaces because no spreadsheet program reads
# "+1 212 788 1500" as a number, so opening the CSV keeps the +; see `template_csv`.
TEMPLATE_EXAMPLES: tuple[tuple[str, str], ...] = (
    ("+1 212 788 1500", ""),
    ("+1 212 788 1600", "+1 212 788 1699"),
)

_BOM = "\ufeff"
_BLANK = re.compile(rb"\s*")
_HEADER_SEPARATORS = re.compile(r"[\s_-]+")
_NUMBER, _RANGE_END = "number", "range end"
_TEXT_FORMAT = "@"
_ENCODE_EVERY = 10_000  # rows per chunk when encoding CSV output, to keep one copy in memory


class FileError(UserError):
    """An attachment that cannot be read; the message names the problem and the fix."""


class Row(NamedTuple):
    """One data row, with the cells as the operator wrote them (stripped); a tuple, as a million are made."""

    line: int        # row number as the spreadsheet shows it: header is row 1, first data row 2
    number: str      # the Number cell
    range_end: str   # the Range End cell ('' when the column is absent or the cell is empty)


class Sheet(Protocol):
    """What `csvfiles.CsvSheet` and `xlsxfiles.XlsxSheet` provide to `read_rows`."""

    def header(self) -> tuple[int, list[str]]:
        """The first non-blank row and its line; FileError when there is none."""

    def rows(self, width: int) -> Iterator[tuple[int, Sequence[str]]]:
        """The rows after the header with their lines; cells past `width` may be left out,
        and a row may have fewer cells than that."""


def read_rows(data: bytes, filename: str = "", *, max_rows: int = DEFAULT_MAX_ROWS,
              max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Row]:
    """Stream the data rows of a CSV or XLSX attachment, skipping blank ones.

    Whole-file problems (size, format, encoding, zip bomb, header, NUL byte) raise FileError
    from this call, before any row. A row past `max_rows` or damage deep inside the file
    raises FileError while iterating: callers consume the rows inside a transaction that
    they roll back on error.
    """
    # Imported here because both format modules build on FileError and Row defined above.
    from provisioning import csvfiles, xlsxfiles

    check_size(len(data), max_bytes)
    kind = _sniff(data, filename)
    sheet: Sheet = xlsxfiles.XlsxSheet(data, max_bytes) if kind == "xlsx" else csvfiles.CsvSheet(data)
    line, header = sheet.header()
    number_col, range_col = _columns(header, line)
    return _data_rows(sheet, number_col, range_col, max_rows)


def check_size(size: int, max_bytes: int) -> None:
    """FileError when an attachment is over the size limit."""
    if size > max_bytes:
        shown, limit = _megabytes(size), _megabytes(max_bytes)
        if shown == limit:
            shown, limit = f"{size:,} bytes", f"{max_bytes:,} bytes"
        raise FileError(f"The file is {shown}, over the {limit} limit: split it into several files.")


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f}".removesuffix(".0") + " MB"


def _sniff(data: bytes, filename: str) -> str:
    """'xlsx' or 'csv' from the first bytes; FileError for what we know we cannot read."""
    named = f"`{filename}`" if filename else "The file"
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
    return _HEADER_SEPARATORS.sub(" ", cell.replace(_BOM, " ")).strip().casefold()


def _columns(header: list[str], line: int) -> tuple[int, int | None]:
    """Positions of the Number and Range End columns in the header row."""
    names = [normalise_header(cell) for cell in header]
    numbers = [i for i, name in enumerate(names) if name == _NUMBER]
    ends = [i for i, name in enumerate(names) if name == _RANGE_END]
    if not numbers:
        shown = ",".join(cell.strip() for cell in header).strip(",")
        shown = shown[:60] + ("…" if len(shown) > 60 else "")
        raise FileError(f"Row {line} (`{shown.replace('`', chr(39))}`) has no `Number` column: {FIX_HEADER}.")
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


def safe_cell(value: str) -> str:
    """The cell text, prefixed with `'` when a spreadsheet could take it for a formula.

    OWASP's CSV-injection rule: = + - @ tab and CR start formulas. A + or - followed only by
    digits is a phone number or a plain number, harmless, and stays as is so exported E.164
    numbers keep their form.
    """
    if not value:
        return value
    first = value[0]
    if first in "=@\t\r":
        return "'" + value
    if first in "+-" and not (len(value) > 1 and value[1:].isascii() and value[1:].isdigit()):
        return "'" + value
    return value


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """A CSV file (UTF-8 with BOM, so Excel picks the encoding) with every cell made safe."""
    out = io.BytesIO()
    out.write(_BOM.encode())
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow([safe_cell(str(cell)) for cell in header])
    for count, row in enumerate(rows, start=1):
        writer.writerow([safe_cell("" if cell is None else str(cell)) for cell in row])
        if count % _ENCODE_EVERY == 0:
            out.write(text.getvalue().encode())
            text.seek(0)
            text.truncate()
    out.write(text.getvalue().encode())
    return out.getvalue()


def invalid_rows_csv(rows: Iterable[tuple[int, str, str]]) -> bytes:
    """The invalid entries of an upload as a CSV file: row number, value, reason."""
    return csv_bytes(("Row", "Value", "Reason"), rows)


def template_csv() -> bytes:
    """The CSV template: UTF-8 with BOM, header `Number,Range End`, a number and a range.

    A CSV cell has no format, so a program opening it guesses: "+12127881500" becomes the
    number 12127881500 and the + is lost. The usual tricks are wrong here: `="+1212..."` is a
    formula (the very thing our exports refuse), and a leading apostrophe is not special in
    CSV (Excel keeps it as a character). Writing the numbers grouped with spaces,
    "+1 212 788 1500", works everywhere: it is not a number in any locale (the groups are not
    thousands), so Excel, LibreOffice and Google Sheets keep it as text with its +, and the
    validator removes the spaces. Checked with LibreOffice 7.4's CSV import.
    """
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(EXPECTED_HEADER.split(","))
    writer.writerows(TEMPLATE_EXAMPLES)
    return (_BOM + text.getvalue()).encode()


def template_xlsx() -> bytes:
    """The XLSX template: the CSV's content, both columns formatted as Text.

    The Text format (`@`) is set on the columns too, so numbers an operator types below the
    examples also keep their + instead of turning into numbers.
    """
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Numbers"
    sheet.append(EXPECTED_HEADER.split(","))
    for number, range_end in TEMPLATE_EXAMPLES:
        sheet.append([number, range_end or None])
    for letter in ("A", "B"):
        sheet.column_dimensions[letter].number_format = _TEXT_FORMAT
        sheet.column_dimensions[letter].width = 24
    for row in sheet.iter_rows(min_row=1, max_row=len(TEMPLATE_EXAMPLES) + 1, max_col=2):
        for cell in row:
            cell.number_format = _TEXT_FORMAT
            if cell.row == 1:
                cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
