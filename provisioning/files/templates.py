"""The numbers templates `template` sends: a CSV and an XLSX to fill in for `import`."""
from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font

from provisioning.files.sheet import BOM, EXPECTED_HEADER

# A single number and a range. Written with spaces because no spreadsheet program reads
# "+1 212 788 1500" as a number, so opening the CSV keeps the +; see `template_csv`.
TEMPLATE_EXAMPLES: tuple[tuple[str, str], ...] = (
    ("+1 212 788 1500", ""),
    ("+1 212 788 1600", "+1 212 788 1699"),
)
_TEXT_FORMAT = "@"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def template_csv() -> bytes:
    """The CSV template: UTF-8 with BOM, header `Number,Range End`, a number and a range.

    A CSV cell has no format, so a program opening it guesses: "+12127881500" becomes the
    number 12127881500 and the + is lost. The usual tricks are wrong here: `="+1212..."` is a
    formula (the very thing our exports refuse), and a leading apostrophe is not special in
    CSV (Excel keeps it as a character). Writing the numbers grouped with spaces,
    "+1 212 788 1500", works everywhere: it is not a number in any locale (the groups are not
    thousands), so Excel, LibreOffice and Google Sheets keep it as text with its +, and the
    validator removes the spaces. Checked with LibreOffice 7.4's CSV import.
    """
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(EXPECTED_HEADER.split(","))
    writer.writerows(TEMPLATE_EXAMPLES)
    return (BOM + text.getvalue()).encode()


def template_xlsx() -> bytes:
    """The XLSX template: the CSV's content, both columns formatted as Text.

    The Text format (`@`) is set on the columns too, so numbers an operator types below the
    examples also keep their + instead of turning into numbers.
    """
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Numbers"
    sheet.append(EXPECTED_HEADER.split(","))
    for number, range_end in TEMPLATE_EXAMPLES:
        sheet.append([number, range_end or None])
    for letter in ("A", "B"):
        sheet.column_dimensions[letter].number_format = _TEXT_FORMAT
        sheet.column_dimensions[letter].width = 24
    for row in sheet.iter_rows(min_row=1, max_row=len(TEMPLATE_EXAMPLES) + 1, max_col=2):
        for cell in row:
            cell.number_format = _TEXT_FORMAT
            if cell.row == 1:
                cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
