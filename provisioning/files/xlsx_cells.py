"""Streaming an .xlsx worksheet and its shared strings with expat callbacks, in flat memory.

ElementTree's iterparse builds each element whole before handing it over, so one row of
25,000,000 empty `<c/>` cells (a 3.9 MB file) cost 1.8 GB before it could be looked at. Here
the parser calls `start`/`data`/`end` as it reads, only the current row's cells (at most
Excel's 16,384) and the current cell's text (at most Excel's 32,767 characters) are kept,
and a row or cell over those limits is refused the moment it passes them.

Cells come back as the spreadsheet shows them in General format, and a formula comes back as
its text ("=+39...") without being evaluated, so the validator can explain it.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import IO
from xml.etree import ElementTree

from openpyxl.formula.translate import Translator
from openpyxl.utils import get_column_letter

from provisioning.files.sheet import FileError

EXCEL_MAX_ROW = 1_048_576
EXCEL_MAX_COLUMN = 16_384
EXCEL_MAX_CELL_CHARS = 32_767
MAX_ROW_CHARS = 256 * 1024  # text kept of one row: a header row, or the Number and Range End cells
CHUNK_BYTES = 64 * 1024
_FLOAT_INTEGRAL_LIMIT = 1e15  # Excel keeps 15 significant digits; beyond, General shows E+ notation
_SAVE_AGAIN = "open it in your spreadsheet program and save it again as .xlsx or CSV UTF-8"


class TooLong:
    """A shared string over Excel's cell limit: kept as this marker, refused when a cell uses it."""


TOO_LONG = TooLong()


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _cell_too_long(line: int, column: int) -> FileError:
    return FileError(f"Row {line:,}, column {get_column_letter(min(column, EXCEL_MAX_COLUMN))}: the cell holds more "
                     f"than {EXCEL_MAX_CELL_CHARS:,} characters, Excel's limit for one cell, so the file isn't read: "
                     f"{_SAVE_AGAIN}.")


class _Text:
    """Text of one element gathered from expat's pieces, refused past `limit` characters."""

    __slots__ = ("parts", "size", "limit", "on_overflow")

    def __init__(self, limit: int, on_overflow: Callable[[], None]) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.limit = limit
        self.on_overflow = on_overflow

    def add(self, text: str) -> None:
        self.size += len(text)
        if self.size > self.limit:
            self.on_overflow()
            return
        self.parts.append(text)

    def value(self) -> str:
        return "".join(self.parts)


def stream(source: IO[bytes], target) -> Iterator:
    """Feed `source` to expat chunk by chunk, yielding what `target` completed after each chunk.

    Items completed before a parse error (or a FileError from the target) are yielded first.
    """
    parser = ElementTree.XMLParser(target=target)
    while not target.done:
        chunk = source.read(CHUNK_BYTES)
        failure = None
        try:
            parser.feed(chunk) if chunk else parser.close()
        except Exception as exc:  # expat's ParseError, or the target's FileError
            failure = exc
        yield from target.drain()
        if failure is not None:
            raise failure
        if not chunk:
            return


class SharedStrings:
    """Target collecting a workbook's string table: each `<si>`'s `<t>` texts (phonetic guides left out)."""

    def __init__(self) -> None:
        self.strings: list[str | TooLong] = []
        self.done = False
        self._text: _Text | None = None
        self._item: list[str] = []
        self._size = 0
        self._long = False
        self._phonetic = 0

    def drain(self) -> Iterator:
        return iter(())

    def start(self, tag: str, attrib: dict) -> None:
        name = _local(tag)
        if name == "si":
            self._item, self._size, self._long, self._phonetic = [], 0, False, 0
        elif name == "rPh":
            self._phonetic += 1
        elif name == "t" and not self._phonetic:
            self._text = _Text(EXCEL_MAX_CELL_CHARS, self._overflow)

    def _overflow(self) -> None:
        self._long = True

    def data(self, text: str) -> None:
        if self._text is not None and not self._long:
            self._text.add(text)

    def end(self, tag: str) -> None:
        name = _local(tag)
        if name == "t" and self._text is not None:
            if not self._long:
                self._item.append(self._text.value())
                self._size += self._text.size
                self._long = self._size > EXCEL_MAX_CELL_CHARS
            self._text = None
        elif name == "rPh":
            self._phonetic -= 1
        elif name == "si":
            self.strings.append(TOO_LONG if self._long else "".join(self._item))

    def close(self) -> None:
        self.done = True


class SheetRows:
    """Target turning a worksheet's `<sheetData>` into (line, cells) rows, cells as text.

    `width` is read for each cell: cells past it are skipped without keeping their text.
    """

    def __init__(self, strings: list[str | TooLong], width: Callable[[], int]) -> None:
        self.strings = strings
        self.width = width
        self.done = False
        self.line = 0
        self._ready: list[tuple[int, list[str]]] = []
        self._cells: list[str] | None = None
        self._count = 0
        self._column = 0
        self._row_chars = 0
        self._cell: tuple[str | None, int, str] | None = None  # (reference, column, type) of a cell read
        self._value: _Text | None = None
        self._formula: _Text | None = None
        self._formula_attrs: dict = {}
        self._inline: list[_Text] | None = None
        self._text: _Text | None = None
        self._phonetic = 0
        self._formulas: dict[str, tuple[str, str]] = {}  # shared formula id -> (text, origin cell)

    def drain(self) -> Iterator[tuple[int, list[str]]]:
        ready, self._ready = self._ready, []
        return iter(ready)

    def start(self, tag: str, attrib: dict) -> None:
        name = _local(tag)
        if name == "row":
            self.line = _index(attrib.get("r"), self.line + 1)
            if self.line > EXCEL_MAX_ROW:
                raise FileError(f"The sheet has rows past Excel's last row ({EXCEL_MAX_ROW:,}): {_SAVE_AGAIN}.")
            self._cells, self._count, self._column, self._row_chars = [], 0, 0, 0
        elif name == "c" and self._cells is not None:
            self._start_cell(attrib)
        elif self._cell is not None:
            if name == "v":
                self._value = self._text = _Text(EXCEL_MAX_CELL_CHARS, self._refuse)
            elif name == "f":
                self._formula = self._text = _Text(EXCEL_MAX_CELL_CHARS, self._refuse)
                self._formula_attrs = attrib
            elif name == "is":
                self._inline = []
            elif name == "rPh":
                self._phonetic += 1
            elif name == "t" and self._inline is not None and not self._phonetic:
                self._text = _Text(EXCEL_MAX_CELL_CHARS - sum(t.size for t in self._inline), self._refuse)
                self._inline.append(self._text)

    def _start_cell(self, attrib: dict) -> None:
        self._count += 1
        ref = attrib.get("r")
        self._column = _column(ref) if ref else self._column + 1
        if self._count > EXCEL_MAX_COLUMN or self._column > EXCEL_MAX_COLUMN:
            raise FileError(f"Row {self.line:,} has more than {EXCEL_MAX_COLUMN:,} cells (or one past column XFD), "
                            f"Excel's limit for one row, so the file isn't read: {_SAVE_AGAIN}.")
        wanted = self._column <= self.width()
        self._cell = (ref, self._column, attrib.get("t", "n")) if wanted else None
        self._value = self._formula = self._text = self._inline = None
        self._formula_attrs, self._phonetic = {}, 0

    def _refuse(self) -> None:
        raise _cell_too_long(self.line, self._column)

    def data(self, text: str) -> None:
        if self._text is not None:
            self._text.add(text)

    def end(self, tag: str) -> None:
        name = _local(tag)
        if name in ("v", "f", "t"):
            self._text = None
        elif name == "rPh" and self._phonetic:
            self._phonetic -= 1
        elif name == "c" and self._cell is not None:
            self._end_cell()
        elif name == "row" and self._cells is not None:
            self._ready.append((self.line, self._cells))
            self._cells = None
        elif name == "sheetData":
            self.done = True

    def _end_cell(self) -> None:
        ref, column, kind = self._cell
        self._cell = None
        if self._formula is not None:
            text = self._formula_text(self._formula.value(), ref or f"{get_column_letter(column)}{self.line}")
        else:
            text = self._cell_value(kind, column)
        if text:
            self._row_chars += len(text)
            if self._row_chars > MAX_ROW_CHARS:
                raise FileError(f"Row {self.line:,} holds more than {MAX_ROW_CHARS:,} characters of text, far more "
                                f"than a row of numbers, so the file isn't read: {_SAVE_AGAIN}.")
            cells = self._cells
            cells.extend([""] * (column - len(cells)))
            cells[column - 1] = text

    def _cell_value(self, kind: str, column: int) -> str:
        if kind == "inlineStr":
            return "" if self._inline is None else "".join(t.value() for t in self._inline).strip()
        if self._value is None:
            return ""
        raw = self._value.value()
        if kind == "s":
            index = int(raw)
            if index < 0:
                raise ValueError(f"shared string {raw!r}")
            text = self.strings[index]
            if text is TOO_LONG:
                raise _cell_too_long(self.line, column)
            return text.strip()
        if kind == "n":
            return number_text(raw)
        if kind == "b":
            return "TRUE" if raw.strip() == "1" else "FALSE"
        return raw.strip()  # "str" (a formula's cached text), "e" (#N/A...), "d" (ISO date)

    def _formula_text(self, text: str, ref: str) -> str:
        """The formula's text; a shared formula's copy is translated from its first cell."""
        if self._formula_attrs.get("t") == "shared":
            group = self._formula_attrs.get("si", "")
            if text:
                self._formulas[group] = (text, ref)
            elif group in self._formulas:
                text, origin = self._formulas[group]
                try:
                    text = Translator(f"={text}", origin=origin).translate_formula(ref)[1:]
                except Exception:  # an unusual formula: its first cell's text is close enough
                    pass
        return f"={text}".strip()

    def close(self) -> None:
        self.done = True


def number_text(raw: str) -> str:
    """A stored number as General format shows it: 12127881500, 1.21278815E+19, 0.5."""
    raw = raw.strip()
    try:
        if "." in raw or "e" in raw or "E" in raw:
            return float_text(float(raw))
        return str(int(raw))
    except ValueError:
        return raw


def float_text(value: float) -> str:
    """Whole numbers of up to 15 digits in full, anything else with 15 significant digits."""
    if math.isfinite(value) and value.is_integer() and abs(value) < _FLOAT_INTEGRAL_LIMIT:
        return str(int(value))
    return f"{value:.15G}"


def _index(text: str | None, default: int) -> int:
    """A row number attribute (openpyxl writes some as "2.0")."""
    if text is None:
        return default
    number = float(text) if "." in text else int(text)
    if number != int(number) or number < 1:
        raise ValueError(f"row number {text!r}")
    return int(number)


def _column(ref: str) -> int:
    """The column number of a cell reference such as "AB12"."""
    column = 0
    for char in ref[:8]:  # Excel's last column is XFD; a longer run of letters is refused anyway
        if "A" <= char <= "Z":
            column = column * 26 + ord(char) - 64
        else:
            break
    if column < 1:
        raise ValueError(f"cell reference {ref!r}")
    return column
