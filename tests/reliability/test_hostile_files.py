"""Hostile attachments through `import` in the chat: each gets a clear answer and nothing is stored.

"Nothing stored" means no upload row, no staged number, no invalid entry and no number: the
whole-file checks run before the preview's transaction writes anything, and damage found while
reading rows rolls that transaction back.
"""
from __future__ import annotations

import csv
import io
import zipfile

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from handlers import Attachment, Request, dispatch
from provisioning.files.templates import template_xlsx
from provisioning.settings import Settings
from store.models import Tenant
from tests.reliability.conftest import ROMA, Snapshot, check_reply, snapshot
from tests.support.chat import ADMIN

IMPORT = f"import {ROMA}"
NOTHING = Snapshot(frozenset(), 0, 0, 0)


def import_file(chat, name: str, data: bytes):
    reply = chat.say(IMPORT, files=((name, data),))
    check_reply(reply)
    return reply


def xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def with_part(workbook: bytes, name: str, write) -> bytes:
    """The workbook with one part replaced by what `write(stream)` writes (streamed: bombs are big)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(workbook)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename == name:
                with target.open(name, "w") as stream:
                    write(stream)
            else:
                target.writestr(item, source.read(item.filename))
    return out.getvalue()


UNREADABLE = [  # (name, content, what the answer says)
    ("numbers.csv", b"", "is empty"),
    ("numbers.csv", b"  \r\n\n\t\n", "is empty"),
    ("numbers.csv", bytes(range(256)) * 40, "neither text nor a workbook"),
    ("numbers.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "PDF document"),
    ("numbers.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + b"\xfe\xff" * 100, "old Excel 97-2003 (.xls)"),
    ("numbers.csv", b"Number\n+390212345678\n+390212345679\x00\n", "Row 3 contains a NUL character"),
    ("numbers.xlsx", b"PK\x03\x04" + bytes(range(256)) * 4, "not a readable .xlsx"),
    ("numbers.xlsx", template_xlsx()[:1500], ".xlsx"),
    ("numbers.csv", b"Customer,Name\n+390212345678,Mario\n", "has no `Number` column"),
    ("numbers.html", b"<html><body><table><tr><td>+390212345678</td></tr></table></body></html>", "web page"),
]


def test_unreadable_files_get_a_clear_answer_and_nothing_is_stored(chat):
    for name, data, expected in UNREADABLE:
        reply = import_file(chat, name, data)
        assert expected in reply.markdown and "Nothing was stored" in reply.markdown, (data[:40], reply.markdown)
    assert snapshot(chat.services.db) == NOTHING


def test_file_over_the_size_limit_is_refused_before_it_is_downloaded(make_chat):
    chat = make_chat(Settings(max_file_bytes=1000))
    downloads = []
    data = b"Number\n" + b"+390212345678\n" * 100

    def fetch() -> bytes:
        downloads.append(1)
        return data

    request = Request(ADMIN, f"room:{ADMIN}", IMPORT, attachments=(Attachment("big.csv", fetch, len(data)),))
    reply = dispatch(chat.services, request)
    check_reply(reply)
    assert "over the" in reply.markdown and "limit" in reply.markdown and "Nothing was stored" in reply.markdown
    assert downloads == []
    assert snapshot(chat.services.db) == NOTHING


def test_file_of_unknown_size_is_checked_after_download(make_chat):
    chat = make_chat(Settings(max_file_bytes=1000))
    data = b"Number\n" + b"+390212345678\n" * 100
    request = Request(ADMIN, f"room:{ADMIN}", IMPORT, attachments=(Attachment("big.csv", lambda: data, None),))
    reply = dispatch(chat.services, request)
    check_reply(reply)
    assert f"{len(data):,} bytes, over the 1,000 bytes limit" in reply.markdown
    assert snapshot(chat.services.db) == NOTHING


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_file_over_the_row_limit_leaves_nothing_behind(make_chat, kind):
    chat = make_chat(Settings(max_rows=5))
    numbers = [f"+3902123456{n:02d}" for n in range(6)]
    if kind == "csv":
        data = ("Number\n" + "\n".join(numbers) + "\n").encode()
    else:
        data = xlsx([["Number"], *[[n] for n in numbers]])
    reply = import_file(chat, f"numbers.{kind}", data)
    assert "more than 5 rows" in reply.markdown and "split it" in reply.markdown
    assert snapshot(chat.services.db) == NOTHING


def test_zip_bomb_disguised_as_xlsx_is_not_expanded(chat):
    def padding(stream) -> None:  # 32 MiB of valid XML that deflates about a thousand times
        stream.write(b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
                     b'spreadsheetml/2006/main"><sheetData>')
        for _ in range(32):
            stream.write(b" " * (1 << 20))
        stream.write(b"</sheetData></worksheet>")

    bomb = with_part(template_xlsx(), "xl/worksheets/sheet1.xml", padding)
    assert len(bomb) < 200_000
    reply = import_file(chat, "numbers.xlsx", bomb)
    assert "compressed suspiciously well" in reply.markdown or "expands to" in reply.markdown
    assert snapshot(chat.services.db) == NOTHING


def test_zip_bomb_with_a_lying_size_is_not_expanded(chat):
    """A part whose directory entry claims a small size but whose data inflates hugely."""
    def sheet(stream) -> None:
        stream.write(b"<worksheet><sheetData>" + b" " * (16 << 20) + b"</sheetData></worksheet>")

    data = bytearray(with_part(template_xlsx(), "xl/worksheets/sheet1.xml", sheet))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        part = archive.getinfo("xl/worksheets/sheet1.xml")
    central = data.rfind(b"PK\x01\x02", 0, len(data))
    while central != -1:  # rewrite the uncompressed size in that part's local and central headers
        name_length = int.from_bytes(data[central + 28:central + 30], "little")
        if data[central + 46:central + 46 + name_length] == part.filename.encode():
            data[central + 24:central + 28] = (4096).to_bytes(4, "little")
        central = data.rfind(b"PK\x01\x02", 0, central)
    data[part.header_offset + 22:part.header_offset + 26] = (4096).to_bytes(4, "little")
    reply = import_file(chat, "numbers.xlsx", bytes(data))
    assert "damaged" in reply.markdown and "Preview" not in reply.markdown
    assert snapshot(chat.services.db) == NOTHING


FORMULAS = ["=cmd|' /C calc'!A0", "@SUM(1)", "+1+1", "-1+1", '=HYPERLINK("http://evil.example","x")',
            "\t=1+1", "\r=2+2", "=+390212345678", *(f"=A{n}+1" for n in range(8)), *(f"@A{n}" for n in range(4))]


def check_report_is_safe(reply) -> list[list[str]]:
    (report,) = reply.files
    rows = list(csv.reader(io.StringIO(report.data.decode("utf-8-sig"), newline="")))
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "@", "\t", "\r")), cell
            if cell.startswith(("+", "-")):
                assert cell[1:].isascii() and cell[1:].isdigit(), cell
    return rows


def test_csv_formulas_are_invalid_rows_and_the_report_cannot_run_them(chat):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Number"])
    writer.writerows([[formula] for formula in FORMULAS])
    writer.writerow(["+390212345678"])
    reply = import_file(chat, "numbers.csv", out.getvalue().encode())
    assert "**1** valid number" in reply.markdown and f"**{len(FORMULAS)}** invalid" in reply.markdown
    rows = check_report_is_safe(reply)
    assert rows[0] == ["Row", "Value", "Reason"] and len(rows) == len(FORMULAS) + 1
    values = {row[1] for row in rows[1:]}
    assert "'=cmd|' /C calc'!A0" in values and "'@SUM(1)" in values and "'+1+1" in values
    assert any("cell turned into a formula" in row[2] for row in rows[1:])
    after = snapshot(chat.services.db)
    assert after.numbers == frozenset() and after.staged == 1 and after.invalid == len(FORMULAS)


def test_xlsx_formulas_are_read_as_text_never_evaluated(chat):
    data = xlsx([["Number"], *[[formula.strip()] for formula in FORMULAS], ["+390212345678"]])
    reply = import_file(chat, "numbers.xlsx", data)
    assert "**1** valid number" in reply.markdown and f"**{len(FORMULAS)}** invalid" in reply.markdown
    check_report_is_safe(reply)
    assert snapshot(chat.services.db).numbers == frozenset()


def test_mixed_encodings_are_refused_naming_the_line(chat):
    data = "Number\n+39\u00a002 1234 5678\n".encode() + b"+39 02 1234 5679\x96\n" + "+390212345680\n".encode()
    reply = import_file(chat, "numbers.csv", data)
    assert "mixes text encodings: line 3" in reply.markdown
    assert snapshot(chat.services.db) == NOTHING


def test_windows_1252_file_is_still_read(chat):
    reply = import_file(chat, "numbers.csv", b"Number,Note\n+390212345678,Caf\xe9\n+390212345679,\x93ok\x94\n")
    assert "**2** valid numbers" in reply.markdown


def test_row_of_ten_thousand_columns_reads_only_what_it_needs(chat):
    header = ",".join(["Note"] * 9_998 + ["Number", "Range End"])
    row = ",".join(["x"] * 9_998 + ["+390212345600", "+390212345609"])
    reply = import_file(chat, "numbers.csv", f"{header}\n{row}\n".encode())
    assert "**10** valid numbers" in reply.markdown
    assert snapshot(chat.services.db).numbers == frozenset()


def test_header_of_ten_thousand_number_columns_gets_a_short_answer(chat):
    reply = import_file(chat, "numbers.csv", b"Number," * 10_000 + b"\n+390212345678\n")
    assert "The header has 10000 `Number` columns" in reply.markdown and "keep one" in reply.markdown
    assert snapshot(chat.services.db) == NOTHING


def test_header_of_ten_thousand_other_columns_gets_a_short_answer(chat):
    reply = import_file(chat, "numbers.csv", ",".join(f"col{n}" for n in range(10_000)).encode() + b"\n1\n")
    assert "has no `Number` column" in reply.markdown
    assert snapshot(chat.services.db) == NOTHING


def test_hostile_file_names(chat):
    assert "NUL character" in import_file(chat, "n\x00.csv", b"Number\n+390212345678\n").markdown
    reply = import_file(chat, "x" * 5_000 + ".csv", b"")
    assert "is empty" in reply.markdown and len(reply.markdown) < 400
    assert snapshot(chat.services.db) == NOTHING


def test_utf16_and_bom_files_that_are_fine_are_accepted(chat):
    text = "Number;Range End\r\n+39 02 1234 5600;+39 02 1234 5609\r\n+390212345700;\r\n"
    for encoding in ("utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"):
        reply = import_file(chat, "numbers.csv", text.encode(encoding))
        assert "**11** valid numbers" in reply.markdown, encoding
        assert "cancelled" in chat.say("cancel").markdown
    import_file(chat, "numbers.csv", text.encode("utf-16"))
    assert "**11** numbers stored" in chat.say("submit").markdown
    assert len(snapshot(chat.services.db).numbers) == 11


HOSTILE_INVENTORIES = [  # (content, what the answer says)
    (("tenants:\n  - name: Acme SP\n" + "".join(f"    k{n}{'x' * 300}: 1\n" for n in range(300))).encode(),
     "100 problems (checking stopped there)"),
    (b"tenants: " + b"[" * 5_000 + b"]" * 5_000 + b"\n", "nested more than a thousand levels deep"),
    (b"tenants:\n  - name: Acme\x00 SP\n", "not valid YAML"),
    (bytes(range(256)) * 8, "is not UTF-8 text"),
    (b"!!python/object/apply:os.system ['echo pwned']\n", "not valid YAML"),
]


def test_hostile_inventory_files_are_refused_and_nothing_is_loaded(chat):
    with chat.services.db.sessions() as session:
        tenants = session.scalar(select(func.count()).select_from(Tenant))
    for data, expected in HOSTILE_INVENTORIES:
        reply = chat.say("inventory", files=(("inventory.yaml", data),))
        check_reply(reply)
        assert expected in reply.markdown, (data[:40], reply.markdown[:300])
    with chat.services.db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Tenant)) == tenants
