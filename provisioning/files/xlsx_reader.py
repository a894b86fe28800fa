"""XLSX attachments: refuse zip bombs, then stream the first visible sheet's cells as text.

An .xlsx file is a zip of XML parts. The zip directory is checked before any XML is parsed,
because a few compressed kilobytes can declare gigabytes. The sheet and its shared strings are
then streamed by `xlsx_cells`, in flat memory whatever the file holds. (openpyxl's read-only
mode keeps every parsed row element, plus each row's attributes in files saved by LibreOffice:
916 MB for 1,000,000 rows.)
"""
from __future__ import annotations

import io
import logging
import posixpath
import zipfile
from collections.abc import Iterator
from xml.etree import ElementTree

from provisioning.files.sheet import ACCEPTED_FORMATS, FIX_HEADER, FileError
from provisioning.files.xlsx_cells import EXCEL_MAX_COLUMN, SharedStrings, SheetRows, TooLong, stream
from provisioning.text import literal

log = logging.getLogger(__name__)

BOMB_FACTOR = 20        # all parts together may expand to this many times the size limit
BOMB_RATIO = 100        # one part may expand at most this many times (real sheets: 10-20)
BOMB_RATIO_FLOOR = 1 << 20  # parts smaller than 1 MiB are harmless whatever their ratio
STRINGS_FACTOR = 5      # the shared strings (held in memory) may be this many times the size limit
MAX_PARTS = 10_000      # real workbooks have tens of parts
_SMALL_PART_LIMIT = 32 << 20  # workbook.xml and .rels files, parsed whole
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
        self._target = SheetRows(self._strings, lambda: self._width)
        self._rows = self._checked(self._stream(path))

    def header(self) -> tuple[int, list[str]]:
        """The first row with a non-blank cell."""
        for line, cells in self._rows:
            if any(cells):
                return line, cells
        raise FileError(f"The first sheet ({literal(self.title, 80)}) is empty: {FIX_HEADER}.")

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
        """Each stored row of the sheet, read in flat memory (`xlsx_cells`)."""
        with self._archive.open(path) as source:
            yield from stream(source, self._target)


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
            raise FileError(f"This .xlsx file is compressed suspiciously well ({literal(part.filename, 80)} expands "
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


def _shared_strings(archive: zipfile.ZipFile, name: str) -> list[str | TooLong]:
    """The workbook's string table, streamed (it can hold a million strings)."""
    target = SharedStrings()
    with archive.open(name) as source:
        for _ in stream(source, target):
            pass
    return target.strings
