"""The dashboards' figures: a fixed number of counting queries per dashboard, whatever the data size.

Every query is scoped to the programs the user may view (`programs.scoping`), and groups on
the database (COUNT ... GROUP BY) so no case row travels to Python except the short list of
the ward's oldest waiting cases. Which figure a role gets is decided here (`figures_for`),
not in the template: a role that may not see a figure does not get its numbers computed.

Callbacks are counted by their own due day and window (`Case.callback_due_on`, set when the
callback is scheduled): `callback_deadline_filters` is the one place that says what "due
today" and "overdue" mean, for querysets; the counts (`CaseCount`) carry the due day, and
today's callbacks whose window is already over are moved to overdue by one small query.
"""

from __future__ import annotations

import datetime
import logging
import secrets
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Case as DjangoCase
from django.db.models import Count, Q, QuerySet, Sum, Value, When
from django.utils import timezone

from madoguchi.accounts.models import Role
from madoguchi.cases.business_days import business_days_between
from madoguchi.cases.models import Case, Category, Channel, Status
from madoguchi.cases.selectors import callback_filters, first_per_program
from madoguchi.dashboards.models import CaseCount
from madoguchi.programs.scoping import can, program_ids, programs_for

JST = zoneinfo.ZoneInfo("Asia/Tokyo")
WAITING_LIMIT = 20
NO_DAY = datetime.date(1970, 1, 1)
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


def callback_deadline_filters(now: datetime.datetime) -> tuple[Q, Q]:
    """(due today, overdue) among the cases waiting for a callback, by the callback's own due
    day and window (`Case.callback_due_on`): the callback queue's rule, `cases.selectors`."""
    return callback_filters(now)


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
    counted_at: datetime.datetime
    program_ids: list[int] = field(default_factory=list)
    # New at every count: the rendered panels of a shared board are kept under it
    # (`panels.panels_html`), so two countings never share their HTML.
    stamp: str = field(default_factory=lambda: secrets.token_hex(8))
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


# --- kept for a few seconds -----------------------------------------------------------------------

# The figures that count the user's own cases: a board with any of them is never shared.
PERSONAL_FIGURES = frozenset(OPERATOR_FIGURES)
# How old a shared board may be, in seconds (the page says when it was counted).
FIGURES_MAX_AGE = 10
logger = logging.getLogger(__name__)


def is_shared(board: Dashboard) -> bool:
    """Whether `shared_dashboard` keeps and shares a board of these figures."""
    return bool(board.figures) and not PERSONAL_FIGURES.intersection(board.figures)


def shared_dashboard(user: Any, *, fresh: bool = False, now: datetime.datetime | None = None) -> Dashboard:
    """`dashboard_for(user)`, kept FIGURES_MAX_AGE seconds when it holds aggregate figures only
    (every role's board but the operator's, whose figures are their own cases).

    What the user may see is decided on every request, before the cache is asked: the role
    gives the figures (`figures_for`), the memberships the programs (`program_ids`), and the
    key holds both (and the day), so a board is shared only by users who may see exactly those
    figures of exactly those programs. `fresh`: the user just wrote something (the replica's
    pin), so the board is counted again, and the new one shared. Without a cache (Redis down)
    every request counts."""
    figures = figures_for(user)
    if not figures or PERSONAL_FIGURES.intersection(figures):
        return dashboard_for(user, now=now)
    ids = program_ids(user, "view")
    now = now or timezone.now()
    today = timezone.localdate(now, JST)
    # "v2": the pickled `Dashboard`; a release that changes its fields changes the version, so
    # app hosts of two releases sharing a cache never read each other's.
    key = f"dashboards:board:v2:{today.isoformat()}:{'.'.join(figures)}:{'.'.join(map(str, sorted(ids)))}"
    if not fresh:
        try:
            kept: Dashboard | None = cache.get(key)
        except Exception:
            logger.warning("cache unavailable: the dashboard is counted on every request")
            return dashboard_for(user, today=today, now=now)
        if kept is not None:
            return kept
    board = dashboard_for(user, today=today, now=now)
    try:
        cache.set(key, board, FIGURES_MAX_AGE)
    except Exception:
        logger.warning("cache unavailable: the dashboard is not kept")
    return board


def dashboard_for(
    user: Any, *, today: datetime.date | None = None, now: datetime.datetime | None = None
) -> Dashboard:
    """Everything the user's dashboard shows, in a fixed number of queries.

    The counts come from `CaseCount` (kept by triggers, see models.py): a few hundred rows
    whatever the number of cases, today's intake by hour included. Only today's callbacks whose
    window is over and the ward's oldest waiting cases read `cases_case`, each an index range
    of today's callbacks or the waiting cases.
    """
    now = now or timezone.now()
    today = today or timezone.localdate(now, JST)
    figures = figures_for(user)
    board = Dashboard(role=str(getattr(user, "role", "")), figures=figures, today=today, counted_at=now)
    if not figures:
        return board
    programs = list(programs_for(user, "view").values_list("id", "recording_start"))
    board.program_ids = [pk for pk, _ in programs]
    if not programs:
        return board
    board.trend_start = min(start for _, start in programs)
    rows = Case.objects.filter(program_id__in=board.program_ids)
    counts = CaseCount.objects.filter(program_id__in=board.program_ids)
    _states(board, counts, figures, user)
    _callback_windows(board, rows, figures, user, _moment(today, now))
    if "intake_today" in figures:
        _intake(board, counts, today)
    if "ward_waiting" in figures:
        _ward(board, rows, counts, today, start=min(start for _, start in programs))
    return board


STATE_FIGURES = frozenset(
    {
        "my_open",
        "my_callbacks",
        "my_answers",
        "backlog",
        "load",
        "past_deadline",
        "web_waiting",
        "ward_waiting",
    }
)


def _states(board: Dashboard, counts: QuerySet[CaseCount], figures: tuple[str, ...], user: Any) -> None:
    """One grouped query over the open cases' state rows; every state figure is a sum of them."""
    if not STATE_FIGURES.intersection(figures):
        return
    today = board.today
    states = counts.filter(kind=CaseCount.Kind.STATE, status__in=OPEN_STATUSES)
    operator_only = "my_open" in figures and "backlog" not in figures
    if operator_only:
        states = states.filter(assignee_key=user.pk)
    when = DjangoCase(
        When(day=NO_DAY, then=Value("none")),
        When(day__lt=today, then=Value("past")),
        When(day=today, then=Value("today")),
        default=Value("future"),
    )
    grouped = (
        states.annotate(when=when)
        .values("status", "channel", "assignee_key", "answered", "when")
        .annotate(total=Sum("n"))
        .order_by()
    )
    load: dict[int, int] = {}
    for row in grouped:
        status, n, when_ = row["status"], row["total"] or 0, row["when"]
        if not n:
            continue
        if row["assignee_key"] == user.pk:
            board.my_open[status] = board.my_open.get(status, 0) + n
            if status == Status.CALLBACK:
                if when_ == "today":
                    board.my_callbacks_today += n
                elif when_ == "past":
                    board.my_callbacks_overdue += n
                if row["answered"]:
                    board.my_answers += n
        if operator_only:
            continue
        board.backlog[status] = board.backlog.get(status, 0) + n
        if row["assignee_key"]:
            load[row["assignee_key"]] = load.get(row["assignee_key"], 0) + n
        if status == Status.ESCALATED:
            board.ward_waiting_count += n
            if when_ == "past":
                board.ward_overdue += n
        elif status == Status.CALLBACK and when_ == "past":
            board.callbacks_overdue += n
        elif status == Status.NEW and row["channel"] == Channel.FORM:
            board.web_waiting += n
    if "load" in figures and load:
        names = {
            pk: display or username
            for pk, display, username in get_user_model()
            .objects.filter(pk__in=list(load))
            .values_list("pk", "display_name", "username")
        }
        board.load = sorted(
            ((pk, names.get(pk, str(pk)), n) for pk, n in load.items() if n),
            key=lambda item: (-item[2], item[1]),
        )


def _moment(today: datetime.date, now: datetime.datetime) -> datetime.time:
    """The time of day on `today` up to which callback windows are over."""
    local = timezone.localtime(now, JST)
    if local.date() == today:
        return local.time()
    return datetime.time.max if today < local.date() else datetime.time.min


def _callback_windows(
    board: Dashboard, rows: QuerySet[Case], figures: tuple[str, ...], user: Any, moment: datetime.time
) -> None:
    """Today's callbacks whose window is already over are overdue, not due (the counts carry
    the due day only): one grouped query over the (program, status, callback_due_on) index."""
    mine, everyone = "my_callbacks" in figures, "past_deadline" in figures
    if not (mine or everyone):
        return
    over = rows.filter(
        status=Status.CALLBACK,
        callback_due_on=board.today,
        callback_until__isnull=False,
        callback_until__lte=moment,
    )
    if not everyone:
        over = over.filter(assignee_id=user.pk)
    for assignee_id, n in (
        over.values("assignee_id").annotate(n=Count("id")).order_by().values_list("assignee_id", "n")
    ):
        if mine and assignee_id == user.pk:
            board.my_callbacks_today -= n
            board.my_callbacks_overdue += n
        if everyone:
            board.callbacks_overdue += n


def _intake(board: Dashboard, counts: QuerySet[CaseCount], today: datetime.date) -> None:
    """Today's intake by hour and channel: the HOURLY counts of today (a few dozen rows)."""
    intake = (
        counts.filter(kind=CaseCount.Kind.HOURLY, day=today)
        .values("hour", "channel")
        .annotate(n=Sum("n"))
        .order_by()
    )
    board.intake_by_hour = {(row["hour"], row["channel"]): row["n"] for row in intake if row["n"]}


def _ward(
    board: Dashboard,
    rows: QuerySet[Case],
    counts: QuerySet[CaseCount],
    today: datetime.date,
    *,
    start: datetime.date,
) -> None:
    escalated = rows.filter(status=Status.ESCALATED)
    if len(board.program_ids) > 1:
        # One ordered read per program, merged (as the ward's queue): `program_id IN (…)`
        # read and sorted every escalated case of the programs.
        order = ["escalated_at", "id"]
        first = first_per_program(escalated, board.program_ids, order, WAITING_LIMIT)
        escalated = escalated.filter(pk__in=first)
    oldest = (
        escalated.select_related("category")
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
    answered = counts.filter(kind=CaseCount.Kind.ANSWERED, day__gte=week_start(today), day__lte=today)
    board.answered_week = answered.aggregate(total=Sum("n"))["total"] or 0
    board.trend_start = start
    received = counts.filter(kind=CaseCount.Kind.RECEIVED, day__gte=start, day__lte=today)
    per_day = dict(received.values("day").annotate(total=Sum("n")).order_by().values_list("day", "total"))
    per_channel = dict(
        received.values("channel").annotate(total=Sum("n")).order_by().values_list("channel", "total")
    )
    per_category = dict(
        received.values("category_key")
        .annotate(total=Sum("n"))
        .order_by()
        .values_list("category_key", "total")
    )
    names = dict(
        Category.objects.filter(program_id__in=board.program_ids)
        .order_by("order", "id")
        .values_list("id", "name")
    )
    board.by_category = [(pk, name, per_category.get(pk, 0) or 0) for pk, name in names.items()]
    if per_category.get(0):
        board.by_category.append((None, "", per_category[0]))
    board.by_channel = {channel: per_channel.get(channel, 0) or 0 for channel in Channel.values}
    days = (today - start).days + 1
    board.trend = [
        (start + datetime.timedelta(days=i), per_day.get(start + datetime.timedelta(days=i), 0) or 0)
        for i in range(max(days, 0))
    ]
