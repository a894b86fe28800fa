"""Properties of provisioning.spreadsheets: attachments are untrusted, exports are safe."""
from __future__ import annotations

import codecs
import io
import zipfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provisioning.files.exports import csv_bytes, safe_cell
from provisioning.files.reader import read_rows
from provisioning.files.sheet import FileError
from provisioning.files.templates import template_xlsx
from tests.unit.test_spreadsheets import handmade_workbook

HEADER = ("Number", "Range End")

# Beginnings that send arbitrary bytes down every reading path: BOMs, a valid header, a zip.
PREFIXES = st.sampled_from([
    b"", codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE,
    b"Number,Range End\n", b"Number;Range End\r\n+1;", "Number\n".encode("utf-16-le"), b"PK\x03\x04",
])
TEMPLATE = template_xlsx()


def parts_of(workbook: bytes) -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(workbook))
    return {name: archive.read(name) for name in archive.namelist()}


# openpyxl's layout (inline strings) and a hand-made one (shared strings, shared formulas).
WORKBOOK_PARTS = [(name, parts) for parts in (parts_of(TEMPLATE), parts_of(handmade_workbook(
    '<row><c t="s"><v>0</v></c><c t="s"><v>1</v></c></row><row><c t="s"><v>2</v></c><c><v>1.5E+3</v></c></row>'
    '<row r="5"><c r="A5"><f t="shared" ref="A5:A6" si="0">B5+1</f></c></row><row r="6"><c r="A6"><f t="shared" si="0"/></c></row>')))
    for name in sorted(parts)]


def read_all(data: bytes, filename: str) -> None:
    try:
        for row in read_rows(data, filename, max_rows=50):
            assert row.row >= 1 and isinstance(row.number, str) and isinstance(row.range_end, str)
    except FileError as exc:
        assert str(exc)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(prefix=PREFIXES, body=st.binary(max_size=600), filename=st.sampled_from(["n.csv", "n.xlsx", ""]))
def test_arbitrary_bytes_give_rows_or_file_error(prefix, body, filename):
    read_all(prefix + body, filename)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(TEMPLATE) - 1), st.integers(0, 255)), min_size=1, max_size=8))
def test_damaged_workbooks_give_rows_or_file_error(changes):
    data = bytearray(TEMPLATE)
    for position, value in changes:
        data[position] = value
    read_all(bytes(data), "n.xlsx")


@settings(max_examples=80, deadline=None)
@given(workbook=st.sampled_from(WORKBOOK_PARTS), changes=st.lists(
    st.tuples(st.floats(0, 1, exclude_max=True), st.binary(max_size=12)), min_size=1, max_size=4))
def test_workbooks_with_damaged_xml_give_rows_or_file_error(workbook, changes):
    part, parts = workbook
    xml = parts[part]
    for where, replacement in changes:
        at = int(where * len(xml))
        xml = xml[:at] + replacement + xml[at + len(replacement):]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, xml if name == part else content)
    read_all(out.getvalue(), "n.xlsx")


CELL = st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=20)


@settings(max_examples=100)
@given(st.lists(st.tuples(CELL, CELL), max_size=30))
def test_csv_written_by_csv_bytes_reads_back(entries):
    expected = []
    for line, (number, range_end) in enumerate(entries, start=2):
        shown = (safe_cell(number).strip(), safe_cell(range_end).strip())
        if any(shown):
            expected.append((line, *shown))
    found = [(row.row, row.number, row.range_end) for row in read_rows(csv_bytes(HEADER, entries), "n.csv")]
    assert found == expected


@given(st.text())
def test_safe_cell_output_never_starts_a_formula(value):
    safe = safe_cell(value)
    assert not safe.startswith(("=", "@", "\t", "\r"))
    assert safe in (value, "'" + value)
    if value[:1] in ("+", "-") and safe == value:
        assert value[1:].isdigit()
