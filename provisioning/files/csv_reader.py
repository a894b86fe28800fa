"""CSV attachments: find the text encoding and the delimiter, then stream the records.

Spreadsheet programs save "CSV" in many shapes: UTF-8 with or without BOM, UTF-16 (Excel's
"Unicode Text"), Windows-1252 from older Excel, `;` where the decimal separator is a comma
(Italy, most of Europe), tabs. Everything is decided from the bytes before the first row is
returned, so an undecodable file fails whole instead of half-way through an upload.
"""
from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from collections.abc import Iterator

from provisioning.files.sheet import ACCEPTED_FORMATS, FIX_HEADER, FileError
from provisioning.files.xlsx_cells import EXCEL_MAX_COLUMN

_BOMS = (  # UTF-32 first: its little-endian BOM starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_DELIMITERS = (",", ";", "\t")  # in order of preference when a header line is ambiguous
_SAMPLE = 8192
_CHUNK = 1 << 20
_TEXT_CONTROLS = {9, 10, 12, 13, 26}  # tab, newlines, form feed, DOS end-of-file: fine in text
_BINARY_SHARE = 0.05  # more control bytes than this share of the sample (and than
_BINARY_MIN = 4       # this count, so a stray NUL gets its own message): not a text file
_BLANK_LINE = " \t\r\n,;\"'\ufeff"
_SAVE_AS = "save it from your spreadsheet program as CSV UTF-8"
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


class CsvSheet:
    """The records of a CSV attachment, numbered as a spreadsheet program would show them."""

    def __init__(self, data: bytes):
        encoding, has_nul = _encoding(data)
        lines = iter(io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline=""))
        leading, first = [], ""
        for line in lines:
            leading.append(line)
            if not _is_blank(line):
                first = line
                break
        self._delimiter = _delimiter(first[:_SAMPLE])  # the start of the header line tells
        if has_nul:
            _raise_nul_row(data, encoding, self._delimiter)
        self._records = self._numbered(itertools.chain(leading, lines))

    def header(self) -> tuple[int, list[str]]:
        """The first record with a non-blank cell."""
        for line, cells in self._records:
            if any(cell.strip() for cell in cells):
                return line, cells
        raise FileError(f"The file has no rows: {FIX_HEADER}.")

    def rows(self, width: int) -> Iterator[tuple[int, list[str]]]:
        """The records after the header (all their cells: CSV has no cheaper way to skip them)."""
        return self._records

    def _numbered(self, lines: Iterator[str]) -> Iterator[tuple[int, list[str]]]:
        reader = csv.reader(lines, delimiter=self._delimiter, quotechar='"', doublequote=True, strict=False)
        line = 0
        try:
            for cells in reader:
                line += 1
                if len(cells) > EXCEL_MAX_COLUMN:  # 10 MB of commas would cost gigabytes further on
                    raise FileError(f"Row {line:,} has more than {EXCEL_MAX_COLUMN:,} cells, more than a spreadsheet "
                                    f"row can hold, so the file isn't read: {_SAVE_AS}.")
                yield line, cells
        except csv.Error as exc:  # in practice a cell over csv.field_size_limit()
            raise FileError(f"Row {line + 1} can't be read as CSV ({exc}): {_SAVE_AS}.") from exc


def _encoding(data: bytes) -> tuple[str, bool]:
    """The codec for `data` (from its BOM, its NUL pattern, else UTF-8 before Windows-1252)
    and whether the text has a NUL character."""
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), None)
    sample = data[:_SAMPLE]
    encoding = encoding or _bomless_utf16(sample)
    if encoding is None:
        controls = sum(1 for byte in sample if byte < 32 and byte not in _TEXT_CONTROLS)
        if controls > max(_BINARY_MIN, _BINARY_SHARE * len(sample)):
            raise FileError(f"The file is neither text nor a workbook: send a {ACCEPTED_FORMATS} file.")
        has_nul = _scan(data, "utf-8")
        if has_nul is not None:
            return "utf-8", has_nul
        _refuse_mixed(data)
        encoding = "cp1252"
    return encoding, bool(_scan(data, encoding))


def _refuse_mixed(data: bytes) -> None:
    """FileError for a file that is UTF-8 in places and not in others (rows pasted together from
    several sources): read as Windows-1252, its UTF-8 characters would turn into wrong ones."""
    if _UTF8_MULTIBYTE.search(data) is None:
        return
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = 1 + (data.count(b"\n", 0, exc.start) or data.count(b"\r", 0, exc.start))
        raise FileError(f"The file mixes text encodings: line {line} isn't UTF-8 while other lines are: "
                        f"{_SAVE_AS}.") from None


def _bomless_utf16(sample: bytes) -> str | None:
    """UTF-16 without a BOM, recognised by the NUL half of each ASCII character."""
    pairs = len(sample) // 2
    if pairs < 2:
        return None
    even_nuls, odd_nuls = sample[0:2 * pairs:2].count(0), sample[1:2 * pairs:2].count(0)
    if odd_nuls > 0.3 * pairs and even_nuls < 0.05 * pairs:
        return "utf-16-le"
    if even_nuls > 0.3 * pairs and odd_nuls < 0.05 * pairs:
        return "utf-16-be"
    return None


def _scan(data: bytes, encoding: str) -> bool | None:
    """Whether the text has a NUL character; None when it isn't UTF-8, FileError for other codecs.

    Decodes in chunks and keeps nothing, so a 20 MB file costs no second copy in memory.
    """
    decoder = codecs.getincrementaldecoder(encoding)()
    has_nul = False
    view = memoryview(data)
    try:
        for start in range(0, len(data), _CHUNK):
            has_nul = "\x00" in decoder.decode(view[start:start + _CHUNK]) or has_nul
        has_nul = "\x00" in decoder.decode(b"", final=True) or has_nul
    except UnicodeDecodeError as exc:
        if encoding == "utf-8":
            return None
        if encoding == "cp1252":
            raise FileError(f"The file's text encoding isn't UTF-8, UTF-16 or Windows-1252: {_SAVE_AS}.") from exc
        raise FileError(f"The file is damaged (not valid {encoding.upper().replace('-SIG', '')} text "
                        f"at byte {exc.start}): {_SAVE_AS}.") from exc
    return has_nul


def _is_blank(line: str) -> bool:
    return not line.strip(_BLANK_LINE)


def _delimiter(line: str) -> str:
    """The delimiter that splits the header line into the most cells (`,` on a tie)."""
    best, most = ",", 0
    for delimiter in _DELIMITERS:
        try:
            cells = next(csv.reader([line], delimiter=delimiter, strict=False), [])
        except csv.Error:
            continue
        if len(cells) > most:
            best, most = delimiter, len(cells)
    return best


def _raise_nul_row(data: bytes, encoding: str, delimiter: str) -> None:
    """FileError naming the first row with a NUL character (only called when there is one)."""
    text = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    reader = csv.reader(text, delimiter=delimiter, strict=False)
    line = 0
    try:
        for line, cells in enumerate(reader, start=1):
            if any("\x00" in cell for cell in cells):
                break
    except csv.Error:
        line += 1
    raise FileError(f"Row {line} contains a NUL character, so the file is damaged or is not a text CSV: "
                    f"{_SAVE_AS}.")
