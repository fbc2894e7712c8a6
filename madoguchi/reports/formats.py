"""A report as a file: XLSX (`lib.xlsx`), PDF (WeasyPrint) and CSV (UTF-8 with BOM, or CP932).

Each writer takes the tables of `madoguchi.reports.tables` and returns the file's bytes. A
CP932 CSV is written only when every cell can be encoded: otherwise `Cp932Refused` lists the
cells (sheet, row, column) and the characters, and nothing is written (never a '?').
"""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass

from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from madoguchi.core.pdf import render_pdf
from madoguchi.lib import xlsx
from madoguchi.lib.csvsafe import spreadsheet_safe, unencodable_in_cp932
from madoguchi.reports.selectors import Report
from madoguchi.reports.tables import Cell, Table, pdf_tables, report_tables

FORMATS = ("xlsx", "pdf", "csv")
ENCODINGS = ("utf-8", "cp932")
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "csv": "text/csv",
}
PDF_FONT = "Noto Sans CJK JP"


def file_name(report: Report, fmt: str) -> str:
    """ASCII only (the program code and the dates): no personal item, nothing to escape."""
    return f"report-{report.program.code}-{report.start:%Y%m%d}-{report.end:%Y%m%d}.{fmt}"


def _text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, datetime.date):
        return cell.isoformat()
    return str(cell)


# --- CSV -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cp932Cell:
    sheet: str
    row: int  # 1-based within the sheet, the header being row 1
    column: int  # 1-based
    characters: tuple[str, ...]

    @property
    def reference(self) -> str:
        return f"{get_column_letter(self.column)}{self.row}"

    def describe(self) -> str:
        return _("「%(sheet)s」%(row)d行目 %(column)s列（%(ref)s）: %(chars)s") % {
            "sheet": self.sheet,
            "row": self.row,
            "column": get_column_letter(self.column),
            "ref": self.reference,
            "chars": " ".join(f"{ch}（U+{ord(ch):04X}）" for ch in self.characters),
        }


class Cp932Refused(Exception):
    def __init__(self, cells: list[Cp932Cell]) -> None:
        super().__init__("cp932")
        self.cells = cells

    @property
    def message(self) -> str:
        return _(
            "CP932（Shift_JIS）では表せない文字があるため、CSVを作成しませんでした。"
            "UTF-8で出力するか、次のセルを確認してください（%(count)d件）。"
        ) % {"count": len(self.cells)}

    def lines(self) -> list[str]:
        return [cell.describe() for cell in self.cells]


def cp932_problems(tables: list[Table]) -> list[Cp932Cell]:
    problems = []
    for table in tables:
        every: list[list[Cell]] = [list(table.headers), *table.rows]
        for row_number, row in enumerate(every, start=1):
            for column_number, cell in enumerate(row, start=1):
                text = _text(cell)
                if not text.isascii():
                    characters = unencodable_in_cp932(text)
                    if characters:
                        problems.append(Cp932Cell(table.title, row_number, column_number, tuple(characters)))
    return problems


def csv_rows(tables: list[Table]) -> list[list[str]]:
    """Each table as a section: its name on a row of its own, the header, the rows, a blank row."""
    rows: list[list[str]] = []
    for table in tables:
        rows.append([spreadsheet_safe(table.title)])
        rows.append([spreadsheet_safe(header) for header in table.headers])
        rows.extend([spreadsheet_safe(_text(cell)) for cell in row] for row in table.rows)
        rows.append([])
    return rows


def to_csv(report: Report, encoding: str = "utf-8") -> bytes:
    tables = report_tables(report)
    if encoding == "cp932":
        problems = cp932_problems(tables)
        if problems:
            raise Cp932Refused(problems)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(csv_rows(tables))
    if encoding == "cp932":
        return buffer.getvalue().encode("cp932")
    return buffer.getvalue().encode("utf-8-sig")


# --- XLSX ------------------------------------------------------------------------------------------


def sheet_name(title: str) -> str:
    cleaned = "".join("・" if ch in "[]:*?/\\" else ch for ch in title)
    return cleaned[:31]


def to_xlsx(report: Report) -> bytes:
    """One sheet per table (`madoguchi.lib.xlsx`: a month at a million cases is about 17,000
    cells, which openpyxl took 0.3-0.4 s to write): the header bold on dark blue and frozen,
    the tables' column widths, dates as dates (yyyy-mm-dd), numbers as numbers."""
    sheets = [
        xlsx.Sheet(
            sheet_name(table.title),
            table.headers,
            (
                [spreadsheet_safe(cell) if isinstance(cell, str) else cell for cell in row]
                for row in table.rows
            ),
            table.widths,
            header_style=xlsx.DARK_HEADER,
        )
        for table in report_tables(report)
    ]
    buffer = io.BytesIO()
    xlsx.write(buffer, sheets, title=f"{report.program.name} {report.kind_label}", creator="Madoguchi")
    return buffer.getvalue()


# --- PDF -------------------------------------------------------------------------------------------


def to_pdf(report: Report) -> bytes:
    context = {"report": report, "tables": pdf_tables(report), "font": PDF_FONT}
    return render_pdf("reports/report_pdf.html", context)


def render(report: Report, fmt: str, encoding: str = "utf-8") -> bytes:
    if fmt == "xlsx":
        return to_xlsx(report)
    if fmt == "pdf":
        return to_pdf(report)
    if fmt == "csv":
        return to_csv(report, encoding)
    raise ValueError(fmt)
