"""The smallest .xlsx workbooks: one sheet whose XML is written from parts (streamed, as some tests
write a hundred megabytes of it), optionally with a shared strings table."""
from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def minimal_xlsx(sheet_data: Iterable[bytes], strings: str | None = None, *, compresslevel: int = 1) -> bytes:
    """A workbook whose `<sheetData>` holds `sheet_data` and whose `<sst>` holds `strings` (when given)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as book:
        book.writestr("[Content_Types].xml", "<Types/>")
        book.writestr("_rels/.rels", f'<Relationships xmlns="{PKG}"><Relationship Id="r1" '
                                     f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        book.writestr("xl/workbook.xml", f'<workbook xmlns="{NS}" xmlns:r="{REL}"><sheets>'
                                         f'<sheet name="S" sheetId="1" r:id="s1"/></sheets></workbook>')
        strings_rel = (f'<Relationship Id="t1" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
                       if strings is not None else "")
        book.writestr("xl/_rels/workbook.xml.rels", f'<Relationships xmlns="{PKG}"><Relationship Id="s1" '
                                                    f'Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
                                                    f'{strings_rel}</Relationships>')
        if strings is not None:
            book.writestr("xl/sharedStrings.xml", f'<sst xmlns="{NS}">{strings}</sst>')
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(f'<worksheet xmlns="{NS}"><sheetData>'.encode())
            for part in sheet_data:
                sheet.write(part)
            sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()
