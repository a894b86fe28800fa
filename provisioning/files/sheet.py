"""What every attachment format shares: the header it must have, what a row is, and FileError.

`csv_reader` and `xlsx_reader` each turn bytes into a `Sheet`; `reader.read_rows` picks one
and applies the header and row rules on top.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from provisioning.errors import UserError
from provisioning.numbers.validation import RawEntry as Row  # a data row is an entry as the operator wrote it

__all__ = ["ACCEPTED_FORMATS", "BOM", "EXPECTED_HEADER", "FIX_HEADER", "FileError", "Row", "Sheet"]

EXPECTED_HEADER = "Number,Range End"
ACCEPTED_FORMATS = "CSV (UTF-8 or UTF-16, `,` or `;` separated) or Excel .xlsx"
FIX_HEADER = f"the first row must be the header `{EXPECTED_HEADER}` (send `template` for a file to fill in)"
BOM = "\ufeff"


class FileError(UserError):
    """An attachment that cannot be read; the message names the problem and the fix."""


class Sheet(Protocol):
    """What `csv_reader.CsvSheet` and `xlsx_reader.XlsxSheet` provide to `read_rows`."""

    def header(self) -> tuple[int, list[str]]:
        """The first non-blank row and its line; FileError when there is none."""

    def rows(self, width: int) -> Iterator[tuple[int, Sequence[str]]]:
        """The rows after the header with their lines; cells past `width` may be left out,
        and a row may have fewer cells than that."""


def check_size(size: int, max_bytes: int) -> None:
    """FileError when an attachment is over the size limit."""
    if size > max_bytes:
        shown, limit = _megabytes(size), _megabytes(max_bytes)
        if shown == limit:
            shown, limit = f"{size:,} bytes", f"{max_bytes:,} bytes"
        raise FileError(f"The file is {shown}, over the {limit} limit: split it into several files.")


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f}".removesuffix(".0") + " MB"
