"""Files written for operators (numbers exports, invalid-rows reports), safe to open anywhere.

They follow OWASP's CSV-injection guidance, so opening one in a spreadsheet program can never
run anything, and E.164 numbers keep their `+`.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import BinaryIO

from provisioning.files.sheet import BOM

_ENCODE_EVERY = 10_000  # rows per chunk when encoding CSV output, to keep one copy in memory


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
    """A CSV file (UTF-8 with BOM, so Excel picks the encoding) with every cell made safe (`write_csv`)."""
    out = io.BytesIO()
    write_csv(out, header, rows)
    return out.getvalue()


def write_csv(out: BinaryIO, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Write a CSV file (UTF-8 with BOM, so Excel picks the encoding) with every cell made safe,
    in chunks: a million rows never sit in memory as text.

    Cells are quoted when they hold a `,` (as CSV requires) and, since a spreadsheet program set
    to a European locale splits lines on `;`, a row with a `;` in any cell is quoted whole.
    """
    out.write(BOM.encode())
    text = io.StringIO()
    minimal, quoted = csv.writer(text), csv.writer(text, quoting=csv.QUOTE_ALL)

    def write(cells: list[str]) -> None:
        (quoted if any(";" in cell for cell in cells) else minimal).writerow(cells)

    write([safe_cell(str(cell)) for cell in header])
    for count, row in enumerate(rows, start=1):
        write([safe_cell("" if cell is None else str(cell)) for cell in row])
        if count % _ENCODE_EVERY == 0:
            out.write(text.getvalue().encode())
            text.seek(0)
            text.truncate()
    out.write(text.getvalue().encode())


INVALID_ROWS_HEADER = ("Row", "Value", "Reason")


def write_invalid_rows(out: BinaryIO, rows: Iterable[tuple[int, str, str]]) -> None:
    """`write_csv` of (row, value, reason) entries, the same bytes, at report scale: a re-upload of a
    million numbers reports a million rows, nearly all with one of a few reasons, so each
    reason is made safe once."""
    out.write(BOM.encode())
    text = io.StringIO()
    minimal, quoted = csv.writer(text), csv.writer(text, quoting=csv.QUOTE_ALL)
    minimal.writerow(INVALID_ROWS_HEADER)
    reasons: dict[str, str] = {}
    for count, (row, value, reason) in enumerate(rows, start=1):
        shown = reasons.get(reason)
        if shown is None:
            shown = reasons[reason] = safe_cell(reason)
        value = safe_cell(value)
        (quoted if ";" in value or ";" in shown else minimal).writerow((row, value, shown))
        if count % _ENCODE_EVERY == 0:
            out.write(text.getvalue().encode())
            text.seek(0)
            text.truncate()
    out.write(text.getvalue().encode())


def invalid_rows_csv(rows: Iterable[tuple[int, str, str]]) -> bytes:
    """The invalid entries of an upload as a CSV file: row number, value, reason."""
    return csv_bytes(INVALID_ROWS_HEADER, rows)

