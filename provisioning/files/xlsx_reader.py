"""XLSX attachments: refuse zip bombs, then stream the first visible sheet's cells as text.

An .xlsx file is a zip of XML parts. The zip directory is checked before any XML is parsed,
because a few compressed kilobytes can declare gigabytes. The sheet is then streamed with
ElementTree keeping one row in memory. (openpyxl's read-only mode keeps every parsed row
element, plus each row's attributes in files saved by LibreOffice: 916 MB for 1,000,000 rows.)
Cells come back as the spreadsheet shows them in General format, and a formula comes back as
its text ("=+39...") without being evaluated, so the validator can explain it.
"""
from __future__ import annotations

import io
import logging
import math
import posixpath
import zipfile
from collections.abc import Iterator
from xml.etree import ElementTree

from openpyxl.formula.translate import Translator
from openpyxl.utils import get_column_letter

from provisioning.files.sheet import ACCEPTED_FORMATS, FIX_HEADER, FileError

log = logging.getLogger(__name__)

EXCEL_MAX_ROW = 1_048_576
EXCEL_MAX_COLUMN = 16_384
BOMB_FACTOR = 20        # all parts together may expand to this many times the size limit
BOMB_RATIO = 100        # one part may expand at most this many times (real sheets: 10-20)
BOMB_RATIO_FLOOR = 1 << 20  # parts smaller than 1 MiB are harmless whatever their ratio
STRINGS_FACTOR = 5      # the shared strings (held in memory) may be this many times the size limit
MAX_PARTS = 10_000      # real workbooks have tens of parts
_SMALL_PART_LIMIT = 32 << 20  # workbook.xml and .rels files, parsed whole
_FLOAT_INTEGRAL_LIMIT = 1e15  # Excel keeps 15 significant digits; beyond, General shows E+ notation
_SAVE_AGAIN = "open it in your spreadsheet program and save it again as .xlsx or CSV UTF-8"
_DAMAGED = f"This .xlsx file can't be opened (damaged, or not an Excel workbook): {_SAVE_AGAIN}."


class XlsxSheet:
    """The rows of the first visible worksheet of an .xlsx attachment, as text cells."""

    def __init__(self, data: bytes, max_bytes: int):
        self._archive = _open_archive(data, max_bytes)
        try:
            self.title, path, strings = _first_sheet(self._archive, max_bytes)
            self._strings = _shared_strings(self._archive, strings) if strings else []
        except FileError:
            raise
        except Exception as exc:  # zipfile and ElementTree raise many types on damaged parts
            log.info("unreadable xlsx attachment: %r", exc)
            raise FileError(_DAMAGED) from exc
        self._width = EXCEL_MAX_COLUMN
        self._formulas: dict[str, tuple[str, str]] = {}  # shared formula id -> (text, origin cell)
        self._rows = self._checked(self._stream(path))

    def header(self) -> tuple[int, list[str]]:
        """The first row with a non-blank cell."""
        for line, cells in self._rows:
            if any(cells):
                return line, cells
        raise FileError(f"The first sheet (`{self.title}`) is empty: {FIX_HEADER}.")

    def rows(self, width: int) -> Iterator[tuple[int, list[str]]]:
        """The rows after the header with their first `width` cells (shorter when they end early)."""
        self._width = width
        return self._rows

    def _checked(self, rows: Iterator[tuple[int, list[str]]]) -> Iterator[tuple[int, list[str]]]:
        """The rows, with damage found while parsing turned into FileError."""
        line = 0
        try:
            for line, cells in rows:
                yield line, cells
        except FileError:
            raise
        except Exception as exc:
            log.info("damaged xlsx attachment after row %d: %r", line, exc)
            raise FileError(f"The .xlsx file is damaged (the sheet can't be read past row {line}): "
                            f"{_SAVE_AGAIN}.") from exc

    def _stream(self, path: str) -> Iterator[tuple[int, list[str]]]:
        """Each stored row of the sheet; parsed rows are dropped from the tree as they go."""
        with self._archive.open(path) as source:
            events = ElementTree.iterparse(source, events=("start", "end"))
            _, root = next(events)
            ns = root.tag[:root.tag.index("}") + 1] if root.tag.startswith("{") else ""
            row_tag, sheet_data_tag = ns + "row", ns + "sheetData"
            tags = (ns + "c", ns + "v", ns + "f", ns + "is")
            container, line = root, 0
            for event, element in events:
                if event == "start":
                    if element.tag == sheet_data_tag:
                        container = element
                elif element.tag == row_tag:
                    line = _index(element.get("r"), line + 1)
                    if line > EXCEL_MAX_ROW:
                        raise FileError(f"The sheet has rows past Excel's last row ({EXCEL_MAX_ROW:,}): {_SAVE_AGAIN}.")
                    cells = self._cells(element, line, tags)
                    container.clear()
                    yield line, cells
                elif element.tag == sheet_data_tag:
                    return

    def _cells(self, row: ElementTree.Element, line: int, tags: tuple[str, ...]) -> list[str]:
        cell_tag, value_tag, formula_tag, inline_tag = tags
        cells: list[str] = []
        column = 0
        for cell in row:
            if cell.tag != cell_tag:
                continue
            ref = cell.get("r")
            column = _column(ref) if ref else column + 1
            if column > self._width:
                continue
            formula = cell.find(formula_tag)
            if formula is not None:
                text = self._formula(formula, ref or f"{get_column_letter(column)}{line}")
            else:
                text = self._value(cell, value_tag, inline_tag)
            if text:
                cells.extend([""] * (column - len(cells)))
                cells[column - 1] = text
        return cells

    def _value(self, cell: ElementTree.Element, value_tag: str, inline_tag: str) -> str:
        kind = cell.get("t", "n")
        if kind == "inlineStr":
            inline = cell.find(inline_tag)
            return "" if inline is None else _rich_text(inline).strip()
        raw = cell.findtext(value_tag)
        if raw is None:
            return ""
        if kind == "s":
            index = int(raw)
            if index < 0:
                raise ValueError(f"shared string {raw!r}")
            return self._strings[index].strip()
        if kind == "n":
            return number_text(raw)
        if kind == "b":
            return "TRUE" if raw.strip() == "1" else "FALSE"
        return raw.strip()  # "str" (a formula's cached text), "e" (#N/A...), "d" (ISO date)

    def _formula(self, formula: ElementTree.Element, ref: str) -> str:
        """The formula's text; a shared formula's copy is translated from its first cell."""
        text = formula.text or ""
        if formula.get("t") == "shared":
            group = formula.get("si", "")
            if text:
                self._formulas[group] = (text, ref)
            elif group in self._formulas:
                text, origin = self._formulas[group]
                try:
                    text = Translator(f"={text}", origin=origin).translate_formula(ref)[1:]
                except Exception:  # an unusual formula: its first cell's text is close enough
                    pass
        return f"={text}".strip()


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


def _open_archive(data: bytes, max_bytes: int) -> zipfile.ZipFile:
    """The zip, once it looks like a workbook that expands to a sane size."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
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
    return archive


def _first_sheet(archive: zipfile.ZipFile, max_bytes: int) -> tuple[str, str, str | None]:
    """Title and part of the first visible worksheet (the tab the operator sees first), and
    the part holding the shared strings, found through the package relationships."""
    workbook_part = next((path for kind, path in _relationships(archive, "").values()
                          if kind.endswith("/officeDocument")), "xl/workbook.xml")
    workbook = _small_xml(archive, workbook_part)
    if workbook is None:
        raise FileError(_DAMAGED)
    related = _relationships(archive, workbook_part)
    sheets = []
    for sheet in workbook.iter():
        if sheet.tag.rpartition("}")[2] == "sheet":
            rel_id = next((value for key, value in sheet.attrib.items() if key.endswith("}id")), "")
            kind, path = related.get(rel_id, ("", ""))
            if kind.endswith("/worksheet"):
                sheets.append((sheet.get("state", "visible") != "visible", sheet.get("name", ""), path))
    if not sheets:
        raise FileError(f"The workbook has no worksheet: {FIX_HEADER}.")
    _, title, path = min(sheets, key=lambda sheet: sheet[0])  # first visible, else first
    strings = next((path for kind, path in related.values() if kind.endswith("/sharedStrings")), None)
    if strings and archive.getinfo(strings).file_size > STRINGS_FACTOR * max_bytes:
        raise FileError(f"This .xlsx file holds too much text to read: {_SAVE_AGAIN}, or split it.")
    return title, path, strings


def _relationships(archive: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """A part's relationships: id -> (type, path of the target part in the zip)."""
    folder, _, name = part.rpartition("/")
    rels = _small_xml(archive, posixpath.join(folder, "_rels", f"{name}.rels"))
    found = {}
    for rel in [] if rels is None else rels:
        target = rel.get("Target", "")
        if rel.get("TargetMode") != "External":
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            found[rel.get("Id", "")] = (rel.get("Type", ""), path)
    return found


def _small_xml(archive: zipfile.ZipFile, name: str) -> ElementTree.Element | None:
    """A small part parsed whole; None when the zip has no such part."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > _SMALL_PART_LIMIT:
        raise FileError(_DAMAGED)
    return ElementTree.fromstring(archive.read(info))


def _shared_strings(archive: zipfile.ZipFile, name: str) -> list[str]:
    """The workbook's string table, streamed (it can hold a million strings)."""
    strings = []
    with archive.open(name) as source:
        events = ElementTree.iterparse(source, events=("start", "end"))
        _, root = next(events)
        item_tag = root.tag[:root.tag.index("}") + 1] + "si" if root.tag.startswith("{") else "si"
        for event, element in events:
            if event == "end" and element.tag == item_tag:
                strings.append(_rich_text(element))
                root.clear()
    return strings


def _rich_text(element: ElementTree.Element) -> str:
    """The text of a string item: its <t>, or its runs' <t>s (phonetic guides left out)."""
    parts = []
    for child in element:
        name = child.tag.rpartition("}")[2]
        if name == "t":
            parts.append(child.text or "")
        elif name == "r":
            parts.extend(run.text or "" for run in child if run.tag.rpartition("}")[2] == "t")
    return "".join(parts)


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
    for char in ref:
        if "A" <= char <= "Z":
            column = column * 26 + ord(char) - 64
        else:
            break
    if column < 1:
        raise ValueError(f"cell reference {ref!r}")
    return column
