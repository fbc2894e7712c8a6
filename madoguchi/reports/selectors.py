"""The figures of a program's report (日報・週報・月報・期間指定), as plain functions over aggregates.

A report reads only columns that the end-of-program erasure keeps (docs/reports.md lists them):
dates and times, channel, category, status, assignee, escalation and answer times, and the
kind and statuses of timeline entries. It never reads a name, a contact or a free text, so a
report on a program before and after its erasure is identical.

`build_report` makes a fixed number of queries whatever the data size (REPORT_QUERIES, one
more with the per-operator section): each is a GROUP BY the database answers through an index
on the period's range, and the rest (business days, median, 90th percentile, top categories,
the tables) is computed here from the aggregated rows.
"""

from __future__ import annotations

import calendar
import datetime
import functools
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, DateTimeField, Func, Q
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from madoguchi.cases.business_days import business_days_between
from madoguchi.cases.models import Case, Category, Channel, Status, TimelineEntry
from madoguchi.programs.models import Program

REPORT_QUERIES = 5
TOP_CATEGORIES = 10
NO_CATEGORY = gettext_lazy("（未分類）")

# Translated where shown (`Report.kind_label`); marked here for makemessages.
KINDS = {
    "daily": gettext_noop("日報"),
    "weekly": gettext_noop("週報"),
    "monthly": gettext_noop("月報"),
    "range": gettext_noop("期間指定"),
}


# --- the period ------------------------------------------------------------------------------------


def period_for(kind: str, day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """日報: the day; 週報: Monday to Sunday of its week; 月報: its calendar month."""
    if kind == "daily":
        return day, day
    if kind == "weekly":
        start = day - datetime.timedelta(days=day.weekday())
        return start, start + datetime.timedelta(days=6)
    if kind == "monthly":
        last = calendar.monthrange(day.year, day.month)[1]
        return day.replace(day=1), day.replace(day=last)
    raise ValueError(kind)


def kind_of(start: datetime.date, end: datetime.date) -> str:
    for kind in ("daily", "weekly", "monthly"):
        if period_for(kind, start) == (start, end):
            return kind
    return "range"


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class LocalDay(TruncDate):
    """The local day of a timestamp, grouped on. On PostgreSQL with a zone of one fixed offset
    (Asia/Tokyo), `date_bin` into days that start at local midnight: plain arithmetic, where
    `AT TIME ZONE` looks the zone up for every row (a month at 1,000,000 cases: 130,000 rows,
    about 40 % of the period's count query). The database then returns the day's first
    instant, and `as_day` turns it into the date. Elsewhere, `TruncDate`."""

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        origin = _fixed_midnight()
        if origin is None:
            return super().as_sql(compiler, connection, **extra)
        bins = Func(
            self.get_source_expressions()[0],
            function="date_bin",
            template=f"%(function)s(INTERVAL '1 day', %(expressions)s, TIMESTAMPTZ '{origin}')",
            output_field=DateTimeField(),
        )
        return compiler.compile(bins)

    def convert_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return value


def _fixed_midnight() -> str | None:
    """A local midnight as an ISO timestamp when the current zone never changes its offset
    (no daylight saving), else None."""
    zone = timezone.get_current_timezone()
    winter = zone.utcoffset(datetime.datetime(2000, 1, 1))
    if winter is None or winter != zone.utcoffset(datetime.datetime(2000, 7, 1)):
        return None
    return datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone(winter)).isoformat()


def as_day(value: Any) -> Any:
    """A `LocalDay` value as the local date (PostgreSQL gives the day's first instant)."""
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).date()
    return value


def days_of(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    return [start + datetime.timedelta(days=n) for n in range((end - start).days + 1)]


# --- statistics ------------------------------------------------------------------------------------


def weighted_median(values: Counter[int]) -> float | None:
    """The median of a multiset given as value -> count (mean of the two middle values when even)."""
    total = sum(values.values())
    if total == 0:
        return None
    ordered = sorted(values.items())

    def nth(n: int) -> int:  # 1-based
        seen = 0
        for value, count in ordered:
            seen += count
            if seen >= n:
                return value
        return ordered[-1][0]

    if total % 2:
        return float(nth(total // 2 + 1))
    return (nth(total // 2) + nth(total // 2 + 1)) / 2


def weighted_percentile(values: Counter[int], percent: int) -> int | None:
    """Nearest-rank percentile: the smallest value with at least `percent`% of the values at or below it."""
    total = sum(values.values())
    if total == 0:
        return None
    rank = max(1, math.ceil(percent * total / 100))
    seen = 0
    for value, count in sorted(values.items()):
        seen += count
        if seen >= rank:
            return value
    return None


@functools.lru_cache(maxsize=4096)
def _business_days(start: datetime.date, end: datetime.date) -> int:
    return business_days_between(start, end)


# --- the report --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CountCell:
    day: datetime.date
    channel: str
    category_id: int | None
    status: str
    count: int


@dataclass
class EscalationFigures:
    escalated: int = 0
    # answers given in the period, and their time in business days (escalation day -> answer day)
    answered: int = 0
    median_days: float | None = None
    p90_days: int | None = None
    answer_days: Counter[int] = field(default_factory=Counter)
    # escalations of the period answered after their deadline, or still unanswered past it
    answered_late: int = 0
    open_overdue: int = 0
    escalated_by_day: Counter[datetime.date] = field(default_factory=Counter)
    answered_by_day: Counter[datetime.date] = field(default_factory=Counter)

    @property
    def overdue(self) -> int:
        return self.answered_late + self.open_overdue


@dataclass
class CallbackFigures:
    requested: int = 0
    resolved: int = 0
    requested_by_day: Counter[datetime.date] = field(default_factory=Counter)
    resolved_by_day: Counter[datetime.date] = field(default_factory=Counter)


@dataclass(frozen=True)
class OperatorRow:
    name: str
    received: int
    escalated: int
    closed: int


@dataclass
class Report:
    program: Program
    start: datetime.date
    end: datetime.date
    as_of: datetime.date
    generated_at: datetime.datetime
    categories: dict[int | None, str]
    cells: list[CountCell]
    escalations: EscalationFigures
    callbacks: CallbackFigures
    operators: list[OperatorRow] | None = None

    @property
    def kind(self) -> str:
        return kind_of(self.start, self.end)

    @property
    def kind_label(self) -> str:
        return _(KINDS[self.kind])

    @property
    def days(self) -> list[datetime.date]:
        return days_of(self.start, self.end)

    @property
    def total(self) -> int:
        return sum(cell.count for cell in self.cells)

    def category_name(self, category_id: int | None) -> str:
        if category_id in self.categories:
            return self.categories[category_id]
        return str(NO_CATEGORY)

    def by(self, attribute: str) -> Counter[Any]:
        counts: Counter[Any] = Counter()
        for cell in self.cells:
            counts[getattr(cell, attribute)] += cell.count
        return counts

    def by_day_and(self, attribute: str) -> dict[datetime.date, Counter[Any]]:
        table: dict[datetime.date, Counter[Any]] = defaultdict(Counter)
        for cell in self.cells:
            table[cell.day][getattr(cell, attribute)] += cell.count
        return table

    def top_categories(self, limit: int = TOP_CATEGORIES) -> list[tuple[int | None, str, int, float]]:
        """(id, name, count, share in percent), most frequent first; ties in the program's order."""
        counts = self.by("category_id")
        order = {pk: index for index, pk in enumerate(self.categories)}
        ranked = sorted(counts.items(), key=lambda item: (-item[1], order.get(item[0], len(order))))
        total = self.total or 1
        return [(pk, self.category_name(pk), n, round(100 * n / total, 1)) for pk, n in ranked[:limit]]


CHANNELS: list[tuple[str, str]] = [(str(value), str(label)) for value, label in Channel.choices]
STATUSES: list[tuple[str, str]] = [(str(value), str(label)) for value, label in Status.choices]


def build_report(
    program: Program,
    start: datetime.date,
    end: datetime.date,
    *,
    with_operators: bool,
    today: datetime.date | None = None,
) -> Report:
    """Every figure of the report on `program` for the days start..end (inclusive)."""
    if end < start:
        raise ValueError("end before start")
    today = today or timezone.localdate()
    as_of = min(end, today)
    since, until = _day_start(start), _day_start(end + datetime.timedelta(days=1))
    cases = Case.objects.filter(program_id=program.pk).order_by()

    categories: dict[int | None, str] = dict(
        Category.objects.filter(program_id=program.pk).order_by("order", "id").values_list("id", "name")
    )
    cells = sorted(
        (
            CountCell(as_day(row["day"]), row["channel"], row["category_id"], row["status"], row["n"])
            for row in cases.filter(received_at__gte=since, received_at__lt=until)
            .annotate(day=LocalDay("received_at"))
            .values("day", "channel", "category_id", "status")
            # COUNT(*), not COUNT(id): every column read is in `report_case_received`, so the
            # period is an index-only scan (reports/indexes.py); the operators' counts likewise.
            .annotate(n=Count("*"))
            # Unordered: with an ORDER BY, PostgreSQL sorted the month's 130,000 index entries
            # (on disk, past work_mem) to group them; without, it hashes them into the few
            # thousand groups, which are sorted here (no category last, as ORDER BY did).
        ),
        key=lambda cell: (
            cell.day,
            cell.channel,
            cell.category_id is None,
            cell.category_id or 0,
            cell.status,
        ),
    )
    escalations = _escalations(cases, since, until, as_of)
    callbacks = _callbacks(program, since, until)
    operators = _operators(cases, since, until) if with_operators else None
    return Report(
        program=program,
        start=start,
        end=end,
        as_of=as_of,
        generated_at=timezone.localtime(),
        categories=categories,
        cells=cells,
        escalations=escalations,
        callbacks=callbacks,
        operators=operators,
    )


def _escalations(
    cases: Any, since: datetime.datetime, until: datetime.datetime, as_of: datetime.date
) -> EscalationFigures:
    """One query: escalations of the period and answers given in the period, grouped by
    (escalation day, answer day, deadline) and flagged by which of the two they belong to."""
    figures = EscalationFigures()
    in_escalated = Q(escalated_at__gte=since, escalated_at__lt=until)
    in_answered = Q(ward_answered_at__gte=since, ward_answered_at__lt=until)
    rows = (
        cases.filter(in_escalated | in_answered)
        .annotate(esc_day=LocalDay("escalated_at"), ans_day=LocalDay("ward_answered_at"))
        .values("esc_day", "ans_day", "ward_due_on")
        .annotate(
            escalated=Count("id", filter=in_escalated),
            answered=Count("id", filter=in_answered),
        )
    )
    for row in rows:
        esc_day, ans_day, due = as_day(row["esc_day"]), as_day(row["ans_day"]), row["ward_due_on"]
        if row["escalated"]:
            n = row["escalated"]
            figures.escalated += n
            figures.escalated_by_day[esc_day] += n
            if due is not None:
                if ans_day is not None and ans_day <= as_of:
                    if ans_day > due:
                        figures.answered_late += n
                elif due < as_of:
                    figures.open_overdue += n
        if row["answered"] and esc_day is not None:
            n = row["answered"]
            figures.answered += n
            figures.answered_by_day[ans_day] += n
            figures.answer_days[_business_days(esc_day, ans_day)] += n
    figures.median_days = weighted_median(figures.answer_days)
    figures.p90_days = weighted_percentile(figures.answer_days, 90)
    return figures


def _callbacks(program: Program, since: datetime.datetime, until: datetime.datetime) -> CallbackFigures:
    """One query on the timeline: moves into 折り返し待ち (requested) and out of it (resolved)."""
    figures = CallbackFigures()
    into = Q(to_status=Status.CALLBACK)
    out_of = Q(from_status=Status.CALLBACK)
    rows = (
        TimelineEntry.objects.filter(
            into | out_of, created_at__gte=since, created_at__lt=until, case__program_id=program.pk
        )
        .exclude(kind=TimelineEntry.Kind.CORRECTION)
        .annotate(day=LocalDay("created_at"))
        .values("day")
        .annotate(requested=Count("id", filter=into), resolved=Count("id", filter=out_of))
        .order_by()
    )
    for row in rows:
        row["day"] = as_day(row["day"])
        figures.requested += row["requested"]
        figures.resolved += row["resolved"]
        figures.requested_by_day[row["day"]] += row["requested"]
        figures.resolved_by_day[row["day"]] += row["resolved"]
    return figures


def _operators(cases: Any, since: datetime.datetime, until: datetime.datetime) -> list[OperatorRow]:
    """Cases received in the period per assignee (the staff member, not a personal item)."""
    rows = (
        cases.filter(received_at__gte=since, received_at__lt=until)
        .values("assignee_id", "assignee__display_name", "assignee__username")
        .annotate(
            # received_at (never null) rather than id: a column of the covering index
            received=Count("received_at"),
            escalated=Count("received_at", filter=Q(escalated_at__isnull=False)),
            closed=Count("received_at", filter=Q(status=Status.CLOSED)),
        )
        .order_by("-received", "assignee__username")
    )
    return [
        OperatorRow(
            name=(row["assignee__display_name"] or row["assignee__username"] or _("（担当者なし）")),
            received=row["received"],
            escalated=row["escalated"],
            closed=row["closed"],
        )
        for row in rows
    ]
