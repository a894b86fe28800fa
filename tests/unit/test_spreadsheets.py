"""Reading CSV/XLSX attachments and writing CSV/XLSX files (provisioning.spreadsheets)."""
from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.formula import ArrayFormula

from provisioning.errors import UserError
from provisioning.files.exports import csv_bytes, invalid_rows_csv, safe_cell
from provisioning.files.reader import columns_used, read_rows
from provisioning.files.sheet import FileError, Row
from provisioning.files.templates import TEMPLATE_EXAMPLES, template_csv, template_xlsx
from provisioning.files.xlsx_cells import number_text
from provisioning.files.xlsx_reader import BOMB_RATIO_FLOOR
from provisioning.settings import Settings

BOM = b"\xef\xbb\xbf"


def rows(data: bytes, filename: str = "", **limits) -> list[tuple[int, str, str]]:
    return [(row.row, row.number, row.range_end) for row in read_rows(data, filename, **limits)]


def error(data: bytes, filename: str = "", **limits) -> str:
    with pytest.raises(FileError) as caught:
        list(read_rows(data, filename, **limits))
    return str(caught.value)


def xlsx(*sheet_rows: list[object], hidden_first: list[list[object]] | None = None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    if hidden_first is not None:
        for values in hidden_first:
            sheet.append(values)
        sheet.sheet_state = "hidden"
        sheet = workbook.create_sheet("Visible")
    for values in sheet_rows:
        sheet.append(values)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def zip_of(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return out.getvalue()


def patch_sheet(data: bytes, old: bytes, new: bytes) -> bytes:
    """The workbook with bytes of its first sheet's XML replaced (to forge what openpyxl won't write)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    parts = {name: source.read(name) for name in source.namelist()}
    assert old in parts["xl/worksheets/sheet1.xml"]
    parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"].replace(old, new)
    return zip_of(parts)


# --- CSV ---------------------------------------------------------------------------------

SIMPLE = "Number,Range End\r\n+12127881500,\r\n+12127881600,+12127881699\r\n"
SIMPLE_ROWS = [(2, "+12127881500", ""), (3, "+12127881600", "+12127881699")]


@pytest.mark.parametrize("data", [
    SIMPLE.encode(),
    BOM + SIMPLE.encode(),
    SIMPLE.encode("utf-16"),           # BOM, native order
    SIMPLE.encode("utf-16-le"),        # no BOM: found from the NUL bytes
    SIMPLE.encode("utf-16-be"),
    b"\xff\xfe" + SIMPLE.encode("utf-16-le"),
    b"\xfe\xff" + SIMPLE.encode("utf-16-be"),
    SIMPLE.encode("utf-32"),
    SIMPLE.replace(",", ";").encode(),
    SIMPLE.replace(",", "\t").encode(),
    SIMPLE.replace("\r\n", "\n").encode(),
    SIMPLE.replace("\r\n", "\r").encode(),
    b'"Number","Range End"\n"+12127881500",""\n"+12127881600","+12127881699"\n',
], ids=["utf8", "utf8-bom", "utf16", "utf16le-nobom", "utf16be-nobom", "utf16le-bom", "utf16be-bom", "utf32",
        "semicolon", "tab", "lf", "cr", "all-quoted"])
def test_csv_encodings_delimiters_and_line_ends(data):
    assert rows(data, "numbers.csv") == SIMPLE_ROWS


def test_csv_falls_back_to_windows_1252_only_when_not_utf8():
    assert rows(b"Number\n+39 02\x961234\n") == [(2, "+39 02\u20131234", "")]
    assert rows("Number\n+39 02\u20131234\n".encode()) == [(2, "+39 02\u20131234", "")]


def test_csv_quoted_cells_keep_delimiters_quotes_and_newlines():
    data = b'Number;Range End\n"+39 02; 1234";"a ""b"""\n"+39\n02";\n+3903;\n'
    assert rows(data) == [(2, "+39 02; 1234", 'a "b"'), (3, "+39\n02", ""), (4, "+3903", "")]


def test_csv_header_any_case_spacing_order_and_extra_columns():
    data = "Notes, RANGE_END ,\ufeff  number  ,Other\nx,+12127881599,+12127881500,y\nz,,+12127881600\n".encode()
    assert rows(data) == [(2, "+12127881500", "+12127881599"), (3, "+12127881600", "")]


def test_csv_without_range_end_column():
    assert rows(b"Number\n+12127881500\n") == [(2, "+12127881500", "")]


def test_csv_blank_rows_are_skipped_but_counted_in_line_numbers():
    data = b"\n,\nNumber,Range End,Notes\n+1,,\n\n , ,\n,,only a note\n +2 ,\t3\t\n"
    assert rows(data) == [(4, "+1", ""), (8, "+2", "3")]


def test_csv_short_rows_and_10000_columns():
    wide = "+12127881500,+12127881501" + ",x" * 10_000
    assert rows(f"Number,Range End\n{wide}\n+1\n".encode()) == [(2, "+12127881500", "+12127881501"), (3, "+1", "")]


def test_csv_single_column_without_header_is_all_numbers():
    assert rows(b"+12127881500,\n+12127881501,\n") == [(1, "+12127881500", ""), (2, "+12127881501", "")]
    assert columns_used(b"+12127881500\n") == "Numbers read from column A (no header row: every row is a number)."
    assert rows(xlsx(["+12127881500"], ["12127881501"])) == [(1, "+12127881500", ""), (2, "12127881501", "")]


def test_csv_first_row_of_several_columns_must_be_the_header():
    message = error(b"+12127881500,Mario\n+12127881501,Luigi\n")
    assert "Row 1 (`+12127881500,Mario`)" in message and "`Number,Range End`" in message and "`template`" in message


@pytest.mark.parametrize("header", ["Phone", "Phone Number", "phone_number", "E.164", "E164", "DID", "Number"])
def test_common_number_headers_are_read_and_named(header):
    data = f"Name,{header}\nMario,+12127881500\n".encode()
    assert rows(data) == [(2, "+12127881500", "")]
    assert columns_used(data) == f"Numbers read from column B (`{header}`)."


def test_number_beats_phone_when_both_are_there():
    data = b"Phone,Number,End\n+1,+12127881500,1599\n"
    assert rows(data) == [(2, "+12127881500", "1599")]
    assert columns_used(data) == "Numbers read from column B (`Number`), range ends from column C (`End`)."


def test_csv_header_only_gives_no_rows():
    assert rows(BOM + b"Number,Range End\r\n") == []


def test_csv_with_no_rows_at_all():
    assert "no rows" in error(BOM + b"\r\n,,\r\n")


def test_duplicate_number_column():
    assert "2 `Number` columns (A, C)" in error(b"Number,Range End,number\n+1,,\n")


def test_csv_nul_byte_names_the_row_before_any_row_is_returned():
    message = error(b"Number\n+12127881500\n+1212\x007881501\n+12127881502\n")
    assert "Row 3" in message and "NUL" in message
    assert "Row 2" in error("Number\n+12\x0012\n".encode("utf-16"))


def test_csv_cell_over_the_field_size_limit():
    message = error(b"Number\n+1\n" + b"9" * 200_000 + b"\n")
    assert message.startswith("Row 3 can't be read as CSV")


def test_csv_in_no_known_encoding():
    assert "encoding" in error(b"Number\n+39\x81\xc3\n")


def test_csv_damaged_utf16():
    assert "damaged" in error(b"\xff\xfe" + "Number\n+1\n".encode("utf-16-le") + b"\x00")


# --- XLSX --------------------------------------------------------------------------------

def test_xlsx_text_cells():
    data = xlsx(["Number", "Range End"], ["+12127881500", None], [" +12127881600 ", "+12127881699"])
    assert rows(data, "numbers.xlsx") == [(2, "+12127881500", ""), (3, "+12127881600", "+12127881699")]


def test_xlsx_numeric_and_formula_cells_come_back_as_the_spreadsheet_shows_them():
    data = xlsx(["Number", "Range End"],
                [12127881500, 1599],                  # '+' dropped by the spreadsheet
                [12127881500.0, None],                # same, stored as a float
                [1.2127881500000001e19, None],         # too many digits: shown in E notation
                [12127881500.5, None],
                ["=+390212345678", None],             # typed +39... and Excel made it a formula
                ['="+39 02 1234 5678"', None])
    assert rows(data) == [(2, "12127881500", "1599"), (3, "12127881500", ""), (4, "1.21278815E+19", ""),
                          (5, "12127881500.5", ""), (6, "=+390212345678", ""), (7, '="+39 02 1234 5678"', "")]


@pytest.mark.parametrize("raw, shown", [
    ("12127881500", "12127881500"), ("12127881500.0", "12127881500"), ("1.21278815E+10", "12127881500"),
    ("1.2127881500000001E+19", "1.21278815E+19"), ("1E+300", "1E+300"), ("0.5", "0.5"), ("-3", "-3"),
    ("123456789012345678901234", "123456789012345678901234"), ("NaN", "NaN"), ("junk", "junk"), ("9" * 5000, "9" * 5000),
])
def test_number_text_as_general_format_shows_it(raw, shown):
    assert number_text(raw) == shown


def test_xlsx_booleans_dates_and_array_formulas():
    data = xlsx(["Number", "Range End"], [True, datetime(2026, 11, 1)], [ArrayFormula("A3", "=+39021234"), None])
    assert rows(data) == [(2, "TRUE", "46327"), (3, "=+39021234", "")]


STRICT = "http://purl.oclc.org/ooxml/spreadsheetml/main"
STRICT_RELS = "http://purl.oclc.org/ooxml/officeDocument/relationships"
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"


def handmade_workbook(sheet_data: str) -> bytes:
    """A Strict OOXML workbook laid out unlike openpyxl's: absolute targets, other part names."""
    return zip_of({
        "[Content_Types].xml": b"<Types/>",
        "_rels/.rels": f'<Relationships xmlns="{PACKAGE_RELS}"><Relationship Id="r1" '
                       f'Type="{STRICT_RELS}/officeDocument" Target="/book/wb.xml"/></Relationships>'.encode(),
        "book/wb.xml": f'<workbook xmlns="{STRICT}" xmlns:r="{STRICT_RELS}"><sheets>'
                       f'<sheet name="Chart" sheetId="1" r:id="c1"/><sheet name="Data" sheetId="2" r:id="s1"/>'
                       f'</sheets></workbook>'.encode(),
        "book/_rels/wb.xml.rels": f'<Relationships xmlns="{PACKAGE_RELS}">'
                                  f'<Relationship Id="c1" Type="{STRICT_RELS}/chartsheet" Target="charts/c.xml"/>'
                                  f'<Relationship Id="s1" Type="{STRICT_RELS}/worksheet" Target="sheets/data.xml"/>'
                                  f'<Relationship Id="t1" Type="{STRICT_RELS}/sharedStrings" Target="/book/text.xml"/>'
                                  f'</Relationships>'.encode(),
        "book/text.xml": f'<sst xmlns="{STRICT}"><si><t>Number</t></si><si><r><t>Range </t></r><r><t>End</t></r>'
                         f'<rPh><t>guide</t></rPh></si><si><t xml:space="preserve"> +12127881500 </t></si></sst>'.encode(),
        "book/sheets/data.xml": f'<worksheet xmlns="{STRICT}"><sheetData>{sheet_data}</sheetData>'
                                f'<mergeCells/></worksheet>'.encode(),
    })


def test_handmade_strict_workbook_with_shared_strings_and_formulas():
    data = handmade_workbook(
        '<row><c t="s"><v>0</v></c><c t="s"><v>1</v></c></row>'          # no r attributes: counted
        '<row><c t="s"><v>2</v></c><c t="inlineStr"><is><t>+12127881599</t></is></c></row>'
        '<row r="5"><c r="A5"><f t="shared" ref="A5:A6" si="0">B5+1</f><v>7</v></c><c r="B5"><v>6</v></c></row>'
        '<row r="6"><c r="A6"><f t="shared" si="0"/><v>8</v></c><c r="B6" t="e"><v>#N/A</v></c></row>'
        '<row r="7"><c r="A7" t="b"><v>0</v></c><c r="C7" t="str"><v>note</v></c></row>')
    assert rows(data, "handmade.xlsx") == [(2, "+12127881500", "+12127881599"), (5, "=B5+1", "6"),
                                           (6, "=B6+1", "#N/A"), (7, "FALSE", "")]


@pytest.mark.parametrize("sheet_data", [
    '<row r="1"><c r="A1" t="s"><v>99</v></c></row>',       # no such shared string
    '<row r="1"><c r="A1" t="s"><v>-1</v></c></row>',
    '<row r="x"><c r="A1"><v>1</v></c></row>',
    '<row r="1"><c r="11"><v>1</v></c></row>',
], ids=["string-index", "negative-index", "row-number", "cell-reference"])
def test_handmade_workbook_with_bad_references(sheet_data):
    assert "damaged" in error(handmade_workbook(sheet_data))


def test_xlsx_header_below_blank_rows_gaps_and_extra_columns():
    data = xlsx([], [None, None], [None, "Notes", "NUMBER", "range end"], [None, "x", "+1", "+2"], [], [],
                [None, "only a note"], [None, None, "+3"])
    assert rows(data) == [(4, "+1", "+2"), (8, "+3", "")]


def test_xlsx_first_visible_sheet_is_read():
    data = xlsx(["Number"], ["+12127881500"], hidden_first=[["junk"]])
    assert rows(data) == [(2, "+12127881500", "")]


def test_xlsx_far_away_cells_are_not_read():
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Number", "Range End"])
    sheet.append(["+1", "+2"])
    sheet.cell(row=2, column=16_000, value="far away")
    out = io.BytesIO()
    workbook.save(out)
    assert rows(out.getvalue()) == [(2, "+1", "+2")]


def test_xlsx_wrong_stored_dimension_still_reads_every_row():
    data = patch_sheet(xlsx(["Number"], ["+1"], ["+2"], ["+3"]), b'<dimension ref="A1:A4"', b'<dimension ref="A1:A1"')
    assert rows(data) == [(2, "+1", ""), (3, "+2", ""), (4, "+3", "")]


def test_xlsx_empty_workbook():
    assert "first sheet (`Sheet`) is empty" in error(xlsx())


def test_xlsx_first_sheet_without_number_header():
    message = error(xlsx(["Customer", "End"], ["+1", "+2"]))
    assert "Row 1 (`Customer,End`) has no `Number` column" in message and "`template`" in message


def test_xlsx_damaged_sheet_xml_after_some_rows():
    data = patch_sheet(xlsx(["Number"], ["+1"], ["+2"]), b"</sheetData>", b"<row")
    found = []
    with pytest.raises(FileError, match=r"damaged \(the sheet can't be read past row 3\)"):
        for row in read_rows(data):
            found.append(row.number)
    assert found == ["+1", "+2"]


def test_xlsx_forged_row_number_past_excel_stops():
    data = patch_sheet(xlsx(["Number"], ["+1"]), b'<row r="2"><c r="A2"', b'<row r="99999999"><c r="A99999999"')
    assert "past Excel's last row" in error(data)


# --- errors on the whole file ------------------------------------------------------------

def test_size_limit_names_sizes_and_fix():
    message = error(b"Number\n" + b"+12127881500\n" * 2_000_000, max_bytes=Settings.max_file_bytes)
    assert message == "The file is 24.8 MB, over the 20 MB limit: split it into several files."
    assert "11 bytes, over the 10 bytes limit" in error(b"Number\n+1\n+", max_bytes=10)


@pytest.mark.parametrize("data, filename, expected", [
    (b"", "n.csv", "`n.csv` is empty"),
    (b"  \r\n", "", "The file is empty"),
    (bytes(range(256)) * 4, "n.csv", "neither text nor a workbook"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "n.xls", "Excel 97-2003 (.xls)"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "n.pdf", "PDF document"),
    (b"<html><table><tr><td>Number</td></tr></table></html>", "n.xls", "web page"),
    (b"PK\x03\x04 not really a zip", "n.xlsx", "damaged zip archive"),
    (zip_of({"hello.txt": b"hi"}), "n.zip", "not an .xlsx workbook"),
    (zip_of({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"}), "n.docx", "can't be opened"),
    (zip_of({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"",
             "META-INF/manifest.xml": b""}), "n.ods", "OpenDocument"),
    (zip_of({"[Content_Types].xml": b"", "xl/workbook.bin": b""}), "n.xlsb", ".xlsb"),
], ids=["empty", "blank", "binary", "xls", "pdf", "html", "bad-zip", "random-zip", "docx", "ods", "xlsb"])
def test_unreadable_files_say_what_they_are_and_what_is_accepted(data, filename, expected):
    message = error(data, filename)
    assert expected in message
    assert "CSV" in message


def test_zip_bomb_one_part_expanding_too_much():
    bomb = zip_of({"[Content_Types].xml": b"<Types/>", "xl/worksheets/sheet1.xml": b"0" * (8 << 20)})
    assert len(bomb) < 20_000
    assert "compressed suspiciously well (`xl/worksheets/sheet1.xml` expands" in error(bomb, "n.xlsx")


def test_zip_bomb_many_parts_expanding_too_much_together():
    parts = {f"xl/worksheets/sheet{i}.xml": b"0" * (1 << 20) for i in range(25)}  # each under the ratio floor
    bomb = zip_of({"[Content_Types].xml": b"<Types/>", **parts})
    assert "expands to 25 MB" in error(bomb, "n.xlsx", max_bytes=1 << 20)


def test_realistic_workbook_is_not_taken_for_a_bomb():
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["Number"])
    for i in range(15_000):
        sheet.append([f"+3902{i:08d}"])
    out = io.BytesIO()
    workbook.save(out)
    data = out.getvalue()
    part = zipfile.ZipFile(out).getinfo("xl/worksheets/sheet1.xml")
    assert part.file_size > BOMB_RATIO_FLOOR  # big enough for the ratio check to apply
    assert sum(1 for _ in read_rows(data, max_bytes=len(data))) == 15_000


@pytest.mark.parametrize("make", [
    lambda lines: ("Number\n" + "".join(f"+1{i}\n\n" for i in range(lines))).encode(),
    lambda lines: xlsx(["Number"], *([f"+1{i}"] for i in range(lines))),
], ids=["csv", "xlsx"])
def test_too_many_rows_raises_after_the_limit_blank_rows_not_counted(make):
    found = []
    with pytest.raises(FileError, match="more than 3 rows of numbers"):
        for row in read_rows(make(4), max_rows=3):
            found.append(row.number)
    assert found == ["+10", "+11", "+12"]
    assert len(list(read_rows(make(3), max_rows=3))) == 3


def test_file_error_is_a_user_error():
    assert issubclass(FileError, UserError)
    assert Row(2, "+1", "") == Row(row=2, number="+1", range_end="")


# --- templates -----------------------------------------------------------------------------

def test_csv_template_reads_back_to_its_examples():
    data = template_csv()
    assert data.startswith(BOM + b"Number,Range End\r\n")
    assert [(row.number, row.range_end) for row in read_rows(data, "template.csv")] == list(TEMPLATE_EXAMPLES)
    assert [row.row for row in read_rows(data)] == [2, 3]
    assert all(not cell.startswith(("=", "'")) for record in csv.reader(io.StringIO(data.decode("utf-8-sig")))
               for cell in record)


def test_xlsx_template_reads_back_to_its_examples_with_text_format():
    data = template_xlsx()
    assert [(row.number, row.range_end) for row in read_rows(data, "template.xlsx")] == list(TEMPLATE_EXAMPLES)
    sheet = load_workbook(io.BytesIO(data)).active
    assert [cell.value for cell in sheet[1]] == ["Number", "Range End"]
    assert all(cell.font.bold for cell in sheet[1])
    assert all(cell.number_format == "@" for row in sheet.iter_rows(min_row=1, max_row=3, max_col=2) for cell in row)
    assert all(isinstance(cell.value, (str, type(None))) for row in sheet.iter_rows() for cell in row)
    for letter in "AB":
        assert sheet.column_dimensions[letter].number_format == "@"
        assert sheet.column_dimensions[letter].width >= 20


# --- writing -------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    "=1+1", "=+390212345678", "@SUM(A1:A2)", "\t=1", "\r=1", "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
    "+", "-", "+1 212 788 1500", "+1212\n", "-1.5", "+\u0661\u0662",
])
def test_safe_cell_prefixes_what_a_spreadsheet_could_run(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["+12127881500", "-5", "12127881500", "", "abc", "1.21278815E+10", " =x", "'+1"])
def test_safe_cell_keeps_harmless_text(value):
    assert safe_cell(value) == value


def test_csv_bytes_reads_back_with_the_csv_module():
    data = csv_bytes(["Number", "Count", "Info"],
                     [["+12127881500", 3, 'said "hi", twice'], ["=HYPERLINK(\"x\")", None, "@me"], ["-5", -7, "a\nb"]])
    assert data.startswith(BOM)
    assert list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))) == [
        ["Number", "Count", "Info"],
        ["+12127881500", "3", 'said "hi", twice'],
        ["'=HYPERLINK(\"x\")", "", "'@me"],
        ["-5", "-7", "a\nb"],
    ]


def test_csv_bytes_streams_many_rows():
    data = csv_bytes(["Number"], ([f"+1212{i:07d}"] for i in range(25_001)))
    records = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert len(records) == 25_002 and records[-1] == ["+12120025000"]
    assert data.count(BOM) == 1


def test_invalid_rows_csv():
    data = invalid_rows_csv([(2, "12127881500", "missing + sign"), (7, "=+39", "cell turned into a formula")])
    assert list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))) == [
        ["Row", "Value", "Reason"],
        ["2", "12127881500", "missing + sign"],
        ["7", "'=+39", "cell turned into a formula"],
    ]
