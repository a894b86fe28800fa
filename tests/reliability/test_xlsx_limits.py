"""XLSX rows over Excel's 16,384 cells and cells over its 32,767 characters are refused while the
sheet is streamed, in flat memory (issue 16: one row of 25,000,000 `<c/>`, a 3.9 MB file, cost
1.8 GB before anything could look at it)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable

import pytest

from provisioning.files.reader import read_rows
from provisioning.files.sheet import FileError
from tests.reliability.conftest import ROMA, check_reply, snapshot
from tests.support.processes import ROOT
from tests.support.workbooks import minimal_xlsx as workbook

HEADER = b'<row r="1"><c r="A1" t="inlineStr"><is><t>Number</t></is></c></row>'


def inline(ref: str, text: str) -> bytes:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'.encode()


def error(data: bytes) -> str:
    with pytest.raises(FileError) as info:
        list(read_rows(data, "n.xlsx", max_bytes=20 << 20))
    return info.value.message


def test_a_row_of_more_than_16384_cells_is_refused_naming_the_row():
    wide = [HEADER, b'<row r="2">' + b"<c/>" * 16_384 + b"</row>", b'<row r="3">' + b"<c/>" * 16_385 + b"</row>"]
    message = error(workbook(wide))
    assert message.startswith("Row 3 has more than 16,384 cells") and "Excel's limit for one row" in message
    assert "Row 3 " in error(workbook([HEADER, b'<row r="3">' + inline("XFE3", "x") + b"</row>"]))  # past XFD


def test_a_cell_of_more_than_32767_characters_is_refused_naming_row_and_column():
    fits = "+" + "1" * 32_766
    assert [r.number for r in read_rows(workbook([HEADER, b'<row r="2">' + inline("A2", fits) + b"</row>"]))] == [fits]
    for sheet, strings in (([HEADER, b'<row r="7">' + inline("A7", "1" * 32_768) + b"</row>"], None),
                           ([HEADER, b'<row r="7"><c r="A7"><v>' + b"1" * 40_000 + b"</v></c></row>"], None),
                           ([HEADER, b'<row r="7"><c r="A7" t="s"><v>0</v></c></row>'],
                            "<si><r><t>" + "1" * 20_000 + "</t></r><r><t>" + "2" * 20_000 + "</t></r></si>")):
        message = error(workbook(sheet, strings))
        assert message.startswith("Row 7, column A: the cell holds more than 32,767 characters"), message


def test_a_huge_header_row_is_refused_before_it_fills_memory():
    cells = b"".join(inline(f"{col}1", "x" * 30_000) for col in ("A", "B", "C", "D", "E", "F", "G", "H", "I", "J"))
    assert "Row 1 holds more than 262,144 characters" in error(workbook([b'<row r="1">' + cells + b"</row>"]))


def test_the_refusal_reaches_the_operator_and_nothing_is_stored(chat):
    before = snapshot(chat.services.db)
    data = workbook([HEADER, b'<row r="2">' + inline("A2", "+390212345678") + b"</row>",
                     b'<row r="3">' + b"<c/>" * 20_000 + b"</row>"])
    reply = chat.say(f"import {ROMA}", files=(("wide.xlsx", data),))
    check_reply(reply)
    assert "Row 3 has more than 16,384 cells" in reply.markdown and "Nothing was stored" in reply.markdown
    assert snapshot(chat.services.db) == before


def twenty_five_million_empty_cells() -> Iterable[bytes]:
    """The issue's row: 25,000,000 `<c/>`, with random whitespace so that it compresses only
    about 12 times (a zip bomb check would refuse a plain repetition before parsing)."""
    blocks = [b"".join(b"<c/>" + (b" " if value >> bit & 1 else b"\n") for bit in range(8)) for value in range(256)]
    yield HEADER + b'<row r="2">'
    for _ in range(25_000_000 // 8 // 100_000):
        yield b"".join(blocks[value] for value in os.urandom(100_000))
    yield b"</row>"


CHILD = """
import json, sys
from provisioning.files.reader import read_rows
def peak():
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")) * 1024
data = open(sys.argv[1], "rb").read()
before = peak()
try:
    list(read_rows(data, "wide.xlsx"))
    outcome = "read"
except Exception as exc:
    outcome = f"{type(exc).__name__}: {exc}"
print(json.dumps({"outcome": outcome, "growth": peak() - before}))
"""


def test_a_row_of_25_million_empty_cells_is_refused_in_flat_memory(tmp_path):
    data = workbook(twenty_five_million_empty_cells())
    path = tmp_path / "wide.xlsx"
    path.write_bytes(data)
    result = json.loads(subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True,
                                       check=True, cwd=ROOT, timeout=600).stdout)
    assert result["outcome"].startswith("FileError: Row 2 has more than 16,384 cells"), result
    growth = result["growth"]
    assert growth < 2 * len(data), f"peak memory grew {growth:,} bytes for a {len(data):,}-byte file"
