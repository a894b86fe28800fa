"""CSV files the bot sends keep a cell whole wherever it is opened (issue 16, "also worth a look"):
a cell with `,` or `;` is quoted, since spreadsheet programs set to a European locale split lines
on `;`; and reading the file back as CSV gives every cell exactly as it was."""
from __future__ import annotations

import csv
import io

from tests.reliability.conftest import ROMA
from tests.support.chat import OPERATOR


def semicolons_outside_quotes(line: str) -> int:
    """`;` a reader honouring CSV quotes would split at."""
    quoted, outside = False, 0
    for char in line:
        if char == '"':
            quoted = not quoted
        elif char == ";" and not quoted:
            outside += 1
    return outside


def rows_of(data: bytes) -> list[list[str]]:
    text = data.decode("utf-8-sig")
    assert all(semicolons_outside_quotes(line) == 0 for line in text.splitlines()), text
    return list(csv.reader(io.StringIO(text)))


def test_the_numbers_export_quotes_a_service_info_with_a_semicolon(chat):
    info = "Fax; IVR 2"  # a ';' alone: nothing else makes the cell need quotes
    chat.say(f"upload {ROMA} info='{info}' +390212345600-619", as_=OPERATOR)
    assert "**20** numbers stored" in chat.say("submit", as_=OPERATOR).markdown
    [export] = chat.say("numbers +3902", as_=OPERATOR).files
    header, *rows = rows_of(export.data)
    assert len(rows) == 20 and {row[header.index("Service Info")] for row in rows} == {info}
    assert rows[0][0] == "+390212345600"


def test_the_invalid_rows_report_quotes_values_with_a_semicolon(chat):
    lines = ["Number", *(f'"+3902;{i:04d}"' for i in range(12)), "+390212345600"]
    reply = chat.say(f"import {ROMA}", files=(("numbers.csv", "\n".join(lines).encode()),), as_=OPERATOR)
    [report] = reply.files
    header, *rows = rows_of(report.data)
    assert header == ["Row", "Value", "Reason"]
    assert [row[1] for row in rows] == [f"'+3902;{i:04d}" for i in range(12)]  # ' : OWASP, not a formula
