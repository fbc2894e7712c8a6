"""Workbooks written row by row straight into their zip entries: constant memory, fast.

Why not openpyxl: it builds a cell object and an element per value, about 30,000 cells a
second on this machine without lxml (docs/benchmarks.md). The ward's export of 100,000 cases
of 11 columns would take far longer than its 10 s, and a month's report (about 17,000 cells at
a million cases, most of them its detail sheet) spent 0.3-0.4 s of its 1 s there. This writer
produces the same kind of file (inline strings, numbers, dates as serial numbers shown
yyyy-mm-dd, a bold header row, column widths, the header frozen) with one string template per
cell; tests read every file back with openpyxl.

Characters that XML 1.0 cannot hold (control characters other than TAB, LF, CR) are replaced
with U+FFFD: a file Excel refuses to open helps nobody.
"""

from __future__ import annotations

import datetime
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape, quoteattr

Value = str | int | float | datetime.date | None

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EPOCH = datetime.date(1899, 12, 30)  # Excel's day 0 (with its 1900 leap-year quirk folded in)
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"

# Cell styles (cellXfs): 0 plain, 1 the export's header (bold on a light fill), 2 the report's
# header (bold white on dark blue, a rule below, centred and wrapped), 3 a date.
PLAIN, LIGHT_HEADER, DARK_HEADER, DATE = 0, 1, 2, 3
_STYLES = (
    _XML + f'<styleSheet xmlns="{_MAIN}">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>'
    '<fonts count="3"><font><sz val="11"/><name val="Yu Gothic"/><family val="3"/><charset val="128"/></font>'
    '<font><b/><sz val="11"/><name val="Yu Gothic"/><family val="3"/><charset val="128"/></font>'
    '<font><b/><sz val="11"/><color rgb="FFFFFFFF"/><name val="Yu Gothic"/><family val="3"/>'
    '<charset val="128"/></font></fonts>'
    '<fills count="4"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFE8EEF3"/><bgColor indexed="64"/></patternFill>'
    "</fill>"
    '<fill><patternFill patternType="solid"><fgColor rgb="FF1A5276"/><bgColor indexed="64"/></patternFill>'
    "</fill>"
    "</fills>"
    '<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>'
    '<border><left/><right/><top/><bottom style="thin"><color rgb="FF999999"/></bottom><diagonal/></border>'
    "</borders>"
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1"/>'
    '<xf numFmtId="0" fontId="2" fillId="3" borderId="1" xfId="0" applyFont="1" applyFill="1" '
    'applyBorder="1" applyAlignment="1"><alignment horizontal="center" vertical="center" wrapText="1"/></xf>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


@dataclass
class Sheet:
    name: str  # 31 characters at most, none of []:*?/\ (the caller's business)
    header: Sequence[str]
    rows: Iterable[Sequence[Value]]
    widths: Sequence[float]
    header_style: int = LIGHT_HEADER
    # Every value a str (the export): a row is escaped in one go rather than cell by cell.
    text_only: bool = False


def _text(value: str) -> str:
    return escape(_ILLEGAL.sub("\ufffd", value))


_OPEN = '<c t="inlineStr"><is><t xml:space="preserve">'
_CLOSE = "</t></is></c>"


def _text_row(number: int, values: Sequence[str]) -> str:
    """A row of strings with a handful of string operations for the whole row, not per cell:
    the values are joined on NUL (which no value holds once illegal characters are replaced),
    escaped together, and the NULs become the cell boundaries."""
    if not values:
        return f'<row r="{number}"/>'
    if _ILLEGAL.search("".join(values)):
        values = [_ILLEGAL.sub("\ufffd", value) for value in values]
    text = "\x00".join(values).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<row r="{number}">{_OPEN}{text.replace(chr(0), _CLOSE + _OPEN)}{_CLOSE}</row>'


def _cell(value: Value) -> str:
    if value is None:
        return "<c/>"
    if isinstance(value, bool):  # before int: a bool is an int
        return f'<c t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return f"<c><v>{value!r}</v></c>"
    if isinstance(value, datetime.datetime):
        raise TypeError("a datetime: write it as text or as its date")
    if isinstance(value, datetime.date):
        return f'<c s="{DATE}"><v>{(value - _EPOCH).days}</v></c>'
    return f"{_OPEN}{_text(value)}{_CLOSE}"


def _sheet_xml(sheet: Sheet, out: IO[bytes]) -> int:
    columns = "".join(
        f'<col min="{index}" max="{index}" width="{width}" customWidth="1"/>'
        for index, width in enumerate(sheet.widths, start=1)
    )
    heading = "".join(
        f'<c t="inlineStr" s="{sheet.header_style}"><is><t>{_text(title)}</t></is></c>'
        for title in sheet.header
    )
    out.write(
        (
            _XML + f'<worksheet xmlns="{_MAIN}">'
            '<sheetViews><sheetView workbookViewId="0">'
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
            "</sheetView></sheetViews>"
            f'<sheetFormatPr defaultRowHeight="15"/>{f"<cols>{columns}</cols>" if columns else ""}'
            f'<sheetData><row r="1">{heading}</row>'
        ).encode()
    )
    count = 0
    buffer: list[str] = []
    for row in sheet.rows:
        count += 1
        if sheet.text_only:
            buffer.append(_text_row(count + 1, row))  # type: ignore[arg-type]
        else:
            buffer.append(f'<row r="{count + 1}">{"".join(_cell(value) for value in row)}</row>')
        if len(buffer) >= 500:
            out.write("".join(buffer).encode())
            buffer.clear()
    out.write(("".join(buffer) + "</sheetData></worksheet>").encode())
    return count


def write(
    target: Path | IO[bytes], sheets: Sequence[Sheet], *, title: str = "", creator: str = ""
) -> list[int]:
    """Write the workbook; returns the number of data rows of each sheet."""
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for n in range(1, len(sheets) + 1)
    )
    content_types = (
        _XML + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        f"{overrides}"
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '<Override PartName="/docProps/core.xml" '
        'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        "</Types>"
    )
    root_rels = (
        _XML + f'<Relationships xmlns="{_PKG_REL}">'
        f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
        '<Relationship Id="rId2" '
        'Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" '
        'Target="docProps/core.xml"/>'
        "</Relationships>"
    )
    core = (
        _XML + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
        'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<dc:title>{_text(title)}</dc:title><dc:creator>{_text(creator)}</dc:creator>"
        "</cp:coreProperties>"
    )
    entries = "".join(
        f'<sheet name={quoteattr(_ILLEGAL.sub("", sheet.name))} sheetId="{n}" r:id="rId{n}"/>'
        for n, sheet in enumerate(sheets, start=1)
    )
    workbook = (
        _XML + f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
        f"<bookViews><workbookView/></bookViews><sheets>{entries}</sheets></workbook>"
    )
    workbook_rels = (
        _XML
        + f'<Relationships xmlns="{_PKG_REL}">'
        + "".join(
            f'<Relationship Id="rId{n}" Type="{_REL}/worksheet" Target="worksheets/sheet{n}.xml"/>'
            for n in range(1, len(sheets) + 1)
        )
        + f'<Relationship Id="rId{len(sheets) + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
        + "</Relationships>"
    )
    counts = []
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("_rels/.rels", root_rels)
        archive.writestr("docProps/core.xml", core)
        archive.writestr("xl/workbook.xml", workbook)
        archive.writestr("xl/_rels/workbook.xml.rels", workbook_rels)
        archive.writestr("xl/styles.xml", _STYLES)
        for n, sheet in enumerate(sheets, start=1):
            with archive.open(f"xl/worksheets/sheet{n}.xml", "w", force_zip64=True) as raw:
                counts.append(_sheet_xml(sheet, raw))
    return counts
