"""A one-sheet XLSX written row by row straight into its zip entry: constant memory, fast.

Why not openpyxl's write-only mode: it builds a cell object and an element per value, about
30,000 cells a second on this machine without lxml (docs/benchmarks.md), so 100,000 cases of
11 columns take far longer than the 10 s the export is allowed. This writer produces the
same kind of file (inline strings, a bold header row, column widths, the header frozen) with
one string template per cell; tests read every file back with openpyxl.

Characters that XML 1.0 cannot hold (control characters other than TAB, LF, CR) are replaced
with U+FFFD; a file Excel refuses to open helps nobody, and the count of replaced cells is
returned so the caller can record it.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from xml.sax.saxutils import escape

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
    "</Relationships>"
)
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="2"><font><sz val="11"/><name val="Yu Gothic"/><family val="3"/><charset val="128"/></font>'
    '<font><b/><sz val="11"/><name val="Yu Gothic"/><family val="3"/><charset val="128"/></font></fonts>'
    '<fills count="3"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFE8EEF3"/><bgColor indexed="64"/></patternFill>'
    "</fill>"
    "</fills>"
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def _workbook(sheet_name: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheets><sheet name="{escape(sheet_name, {chr(34): "&quot;"})}" sheetId="1" r:id="rId1"/></sheets>'
        "</workbook>"
    )


_OPEN = '<c t="inlineStr"><is><t xml:space="preserve">'
_CLOSE = "</t></is></c>"


def _row(number: int, values: Sequence[str]) -> str:
    """A row's cells with a handful of string operations for the whole row, not per cell: the
    values are joined on NUL (which no value holds once illegal characters are replaced),
    escaped together, and the NULs become the cell boundaries."""
    if _ILLEGAL.search("".join(values)):
        values = [_ILLEGAL.sub("\ufffd", value) for value in values]
    text = "\x00".join(values).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<row r="{number}">{_OPEN}{text.replace(chr(0), _CLOSE + _OPEN)}{_CLOSE}</row>'


def write(
    path: Path,
    *,
    sheet_name: str,
    header: Sequence[str],
    rows: Iterable[Sequence[str]],
    widths: Sequence[int],
) -> int:
    """Write the sheet; returns the number of data rows."""
    count = 0
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _workbook(sheet_name))
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/styles.xml", _STYLES)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as raw:
            columns = "".join(
                f'<col min="{index}" max="{index}" width="{width}" customWidth="1"/>'
                for index, width in enumerate(widths, start=1)
            )
            heading = "".join(
                f'<c t="inlineStr" s="1"><is><t>{escape(_ILLEGAL.sub(chr(0xFFFD), title))}</t></is></c>'
                for title in header
            )
            raw.write(
                (
                    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                    '<sheetViews><sheetView workbookViewId="0">'
                    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                    '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
                    "</sheetView></sheetViews>"
                    f'<sheetFormatPr defaultRowHeight="15"/><cols>{columns}</cols>'
                    f'<sheetData><row r="1">{heading}</row>'
                ).encode()
            )
            buffer: list[str] = []
            for row in rows:
                count += 1
                buffer.append(_row(count + 1, row))
                if len(buffer) >= 500:
                    raw.write("".join(buffer).encode())
                    buffer.clear()
            raw.write(("".join(buffer) + "</sheetData></worksheet>").encode())
    return count
