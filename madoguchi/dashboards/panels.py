"""The dashboard's panels: each figure as numbers, an optional SVG chart and the same numbers
as a table, every number linked to the case list it counts.

The links carry only filters that hold no personal value (status, channel, category id,
dates, the user's own "mine", an assignee's id), so they may travel in a URL.
"""

from __future__ import annotations

import datetime
import html
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from madoguchi.cases.models import Channel, Status
from madoguchi.dashboards import charts
from madoguchi.dashboards.selectors import OPEN_STATUSES, Dashboard, is_shared, week_start


@dataclass
class Cell:
    text: str
    url: str = ""
    numeric: bool = False
    strong: bool = False


@dataclass
class Panel:
    key: str
    title: str
    lead: str = ""
    numbers: list[Cell] = field(default_factory=list)
    number_labels: list[str] = field(default_factory=list)
    chart: SafeString | None = None
    headers: list[str] = field(default_factory=list)
    rows: list[list[Cell]] = field(default_factory=list)
    empty: str = ""
    more_url: str = ""
    more_label: str = ""

    @property
    def figures(self) -> list[tuple[str, Cell]]:
        return list(zip(self.number_labels, self.numbers, strict=True))

    @property
    def rows_html(self) -> SafeString:
        """The table's rows, the first cell a row header, each number linked to its list.

        Written here rather than as a template loop: the daily trend has a row per day of the
        program (hundreds), and the template engine's nested loop cost more than the SQL of
        the whole dashboard (docs/benchmarks.md)."""
        return SafeString(
            "".join(
                "<tr>"
                + "".join(_cell_html(cell, header=index == 0) for index, cell in enumerate(row))
                + "</tr>"
                for row in self.rows
            )
        )


def _cell_html(cell: Cell, *, header: bool) -> str:
    # html.escape is what django.utils.html.escape calls, without its lazy-string wrapper:
    # this runs for every cell of a table of hundreds of rows.
    text = html.escape(cell.text)
    if cell.url:
        text = f'<a href="{html.escape(cell.url)}">{text}</a>'
    if cell.strong:
        text = f"<strong>{text}</strong>"
    if header:
        return f'<th scope="row">{text}</th>'
    return f'<td class="num">{text}</td>' if cell.numeric else f"<td>{text}</td>"


def case_list(**filters: Any) -> str:
    query = {key: value for key, value in filters.items() if value not in (None, "", False)}
    for key, value in list(query.items()):
        if value is True:
            query[key] = "on"
        elif isinstance(value, datetime.date):
            query[key] = value.isoformat()
    base = reverse("cases:list")
    return f"{base}?{urlencode(query)}" if query else base


def num(value: int, url: str = "", *, strong: bool = False) -> Cell:
    return Cell(f"{value:,}", url, numeric=True, strong=strong)


# The rendered panels of the shared boards this process showed last, by board (its `stamp`),
# language and time zone: a shared board is the same for every viewer for FIGURES_MAX_AGE
# seconds, so its panels (hundreds of table cells, charts, links) are built and rendered once
# per process in that time instead of at every view. Bounded: the oldest is dropped.
_RENDERED: dict[tuple[str, str, str], SafeString] = {}
# gunicorn's threads share the dict: dropping the oldest iterates it.
_RENDERED_LOCK = threading.Lock()
RENDERED_KEPT = 32


def panels_html(board: Dashboard) -> SafeString:
    """`dashboards/_panels.html` with the board's panels: made once per shared board (and
    language) in this process; an operator's own board is made at every view."""
    if not is_shared(board):
        return _render_panels(board)
    key = (board.stamp, translation.get_language() or "", timezone.get_current_timezone_name())
    html = _RENDERED.get(key)
    if html is None:
        html = _render_panels(board)
        with _RENDERED_LOCK:
            while len(_RENDERED) >= RENDERED_KEPT:
                _RENDERED.pop(next(iter(_RENDERED)), None)
            _RENDERED[key] = html
    return html


def _render_panels(board: Dashboard) -> SafeString:
    # Without the request: the fragment shows the board only (no CSRF token, no navigation).
    return SafeString(
        render_to_string("dashboards/_panels.html", {"board": board, "panels": panels_for(board)})
    )


def panels_for(board: Dashboard) -> list[Panel]:
    builders = {
        "my_open": _my_open,
        "my_callbacks": _my_callbacks,
        "my_answers": _my_answers,
        "intake_today": _intake_today,
        "backlog": _backlog,
        "past_deadline": _past_deadline,
        "load": _load,
        "web_waiting": _web_waiting,
        "ward_waiting": _ward_waiting,
        "answered_week": _answered_week,
        "by_category": _by_category,
        "by_channel": _by_channel,
        "trend": _trend,
    }
    return [builders[name](board) for name in board.figures]


def _status_rows(counts: dict[str, int], **filters: Any) -> list[list[Cell]]:
    return [
        [Cell(str(Status(status).label)), num(counts.get(status, 0), case_list(status=status, **filters))]
        for status in OPEN_STATUSES
    ]


def _my_open(board: Dashboard) -> Panel:
    total = sum(board.my_open.values())
    rows = _status_rows(board.my_open, mine=True)
    return Panel(
        key="my_open",
        title=_("自分の担当の未完了"),
        number_labels=[_("未完了")],
        numbers=[num(total, case_list(mine=True, open=True), strong=True)],
        chart=charts.bars(
            "chart-my-open",
            _("自分の担当の未完了（状態別）。数値は隣の表にもあります。"),
            [(str(Status(s).label), board.my_open.get(s, 0)) for s in OPEN_STATUSES],
        ),
        headers=[_("状態"), _("件数")],
        rows=rows,
    )


def _my_callbacks(board: Dashboard) -> Panel:
    return Panel(
        key="my_callbacks",
        title=_("折り返し（自分の担当）"),
        number_labels=[_("本日が期限"), _("期限超過")],
        numbers=[
            num(board.my_callbacks_today, case_list(mine=True, callback="due_today")),
            num(board.my_callbacks_overdue, case_list(mine=True, callback="overdue"), strong=True),
        ],
        more_url=reverse("cases:queue", args=[Status.CALLBACK]),
        more_label=_("折り返し待ちの一覧（待ち時間の長い順）"),
    )


def _my_answers(board: Dashboard) -> Panel:
    return Panel(
        key="my_answers",
        title=_("区から回答が戻った問い合わせ"),
        lead=_("自分の担当で、区の回答を受けて折り返しを待っているもの。"),
        number_labels=[_("回答あり")],
        numbers=[
            num(
                board.my_answers,
                case_list(mine=True, status=Status.CALLBACK, answered_from=board.trend_start),
            )
        ],
    )


def _intake_today(board: Dashboard) -> Panel:
    hours = sorted({hour for hour, _channel in board.intake_by_hour} | set(range(8, 21)))
    series = [
        charts.Series(
            str(channel.label), [board.intake_by_hour.get((hour, channel.value), 0) for hour in hours]
        )
        for channel in Channel
    ]
    today = board.today
    headers = [_("時台"), *[str(channel.label) for channel in Channel], _("計")]
    rows = []
    for i, hour in enumerate(hours):
        values = [one.values[i] for one in series]
        rows.append([Cell(_("%(hour)d時") % {"hour": hour}), *[num(v) for v in values], num(sum(values))])
    per_channel = [
        num(sum(one.values), case_list(channel=channel.value, date_from=today, date_to=today))
        for one, channel in zip(series, Channel, strict=True)
    ]
    total = sum(sum(one.values) for one in series)
    rows.append(
        [Cell(_("計"), strong=True), *per_channel, num(total, case_list(date_from=today, date_to=today))]
    )
    return Panel(
        key="intake_today",
        title=_("本日の受付（時間帯別・受付方法別）"),
        number_labels=[_("本日の受付")],
        numbers=[num(total, case_list(date_from=today, date_to=today), strong=True)],
        chart=charts.stacked_columns(
            "chart-intake",
            _("本日の受付件数を時間帯別・受付方法別に積み上げた棒グラフ。数値は隣の表にもあります。"),
            [str(hour) for hour in hours],
            series,
        ),
        headers=headers,
        rows=rows,
    )


def _backlog(board: Dashboard) -> Panel:
    return Panel(
        key="backlog",
        title=_("未完了の状態別件数"),
        number_labels=[_("未完了")],
        numbers=[num(sum(board.backlog.values()), case_list(open=True), strong=True)],
        chart=charts.bars(
            "chart-backlog",
            _("未完了の問い合わせの状態別件数。数値は隣の表にもあります。"),
            [(str(Status(s).label), board.backlog.get(s, 0)) for s in OPEN_STATUSES],
        ),
        headers=[_("状態"), _("件数")],
        rows=_status_rows(board.backlog),
    )


def _past_deadline(board: Dashboard) -> Panel:
    return Panel(
        key="past_deadline",
        title=_("期限を過ぎたもの"),
        number_labels=[_("区回答の期限超過"), _("折り返しの期限超過")],
        numbers=[
            num(board.ward_overdue, case_list(overdue=True), strong=True),
            num(board.callbacks_overdue, case_list(callback="overdue"), strong=True),
        ],
    )


def _load(board: Dashboard) -> Panel:
    rows = [[Cell(name), num(count, case_list(assignee=pk, open=True))] for pk, name, count in board.load]
    return Panel(
        key="load",
        title=_("担当者別の未完了件数"),
        chart=charts.bars(
            "chart-load",
            _("担当者別の未完了件数。数値は隣の表にもあります。"),
            [(name, count) for _pk, name, count in board.load[:15]],
        )
        if board.load
        else None,
        headers=[_("担当者"), _("未完了")],
        rows=rows,
        empty=_("担当者の決まった未完了の問い合わせはありません。"),
    )


def _web_waiting(board: Dashboard) -> Panel:
    return Panel(
        key="web_waiting",
        title=_("未着手のWeb問い合わせ"),
        number_labels=[_("未着手")],
        numbers=[num(board.web_waiting, case_list(channel=Channel.FORM, status=Status.NEW), strong=True)],
    )


def _ward_waiting(board: Dashboard) -> Panel:
    detail = reverse("cases:list")
    rows = [
        [
            Cell(row.receipt_number, f"{detail}{row.public_id}/"),
            Cell(row.category or "—"),
            Cell(f"{row.escalated_at:%Y-%m-%d %H:%M}" if row.escalated_at else "—"),
            num(row.waited_business_days),
            Cell(
                (f"{row.ward_due_on:%Y-%m-%d}" if row.ward_due_on else "—")
                + (" " + _("期限超過") if row.overdue else ""),
                strong=row.overdue,
            ),
        ]
        for row in board.ward_waiting
    ]
    return Panel(
        key="ward_waiting",
        title=_("区の回答待ち"),
        lead=_("依頼の古い順に最大20件。経過は営業日（土日祝を除く）。"),
        number_labels=[_("回答待ち"), _("うち期限超過")],
        numbers=[
            num(board.ward_waiting_count, case_list(status=Status.ESCALATED), strong=True),
            num(board.ward_overdue, case_list(overdue=True)),
        ],
        headers=[_("受付番号"), _("分類"), _("依頼日時"), _("経過（営業日）"), _("期限")],
        rows=rows,
        empty=_("区の回答を待っている問い合わせはありません。"),
        more_url=reverse("cases:queue", args=[Status.ESCALATED]),
        more_label=_("区確認待ちの一覧"),
    )


def _answered_week(board: Dashboard) -> Panel:
    monday = week_start(board.today)
    return Panel(
        key="answered_week",
        title=_("今週の区回答"),
        lead=_("%(day)s（月）以降に区が回答した件数。") % {"day": f"{monday:%Y-%m-%d}"},
        number_labels=[_("回答済")],
        numbers=[num(board.answered_week, case_list(answered_from=monday), strong=True)],
    )


def _by_category(board: Dashboard) -> Panel:
    rows = [
        [Cell(name or _("（未分類）")), num(count, case_list(category=pk) if pk else "")]
        for pk, name, count in board.by_category
    ]
    return Panel(
        key="by_category",
        title=_("分類別の件数（事業期間）"),
        chart=charts.bars(
            "chart-category",
            _("分類別の問い合わせ件数。数値は隣の表にもあります。"),
            [(name or _("（未分類）"), count) for _pk, name, count in board.by_category],
        ),
        headers=[_("分類"), _("件数")],
        rows=rows,
    )


def _by_channel(board: Dashboard) -> Panel:
    return Panel(
        key="by_channel",
        title=_("受付方法別の件数（事業期間）"),
        chart=charts.bars(
            "chart-channel",
            _("受付方法別の問い合わせ件数。数値は隣の表にもあります。"),
            [(str(Channel(c).label), n) for c, n in board.by_channel.items()],
        ),
        headers=[_("受付方法"), _("件数")],
        rows=[
            [Cell(str(Channel(c).label)), num(n, case_list(channel=c))] for c, n in board.by_channel.items()
        ],
    )


def _trend(board: Dashboard) -> Panel:
    # A row per day of the program (hundreds): the day's link is written here, the same
    # string as case_list(date_from=day, date_to=day) without a reverse() and urlencode per day.
    base = reverse("cases:list")
    rows = []
    for day, count in reversed(board.trend):
        iso = day.isoformat()
        rows.append([Cell(iso), num(count, f"{base}?date_from={iso}&date_to={iso}")])
    return Panel(
        key="trend",
        title=_("日別の受付件数（事業開始から）"),
        number_labels=[_("累計")],
        numbers=[num(sum(count for _day, count in board.trend), case_list(date_from=board.trend_start))],
        chart=charts.line(
            "chart-trend",
            _("事業開始から本日までの日別受付件数の折れ線グラフ。数値は隣の表にもあります。"),
            [(f"{day:%m/%d}", count) for day, count in board.trend],
        ),
        headers=[_("日付"), _("受付件数")],
        rows=rows,
    )
