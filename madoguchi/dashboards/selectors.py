"""The dashboards' figures: a fixed number of counting queries per dashboard, whatever the data size.

Every query is scoped to the programs the user may view (`programs.scoping`), and groups on
the database (COUNT ... GROUP BY) so no case row travels to Python except the short list of
the ward's oldest waiting cases. Which figure a role gets is decided here (`figures_for`),
not in the template: a role that may not see a figure does not get its numbers computed.

Callbacks are counted by `callback_deadline_filters`, the one place that knows what "a
callback due today" means; it reads the status (折り返し待ち) and when the case went there
until the case model carries a callback due time.
"""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Coalesce, ExtractHour, TruncDate
from django.utils import timezone

from madoguchi.accounts.models import Role
from madoguchi.cases.business_days import business_days_between
from madoguchi.cases.models import Case, Category, Channel, Status
from madoguchi.programs.scoping import can, programs_for

JST = zoneinfo.ZoneInfo("Asia/Tokyo")
WAITING_LIMIT = 20
OPEN_STATUSES = (Status.NEW, Status.IN_PROGRESS, Status.ESCALATED, Status.WARD_ANSWERED, Status.CALLBACK)


# --- what each role sees ---------------------------------------------------------------------------

OPERATOR_FIGURES = ("my_open", "my_callbacks", "my_answers")
SUPERVISOR_FIGURES = ("intake_today", "backlog", "past_deadline", "load", "web_waiting")
WARD_FIGURES = ("ward_waiting", "answered_week", "by_category", "by_channel", "trend")
MANAGER_EXTRA = ("load", "past_deadline")


def figures_for(user: Any) -> tuple[str, ...]:
    """The figures of the user's dashboard. Per-operator load is for the supervisor and the
    ward manager only (it names staff and measures their work)."""
    if not can(user, "view"):
        return ()
    role = user.role
    if role == Role.OPERATOR:
        return OPERATOR_FIGURES
    if role == Role.SUPERVISOR:
        return SUPERVISOR_FIGURES
    if role == Role.WARD_STAFF:
        return WARD_FIGURES
    if role == Role.WARD_MANAGER:
        return WARD_FIGURES + MANAGER_EXTRA
    return ()


# --- time helpers ----------------------------------------------------------------------------------


def day_start(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=JST)


def week_start(today: datetime.date) -> datetime.date:
    return today - datetime.timedelta(days=today.weekday())


def callback_deadline_filters(today: datetime.date) -> tuple[Q, Q]:
    """(due today, overdue) among the cases waiting for a callback.

    Until cases carry a callback due time, a callback is due on the day the case was put in
    折り返し待ち (the ward's answer, else the last change): due today when that is today,
    overdue when it is an earlier day. Point this function at the due time when it exists.
    """
    waiting = Q(status=Status.CALLBACK)
    start = day_start(today)
    return waiting & Q(callback_since__gte=start), waiting & Q(callback_since__lt=start)


def with_callback_since(rows: QuerySet[Case]) -> QuerySet[Case]:
    return rows.annotate(callback_since=Coalesce(F("ward_answered_at"), F("updated_at")))


# --- figures -----------------------------------------------------------------------------------------


@dataclass
class Count1:
    """One number with the list it counts."""

    label: str
    value: int
    url: str = ""


@dataclass
class WaitingRow:
    public_id: Any
    receipt_number: str
    category: str
    escalated_at: datetime.datetime | None
    ward_due_on: datetime.date | None
    waited_business_days: int
    overdue: bool


@dataclass
class Dashboard:
    role: str
    figures: tuple[str, ...]
    today: datetime.date
    program_ids: list[int] = field(default_factory=list)
    # operator
    my_open: dict[str, int] = field(default_factory=dict)
    my_callbacks_today: int = 0
    my_callbacks_overdue: int = 0
    my_answers: int = 0
    # supervisor
    intake_by_hour: dict[tuple[int, str], int] = field(default_factory=dict)
    backlog: dict[str, int] = field(default_factory=dict)
    ward_overdue: int = 0
    callbacks_overdue: int = 0
    load: list[tuple[int, str, int]] = field(default_factory=list)
    web_waiting: int = 0
    # ward
    ward_waiting: list[WaitingRow] = field(default_factory=list)
    ward_waiting_count: int = 0
    answered_week: int = 0
    by_category: list[tuple[int | None, str, int]] = field(default_factory=list)
    by_channel: dict[str, int] = field(default_factory=dict)
    trend: list[tuple[datetime.date, int]] = field(default_factory=list)
    trend_start: datetime.date | None = None


def dashboard_for(user: Any, *, today: datetime.date | None = None) -> Dashboard:
    """Everything the user's dashboard shows, in a fixed number of queries."""
    today = today or timezone.localdate()
    figures = figures_for(user)
    board = Dashboard(role=str(getattr(user, "role", "")), figures=figures, today=today)
    if not figures:
        return board
    programs = list(programs_for(user, "view").values_list("id", "recording_start"))
    board.program_ids = [pk for pk, _ in programs]
    if not programs:
        return board
    rows = Case.objects.filter(program_id__in=board.program_ids)
    if "my_open" in figures:
        _operator(board, rows.filter(assignee_id=user.pk), today)
    if "intake_today" in figures:
        _intake(board, rows, today)
    if "backlog" in figures or "load" in figures:
        _backlog_and_load(board, rows, figures)
    if "past_deadline" in figures or "web_waiting" in figures:
        _deadlines(board, rows, today)
    if "ward_waiting" in figures:
        _ward(board, rows, today, start=min(start for _, start in programs))
    return board


def _operator(board: Dashboard, mine: QuerySet[Case], today: datetime.date) -> None:
    open_rows = mine.filter(status__in=OPEN_STATUSES).values("status").annotate(n=Count("id")).order_by()
    board.my_open = {row["status"]: row["n"] for row in open_rows}
    due_today, overdue = callback_deadline_filters(today)
    totals = (
        with_callback_since(mine.filter(status=Status.CALLBACK))
        .order_by()
        .aggregate(
            today=Count("id", filter=due_today),
            overdue=Count("id", filter=overdue),
            answers=Count("id", filter=Q(escalated_at__isnull=False)),
        )
    )
    board.my_callbacks_today = totals["today"] or 0
    board.my_callbacks_overdue = totals["overdue"] or 0
    board.my_answers = totals["answers"] or 0


def _intake(board: Dashboard, rows: QuerySet[Case], today: datetime.date) -> None:
    start = day_start(today)
    intake = (
        rows.filter(received_at__gte=start, received_at__lt=start + datetime.timedelta(days=1))
        .annotate(hour=ExtractHour("received_at", tzinfo=JST))
        .values("hour", "channel")
        .annotate(n=Count("id"))
        .order_by()
    )
    board.intake_by_hour = {(row["hour"], row["channel"]): row["n"] for row in intake}


def _backlog_and_load(board: Dashboard, rows: QuerySet[Case], figures: tuple[str, ...]) -> None:
    open_rows = rows.filter(status__in=OPEN_STATUSES)
    if "backlog" in figures:
        backlog = open_rows.values("status").annotate(n=Count("id")).order_by()
        board.backlog = {row["status"]: row["n"] for row in backlog}
    if "load" in figures:
        load = (
            open_rows.filter(assignee__isnull=False)
            .values("assignee_id", "assignee__display_name", "assignee__username")
            .annotate(n=Count("id"))
            .order_by("-n", "assignee__username")
        )
        board.load = [
            (row["assignee_id"], row["assignee__display_name"] or row["assignee__username"], row["n"])
            for row in load
        ]


def _deadlines(board: Dashboard, rows: QuerySet[Case], today: datetime.date) -> None:
    _, callback_overdue = callback_deadline_filters(today)
    totals = (
        with_callback_since(
            rows.filter(
                Q(status=Status.ESCALATED, ward_due_on__lt=today)
                | Q(status=Status.CALLBACK)
                | Q(status=Status.NEW, channel=Channel.FORM)
            )
        )
        .order_by()
        .aggregate(
            ward=Count("id", filter=Q(status=Status.ESCALATED)),
            callbacks=Count("id", filter=callback_overdue),
            web=Count("id", filter=Q(status=Status.NEW, channel=Channel.FORM)),
        )
    )
    board.ward_overdue = totals["ward"] or 0
    board.callbacks_overdue = totals["callbacks"] or 0
    board.web_waiting = totals["web"] or 0


def _ward(board: Dashboard, rows: QuerySet[Case], today: datetime.date, *, start: datetime.date) -> None:
    waiting = rows.filter(status=Status.ESCALATED)
    oldest = (
        waiting.select_related("category")
        .only("public_id", "receipt_number", "category__name", "escalated_at", "ward_due_on")
        .order_by("escalated_at", "id")[:WAITING_LIMIT]
    )
    board.ward_waiting = [
        WaitingRow(
            public_id=case.public_id,
            receipt_number=case.receipt_number,
            category=case.category.name if case.category else "",
            escalated_at=case.escalated_at,
            ward_due_on=case.ward_due_on,
            waited_business_days=(
                business_days_between(timezone.localtime(case.escalated_at).date(), today)
                if case.escalated_at
                else 0
            ),
            overdue=bool(case.ward_due_on and case.ward_due_on < today),
        )
        for case in oldest
    ]
    totals = waiting.order_by().aggregate(n=Count("id"), overdue=Count("id", filter=Q(ward_due_on__lt=today)))
    board.ward_waiting_count = totals["n"] or 0
    board.ward_overdue = totals["overdue"] or 0
    board.answered_week = rows.filter(ward_answered_at__gte=day_start(week_start(today))).order_by().count()
    # One pass over the program's cases gives the trend, the categories and the channels:
    # counts per (day, channel, category), a few thousand groups at most.
    board.trend_start = start
    grouped = (
        rows.filter(
            received_at__gte=day_start(start), received_at__lt=day_start(today + datetime.timedelta(1))
        )
        .annotate(day=TruncDate("received_at", tzinfo=JST))
        .values("day", "channel", "category_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    per_day: dict[datetime.date, int] = {}
    per_category: dict[int | None, int] = {}
    per_channel: dict[str, int] = {}
    for row in grouped:
        per_day[row["day"]] = per_day.get(row["day"], 0) + row["n"]
        per_category[row["category_id"]] = per_category.get(row["category_id"], 0) + row["n"]
        per_channel[row["channel"]] = per_channel.get(row["channel"], 0) + row["n"]
    names = dict(
        Category.objects.filter(program_id__in=board.program_ids)
        .order_by("order", "id")
        .values_list("id", "name")
    )
    board.by_category = [(pk, name, per_category.get(pk, 0)) for pk, name in names.items()]
    if per_category.get(None):
        board.by_category.append((None, "", per_category[None]))
    board.by_channel = {channel: per_channel.get(channel, 0) for channel in Channel.values}
    days = (today - start).days + 1
    board.trend = [
        (start + datetime.timedelta(days=i), per_day.get(start + datetime.timedelta(days=i), 0))
        for i in range(max(days, 0))
    ]
