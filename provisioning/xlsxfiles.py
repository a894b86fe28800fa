"""XLSX attachments: refuse zip bombs, then stream the first sheet's cells as text.

An .xlsx file is a zip of XML parts. The zip's directory is checked before openpyxl sees the
file, because a few compressed kilobytes can declare gigabytes of XML. openpyxl then reads in
read-only mode (rows are parsed as they are asked for) with `data_only=False`: a formula
comes back as its text ("=+39...") and is never evaluated, so the validator can explain it.
"""
from __future__ import annotations

import io
import logging
import math
import zipfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time

from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from provisioning.spreadsheets import ACCEPTED_FORMATS, FIX_HEADER, FileError

log = logging.getLogger(__name__)

EXCEL_MAX_ROW = 1_048_576
BOMB_FACTOR = 20        # all parts together may expand to this many times the size limit
BOMB_RATIO = 100        # one part may expand at most this many times (real sheets: 10-20)
BOMB_RATIO_FLOOR = 1 << 20  # parts smaller than 1 MiB are harmless whatever their ratio
MAX_PARTS = 10_000      # real workbooks have tens of parts
_FLOAT_INTEGRAL_LIMIT = 1e15  # Excel keeps 15 significant digits; beyond, General shows E+ notation
_SAVE_AGAIN = "open it in your spreadsheet program and save it again as .xlsx or CSV UTF-8"


class XlsxSheet:
    """The rows of the first visible worksheet of an .xlsx attachment, as text cells."""

    def __init__(self, data: bytes, max_bytes: int):
        _check_archive(data, max_bytes)
        self._workbook = _open(data)
        self._sheet = _first_sheet(self._workbook)
        self._header_line = 0

    def header(self) -> tuple[int, list[str]]:
        """The first row with a non-blank cell."""
        for line, values in _checked(self._sheet.iter_rows(values_only=True), 1):
            cells = [cell_text(value) for value in values]
            if any(cells):
                self._header_line = line
                return line, cells
        raise FileError(f"The first sheet (`{self._sheet.title}`) is empty: {FIX_HEADER}.")

    def rows(self, width: int) -> Iterator[tuple[int, list[str]]]:
        """The rows after the header, cut to their first `width` cells."""
        start = self._header_line + 1
        try:
            for line, values in _checked(self._sheet.iter_rows(min_row=start, max_col=width, values_only=True), start):
                yield line, [cell_text(value) for value in values]
        finally:
            self._workbook.close()


def cell_text(value: object) -> str:
    """A cell value as text, the way the spreadsheet would show it in General format."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < _FLOAT_INTEGRAL_LIMIT:
            return str(int(value))
        return f"{value:.15G}"
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    formula = getattr(value, "text", None)  # openpyxl's ArrayFormula keeps "=..." in .text
    return formula.strip() if isinstance(formula, str) else str(value).strip()


def _check_archive(data: bytes, max_bytes: int) -> None:
    """FileError unless the zip looks like a workbook that expands to a sane size."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except Exception as exc:  # zipfile raises many types (BadZipFile, ValueError, EOFError...)
        log.info("unreadable zip attachment: %r", exc)
        raise FileError(f"The file is a damaged zip archive, not a readable .xlsx workbook: {_SAVE_AGAIN}.") from exc
    names = {part.filename for part in parts}
    if "xl/workbook.bin" in names:
        raise FileError("This is an Excel binary workbook (.xlsb): save it as .xlsx or CSV UTF-8.")
    if "content.xml" in names and "META-INF/manifest.xml" in names:
        raise FileError("This is an OpenDocument spreadsheet (.ods): save it as .xlsx or CSV UTF-8.")
    if "[Content_Types].xml" not in names or len(parts) > MAX_PARTS:
        raise FileError(f"This zip archive is not an .xlsx workbook: send a {ACCEPTED_FORMATS} file.")
    total = sum(part.file_size for part in parts)
    if total > BOMB_FACTOR * max_bytes:
        raise FileError(f"This .xlsx file expands to {total / 2**20:,.0f} MB of data, too much to read: "
                        f"{_SAVE_AGAIN}, or split it.")
    for part in parts:
        if part.file_size > BOMB_RATIO_FLOOR and part.file_size > BOMB_RATIO * max(part.compress_size, 1):
            raise FileError(f"This .xlsx file is compressed suspiciously well ({part.filename} expands "
                            f"{part.file_size // max(part.compress_size, 1):,} times), so it isn't read: "
                            f"{_SAVE_AGAIN}.")


def _open(data: bytes) -> Workbook:
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
    except Exception as exc:  # openpyxl surfaces zip, XML and value errors of damaged files as is
        log.info("unreadable xlsx attachment: %r", exc)
        raise FileError(f"This .xlsx file can't be opened (damaged, or not an Excel workbook): {_SAVE_AGAIN}.") from exc


def _first_sheet(workbook: Workbook) -> ReadOnlyWorksheet:
    """The first visible worksheet (the tab the operator sees first), with trusted size."""
    sheets = workbook.worksheets
    if not sheets:
        raise FileError(f"The workbook has no worksheet: {FIX_HEADER}.")
    visible = [sheet for sheet in sheets if sheet.sheet_state == "visible"]
    sheet = (visible or sheets)[0]
    sheet.reset_dimensions()  # the stored dimension can be wrong; read every row there is
    return sheet


def _checked(rows: Iterable[tuple[object, ...]], start: int) -> Iterator[tuple[int, tuple[object, ...]]]:
    """Number the rows from `start`, turning damage found while parsing into FileError.

    openpyxl fills gaps between stored rows with empty ones; a row number beyond Excel's last
    row (only a forged file has one) would make that loop endless, so it stops there.
    """
    rows = iter(rows)
    line = start - 1
    while True:
        try:
            values = next(rows)
        except StopIteration:
            return
        except Exception as exc:
            log.info("damaged xlsx attachment near row %d: %r", line + 1, exc)
            raise FileError(f"The .xlsx file is damaged near row {line + 1}: {_SAVE_AGAIN}.") from exc
        line += 1
        if line > EXCEL_MAX_ROW:
            raise FileError(f"The sheet has rows past Excel's last row ({EXCEL_MAX_ROW:,}): {_SAVE_AGAIN}.")
        yield line, values
