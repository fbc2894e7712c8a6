"""A report as named tables: one sheet of the XLSX each, one section of the CSV, one table of
the PDF and of the screen. Every format is written from these, so they say the same thing."""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass

from django.utils.translation import gettext as _

from madoguchi.reports.selectors import CHANNELS, STATUSES, Report

Cell = str | int | float | datetime.date | None

WEEKDAYS = "月火水木金土日"


@dataclass(frozen=True)
class Table:
    key: str
    title: str  # the sheet name (31 characters at most, no []:*?/\)
    headers: list[str]
    rows: list[list[Cell]]
    widths: list[int]
    # shown on screen and in the PDF; the detailed cross-tabulation is for the files only
    summary: bool = True

    @property
    def width_percents(self) -> list[float]:
        total = sum(self.widths) or 1
        return [round(100 * width / total, 2) for width in self.widths]

    @property
    def display_rows(self) -> list[list[tuple[str, bool]]]:
        """Each cell as (text, is_number), for the screen and the PDF (numbers right-aligned)."""
        return [
            [("" if cell is None else str(cell), isinstance(cell, int | float)) for cell in row]
            for row in self.rows
        ]


def day_label(day: datetime.date) -> str:
    return f"{day:%Y-%m-%d}（{WEEKDAYS[day.weekday()]}）"


def _days(value: float | int | None) -> Cell:
    return "—" if value is None else value


def summary_table(report: Report) -> Table:
    esc = report.escalations
    rows: list[list[Cell]] = [
        [_("事業"), report.program.name],
        [_("区"), report.program.ward.name],
        [_("種類"), report.kind_label],
        [_("期間"), f"{report.start:%Y-%m-%d} 〜 {report.end:%Y-%m-%d}"],
        [_("受付件数"), report.total],
        [_("区確認依頼件数"), esc.escalated],
        [_("区回答件数（期間内の回答）"), esc.answered],
        [_("区回答までの営業日数（中央値）"), _days(esc.median_days)],
        [_("区回答までの営業日数（90パーセンタイル）"), _days(esc.p90_days)],
        [_("区回答期限超過（期限後に回答）"), esc.answered_late],
        [_("区回答期限超過（未回答）"), esc.open_overdue],
        [_("折り返し依頼"), report.callbacks.requested],
        [_("折り返し完了"), report.callbacks.resolved],
        [_("作成日時"), f"{report.generated_at:%Y-%m-%d %H:%M}"],
    ]
    return Table("summary", _("概要"), [_("項目"), _("値")], rows, [40, 40])


def daily_table(report: Report, *, with_statuses: bool = True, with_channels: bool = True) -> Table:
    """One row per day; the PDF leaves out the status and channel columns (状態別 and 受付方法別
    have their totals)."""
    statuses = STATUSES if with_statuses else []
    channel_columns = CHANNELS if with_channels else []
    by_channel = report.by_day_and("channel")
    by_status = report.by_day_and("status")
    esc, cb = report.escalations, report.callbacks
    headers = [
        _("日付"),
        _("受付件数"),
        *[label for _value, label in channel_columns],
        *[label for _value, label in statuses],
        _("区確認依頼"),
        _("区回答"),
        _("折り返し依頼"),
        _("折り返し完了"),
    ]
    rows: list[list[Cell]] = []
    for day in report.days:
        channels: Counter[str] = by_channel.get(day) or Counter()
        day_statuses: Counter[str] = by_status.get(day) or Counter()
        rows.append(
            [
                day_label(day),
                sum(channels.values()),
                *[channels[value] for value, _label in channel_columns],
                *[day_statuses[value] for value, _label in statuses],
                esc.escalated_by_day.get(day, 0),
                esc.answered_by_day.get(day, 0),
                cb.requested_by_day.get(day, 0),
                cb.resolved_by_day.get(day, 0),
            ]
        )
    channel_totals = report.by("channel")
    status_totals = report.by("status")
    rows.append(
        [
            _("合計"),
            report.total,
            *[channel_totals.get(value, 0) for value, _label in channel_columns],
            *[status_totals.get(value, 0) for value, _label in statuses],
            esc.escalated,
            esc.answered,
            cb.requested,
            cb.resolved,
        ]
    )
    return Table("daily", _("日別"), headers, rows, [16] + [11] * (len(headers) - 1))


def _shares(report: Report, field: str, choices: list[tuple[str, str]]) -> list[list[Cell]]:
    """A row per choice: its label, its count in the period and its share (%)."""
    counts = report.by(field)
    total = report.total or 1
    return [
        [label, counts.get(value, 0), round(100 * counts.get(value, 0) / total, 1)]
        for value, label in choices
    ]


def channel_table(report: Report) -> Table:
    rows = _shares(report, "channel", CHANNELS)
    return Table("channels", _("受付方法別"), [_("受付方法"), _("件数"), _("割合（％）")], rows, [16, 10, 10])


def status_table(report: Report) -> Table:
    rows = _shares(report, "status", STATUSES)
    return Table("statuses", _("状態別"), [_("状態（現在）"), _("件数"), _("割合（％）")], rows, [16, 10, 10])


def category_table(report: Report, *, with_statuses: bool = True) -> Table:
    statuses = STATUSES if with_statuses else []
    by_status: dict[int | None, dict[str, int]] = {}
    for cell in report.cells:
        row = by_status.setdefault(cell.category_id, {})
        row[cell.status] = row.get(cell.status, 0) + cell.count
    rows: list[list[Cell]] = []
    for rank, (pk, name, count, share) in enumerate(report.top_categories(limit=1000), start=1):
        counts = by_status.get(pk, {})
        rows.append([rank, name, count, share, *[counts.get(value, 0) for value, _label in statuses]])
    headers = [_("順位"), _("分類"), _("件数"), _("割合（％）"), *[label for _v, label in statuses]]
    return Table("categories", _("分類別"), headers, rows, [6, 24, 10, 10] + [11] * len(statuses))


def answer_time_table(report: Report) -> Table:
    days = report.escalations.answer_days
    total = sum(days.values()) or 1
    rows: list[list[Cell]] = [[n, days[n], round(100 * days[n] / total, 1)] for n in sorted(days)]
    return Table(
        "answer_time",
        _("区回答日数"),
        [_("区回答までの営業日数"), _("件数"), _("割合（％）")],
        rows,
        [22, 10, 10],
    )


def operator_table(report: Report) -> Table | None:
    if report.operators is None:
        return None
    rows: list[list[Cell]] = [[row.name, row.received, row.escalated, row.closed] for row in report.operators]
    return Table(
        "operators",
        _("担当者別"),
        [_("担当者"), _("受付件数"), _("区確認依頼"), _("完了")],
        rows,
        [24, 10, 10, 10],
    )


def detail_table(report: Report) -> Table:
    channel_labels = dict(CHANNELS)
    status_labels = dict(STATUSES)
    rows: list[list[Cell]] = [
        [
            cell.day,
            channel_labels.get(cell.channel, cell.channel),
            report.category_name(cell.category_id),
            status_labels.get(cell.status, cell.status),
            cell.count,
        ]
        for cell in report.cells
    ]
    return Table(
        "detail",
        _("明細（日・受付方法・分類・状態）"),
        [_("日付"), _("受付方法"), _("分類"), _("状態"), _("件数")],
        rows,
        [12, 16, 24, 12, 8],
        summary=False,
    )


def report_tables(report: Report) -> list[Table]:
    tables = [
        summary_table(report),
        daily_table(report),
        status_table(report),
        category_table(report),
        answer_time_table(report),
        operator_table(report),
        detail_table(report),
    ]
    return [table for table in tables if table is not None]


def pdf_tables(report: Report) -> list[Table]:
    """The PDF's tables: the summary ones, the daily table without its channel and status
    columns and the category table without its status columns (受付方法別 and 状態別 have the
    totals; the XLSX and CSV have every cross-tabulation). A4 stays readable, and WeasyPrint's
    time grows with the number of cells: about a millisecond of CPU each (docs/benchmarks.md)."""
    tables = [
        summary_table(report),
        daily_table(report, with_statuses=False, with_channels=False),
        channel_table(report),
        status_table(report),
        category_table(report, with_statuses=False),
        answer_time_table(report),
        operator_table(report),
    ]
    return [table for table in tables if table is not None]
