"""Reads of cases, always scoped to the programs the user works on (`restrict`).

Lists are keyset-paginated on (received_at, id) and never COUNT(*) the whole table per page
view: the count shown is exact up to COUNT_LIMIT and "1000+" beyond. Text search goes through
`text_search`, the one place that knows how each database searches Japanese substrings.
"""

from __future__ import annotations

import base64
import binascii
import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, connections
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Count,
    Exists,
    Expression,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models.expressions import OrderBy, RawSQL
from django.db.models.functions import StrIndex
from django.http import Http404
from django.utils import timezone

from madoguchi.accounts.models import Role, User
from madoguchi.cases import sqlite_search
from madoguchi.cases.business_days import business_days_between
from madoguchi.cases.models import (
    CallbackAttempt,
    Case,
    CaseLink,
    Category,
    Channel,
    Notification,
    StandardAnswer,
    Status,
    TimelineEntry,
    callback_deadline,
)
from madoguchi.cases.services import search_key
from madoguchi.lib.sql import fetch_all, from_row, placeholders, select_list, table
from madoguchi.programs.models import Program
from madoguchi.programs.scoping import can, program_ids, restrict
from madoguchi.registry.models import Household

PAGE_SIZE = 50
COUNT_LIMIT = 1000
# What a row of the case list shows (cases/views/lists.py `_rows`) and its cursor reads.
LIST_COLUMNS = (
    "id",
    "public_id",
    "program_id",
    "receipt_number",
    "received_at",
    "status",
    "channel",
    "category__name",
    "assignee__username",
    "assignee__display_name",
)


def cases_for(user: Any, action: str = "view") -> QuerySet[Case]:
    return restrict(Case.objects.all(), user, action)


def get_case(user: Any, public_id: Any, action: str = "view") -> Case:
    """The case page's one query: the case with everything shown beside it."""
    from django.shortcuts import get_object_or_404

    return get_object_or_404(
        cases_for(user, action).select_related("program", "category", "assignee", "household", "merged_into"),
        public_id=public_id,
    )


def case_to_change(user: Any, public_id: Any, action: str, *related: str) -> Case:
    """`get_case` for a POST that changes the case and redirects: with its program (every
    change checks the recording period), not the four other relations the page shows. Their
    joins made the statement cost three times as much to compile as to run; a refused change
    that shows the page again reads them when the page does. `related`: what the change itself
    reads besides (the ward's answer notifies the assignee)."""
    from django.shortcuts import get_object_or_404

    rows = cases_for(user, action).select_related("program", *related)
    return get_object_or_404(rows, public_id=public_id)


def case_for_page(user: Any, public_id: Any) -> Case:
    """`get_case` for the case page's GET, with what decides the page's other reads: whether
    the user has an unread notification about it (`has_unread`: the page marks them read, and
    writes nothing when there is none), whether it has linked cases (`has_links`) and callback
    attempts (`has_attempts`): most cases have neither, and their lists are then not read.
    Its search text is not read, nor the case it was merged into (a merged duplicate reads it
    when shown).

    One written statement (`_page_sql`): as a queryset (`cases_for(user).select_related(
    "program", "category", "assignee", "household").defer("search_text").annotate(...)`) it cost
    about 1.5 ms of CPU to compile, twice what running it and building its five objects cost
    (issue 15, hW; `test_staff_requests.CasePageReadTests` holds the two equal)."""
    ids = program_ids(user, "view")
    if not ids:
        raise Http404
    connection = connections[Case.objects.db]
    key = Case._meta.get_field("public_id").get_db_prep_value(public_id, connection)
    with connection.cursor() as cursor:
        cursor.execute(_page_sql(connection, len(ids)), [user.pk, key, *ids])
        row = cursor.fetchone()
    if row is None:
        raise Http404
    values = iter(row)
    parts: dict[Any, Any] = {}
    for model, fields in _page_models():
        chunk = [next(values) for _ in fields]
        # A relation the case does not have (LEFT OUTER JOIN) reads as NULLs, its id first.
        parts[model] = from_row(model, chunk, connection, fields=fields) if chunk[0] is not None else None
    case: Any = parts[Case]
    for name, model in (
        ("program", Program),
        ("category", Category),
        ("assignee", User),
        ("household", Household),
    ):
        relation: Any = Case._meta.get_field(name)
        relation.set_cached_value(case, parts[model])
    case.has_unread, case.has_links, case.has_attempts = (bool(next(values)) for _ in range(3))
    return case  # type: ignore[no-any-return]


def _page_models() -> list[tuple[Any, tuple[Any, ...]]]:
    """The models of `case_for_page`'s row in its order, each with the columns read."""
    case_fields = tuple(field for field in Case._meta.concrete_fields if field.name != "search_text")
    return [
        (Case, case_fields),
        (Program, tuple(Program._meta.concrete_fields)),
        (Category, tuple(Category._meta.concrete_fields)),
        (User, tuple(User._meta.concrete_fields)),
        (Household, tuple(Household._meta.concrete_fields)),
    ]


_PAGE_SQL: dict[tuple[str, int], str] = {}


def _page_sql(connection: Any, programs: int) -> str:
    """`case_for_page`'s statement for a user of `programs` programs (table and column names and
    placeholders only), made once per database and count."""
    key = (connection.alias, programs)
    if key not in _PAGE_SQL:
        quote = connection.ops.quote_name
        aliases = {Case: "c", Program: "p", Category: "cat", User: "u", Household: "h"}
        columns = ", ".join(
            select_list(model, connection, alias=aliases[model], fields=fields)
            for model, fields in _page_models()
        )
        flags = ", ".join(
            f"EXISTS (SELECT 1 FROM {quote(model._meta.db_table)} f WHERE f.case_id = c.id{condition})"  # noqa: S608
            for model, condition in (
                (Notification, " AND f.user_id = %s AND f.read_at IS NULL"),
                (CaseLink, ""),
                (CallbackAttempt, ""),
            )
        )
        marks = ", ".join(["%s"] * programs)
        _PAGE_SQL[key] = (
            f"SELECT {columns}, {flags} FROM {quote(Case._meta.db_table)} c "  # noqa: S608 - names only
            f"INNER JOIN {quote(Program._meta.db_table)} p ON p.id = c.program_id "
            f"LEFT OUTER JOIN {quote(Category._meta.db_table)} cat ON cat.id = c.category_id "
            f"LEFT OUTER JOIN {quote(User._meta.db_table)} u ON u.id = c.assignee_id "
            f"LEFT OUTER JOIN {quote(Household._meta.db_table)} h ON h.id = c.household_id "
            f"WHERE c.public_id = %s AND c.program_id IN ({marks})"
        )
    return _PAGE_SQL[key]


def timeline(case: Case) -> list[TimelineEntry]:
    return list(TimelineEntry.objects.filter(case=case).order_by("created_at", "id"))


# What `cases/_earlier.html` shows of a household's case: not its forty columns and search text.
EARLIER_COLUMNS = ("id", "public_id", "receipt_number", "received_at", "status", "category__name")


def earlier_cases(
    case_or_household: Any, user: Any, *, exclude: Case | None = None, limit: int = 10
) -> list[Case]:
    """A caller who calls again: the household's earlier cases, newest first (the columns the
    list shows)."""
    household_id = getattr(case_or_household, "household_id", None) or getattr(case_or_household, "pk", None)
    if household_id is None:
        return []
    rows = cases_for(user).filter(household_id=household_id).select_related("category").only(*EARLIER_COLUMNS)
    if exclude is not None:
        rows = rows.exclude(pk=exclude.pk)
    return list(rows.order_by("-received_at", "-id")[:limit])


@dataclass
class RelatedCase:
    """What the case page shows of a related case (cases/_case_related.html): a row, not a
    model instance (ten cases of forty columns each cost more to build than to read). The
    page adds its labels and links (`status_label`, `url`, `link_url`, `link_label`)."""

    pk: int
    public_id: Any
    receipt_number: str
    received_at: datetime.datetime
    status: str
    merged_into_id: int | None
    category_name: str | None
    status_label: str = ""
    url: str = ""
    link_url: str = ""
    link_label: str = ""


@dataclass
class RelatedCases:
    linked: list[RelatedCase]
    household: list[RelatedCase]


RELATED_COLUMNS = (
    "pk",
    "public_id",
    "receipt_number",
    "received_at",
    "status",
    "merged_into_id",
    "category__name",
)


def related_cases(case: Case, user: Any) -> RelatedCases:
    """The case page's related cases: the ones marked as the same matter (a merged duplicate is
    linked to the case it was merged into) and the household's other cases, newest first, each
    scoped to the user's programs. A case read by `case_for_page` says whether it has links."""
    has_links = getattr(case, "has_links", True)
    if not has_links and not case.household_id:
        return RelatedCases(linked=[], household=[])
    rows = cases_for(user).order_by("-received_at", "-id")
    linked_ids = CaseLink.objects.filter(case=case).values("related_id")
    linked = rows.filter(pk__in=linked_ids).values_list(*RELATED_COLUMNS)[:20] if has_links else []
    household = (
        rows.filter(household_id=case.household_id).exclude(pk=case.pk).values_list(*RELATED_COLUMNS)[:10]
        if case.household_id
        else []
    )
    return RelatedCases(
        linked=[RelatedCase(*row) for row in linked], household=[RelatedCase(*row) for row in household]
    )


def find_case_by_receipt(user: Any, program_id: int, receipt_number: str) -> Case | None:
    receipt = search_key(receipt_number).strip().upper().replace("ー", "-").replace("−", "-")
    return cases_for(user, "edit").filter(program_id=program_id, receipt_number=receipt).first()


# --- lists and search ---------------------------------------------------------------------------


@dataclass
class CaseFilter:
    status: str = ""
    category: int | None = None
    channel: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    assignee: int | None = None
    escalated: bool = False
    overdue: bool = False
    text: str = ""
    mine: bool = False
    open: bool = False
    answered_from: datetime.date | None = None
    # The callbacks "due today" or "overdue" by their own due time (`callback_filters`).
    callback: str = ""


@dataclass
class CasePage:
    cases: list[Case]
    next_cursor: str = ""
    count_label: str = ""
    filters: CaseFilter = field(default_factory=CaseFilter)


def encode_cursor(case: Case) -> str:
    raw = f"{case.received_at.isoformat()}|{case.pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime.datetime, int] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, pk = raw.split("|")
        return datetime.datetime.fromisoformat(when), int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


def text_search(
    rows: QuerySet[Case], text: str, *, wanted: int | None = None, form: str = ""
) -> QuerySet[Case]:
    """Receipt number or a substring of the inquiry, the response or any timeline entry.

    The substring is looked for in `search_text` through an n-gram index, never by reading
    the whole table: on PostgreSQL `search_text LIKE '%…%'`, answered by the pg_trgm GIN index
    (migration 0002); on SQLite the FTS5 bigram index of `sqlite_search` (migration 0004),
    which returns exactly the cases that LIKE would. Receipt numbers are matched exactly
    (after NFKC and upper-casing) so "kj-000123" and "ＫＪ－０００１２３" find it.

    `wanted`: the caller keeps only the first `wanted` rows in the list's order (a page, a
    capped count); on SQLite that chooses the plan (`sqlite_search.choose_form`). None: every
    row is wanted (an export). `form` forces a plan (tests and benchmarks).
    """
    key = search_key(text).strip()
    if not key:
        return rows
    receipt = key.upper().replace("ー", "-").replace("−", "-")
    database = connections[rows.db]
    if database.vendor != "sqlite":
        # strpos decides and LIKE follows it only on a hit: both say whether the text holds the
        # key, but LIKE's `%` tries a match at every byte equal to the key's first one, which in
        # Japanese text is most of them (a seven-character phrase in one case of ten: about half
        # the time of its search). LIKE stays for the trigram index (strpos cannot use it); a
        # condition inside OR keeps its written order. Written `NOT (strpos(…) = 0)`, not
        # `strpos(…) > 0`: the planner has no statistics for the expression and takes a third
        # for `> 0`, which cut LIKE's estimate to a third (a phrase in one case of ten at
        # 100,000 cases a program: the whole program read and sorted, 150–230 ms, instead of
        # the list's index walked until the 1,001st hit, 9–27 ms); `= 0` is taken as rare, so
        # its negation leaves LIKE's estimate as it is.
        rows = rows.alias(text_at=StrIndex("search_text", Value(key)))
        return rows.filter(Q(receipt_number=receipt) | (~Q(text_at=0) & Q(search_text__contains=key)))
    match = sqlite_search.match_expression(key)
    if not form:
        form = "in" if wanted is None else sqlite_search.choose_form(database, key, wanted)
    # Two id lists, so the planner never reads a row to decide: the receipt number through the
    # (program, receipt_number) unique index, the text through the FTS index. A constant
    # statement; the query travels as a parameter.
    text_ids = RawSQL(sqlite_search.matching_ids_sql(), [match])  # noqa: S611
    receipt_ids = rows.filter(receipt_number=receipt).values("pk")
    if form == "walk":
        # `id + 0` is not the primary key to the planner, so it cannot start from the hits: it
        # walks the list's index and looks each id up in the hits, gathered once.
        rows = rows.alias(text_probe=ExpressionWrapper(F("pk") + 0, output_field=BigIntegerField()))
        return rows.filter(Q(text_probe__in=text_ids) | Q(pk__in=receipt_ids))
    if form == "probe":
        return rows.filter(Q(_TextProbe(match)) | Q(pk__in=receipt_ids))
    return rows.filter(Q(pk__in=text_ids) | Q(pk__in=receipt_ids))


class _TextProbe(Expression):
    """`sqlite_search.probe_sql` for the case of the outer row (its id compiled by Django, so the
    condition follows the query when it is relabelled as a subquery)."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, match: str, pk: Any = None) -> None:
        super().__init__()
        self.match = match
        self.pk = pk if pk is not None else F("pk")

    def get_source_expressions(self) -> list[Any]:
        return [self.pk]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        (self.pk,) = exprs

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        pk_sql, pk_params = compiler.compile(self.pk)
        return sqlite_search.probe_sql(pk_sql), [self.match, *pk_params]


def apply_filters(
    rows: QuerySet[Case], filters: CaseFilter, user: Any, *, wanted: int | None = None
) -> QuerySet[Case]:
    """The list's filters; `wanted` as in `text_search` (None: every row is read)."""
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.category:
        rows = rows.filter(category_id=filters.category)
    if filters.channel:
        rows = rows.filter(channel=filters.channel)
    if filters.date_from:
        rows = rows.filter(received_at__gte=_day_start(filters.date_from))
    if filters.date_to:
        rows = rows.filter(received_at__lt=_day_start(filters.date_to + datetime.timedelta(days=1)))
    if filters.assignee:
        rows = rows.filter(assignee_id=filters.assignee)
    if filters.mine:
        rows = rows.filter(assignee_id=user.pk)
    if filters.escalated:
        rows = rows.filter(escalated_at__isnull=False)
    if filters.overdue:
        rows = rows.filter(status=Status.ESCALATED, ward_due_on__lt=timezone.localdate())
    if filters.open:
        rows = rows.exclude(status=Status.CLOSED)
    if filters.answered_from:
        rows = rows.filter(ward_answered_at__gte=_day_start(filters.answered_from))
    if filters.callback in CALLBACK_FILTERS:
        due_today, overdue = callback_filters(timezone.now())
        rows = rows.filter(due_today if filters.callback == "due_today" else overdue)
    if filters.text:
        rows = text_search(rows, filters.text, wanted=wanted)
    return rows


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def case_page(user: Any, filters: CaseFilter, cursor: str = "", *, page_size: int = PAGE_SIZE) -> CasePage:
    rows = apply_filters(cases_for(user), filters, user, wanted=page_size + 1)
    position = decode_cursor(cursor) if cursor else None
    postgres = connections[rows.db].vendor == "postgresql"
    scope = program_ids(user, "view")
    if position is None and filters.text and postgres:
        return _first_page_of_search(rows, filters, page_size, scope)
    if position is not None:
        when, pk = position
        rows = rows.filter(Q(received_at__lt=when) | Q(received_at=when, id__lt=pk))
    # SQLite's text search chooses its own plan for the wanted rows (`sqlite_search`): one
    # statement there.
    if len(scope) > 1 and (postgres or not filters.text):
        newest = first_per_program(rows, scope, LIST_ORDER, page_size + 1)
        # The ids were read from the user's scoped, filtered rows: the page's columns by primary
        # key, with no condition to plan or check again.
        cases = list(_listed(Case.objects.filter(pk__in=newest)).order_by(*LIST_ORDER))
    else:
        cases = list(_listed(rows).order_by(*LIST_ORDER)[: page_size + 1])
    more = len(cases) > page_size
    cases = cases[:page_size]
    label = ""
    if position is None:
        # The count keeps more rows than the page: its own plan (see sqlite_search).
        counted = (
            rows
            if not filters.text
            else apply_filters(cases_for(user), filters, user, wanted=COUNT_LIMIT + 1)
        )
        label = count_label(counted)
    return CasePage(
        cases=cases,
        next_cursor=encode_cursor(cases[-1]) if more else "",
        count_label=label,
        filters=filters,
    )


LIST_ORDER = ("-received_at", "-id")


def _listed(rows: QuerySet[Case]) -> QuerySet[Case]:
    # Only the columns the list shows (and the cursor needs): a case has forty, search_text
    # holds the whole timeline's text, and building fifty full rows was a fifth of the page.
    return rows.select_related("category", "assignee").only(*LIST_COLUMNS)


def first_per_program(
    rows: QuerySet[Case], scope: Sequence[int], order: Sequence[str | OrderBy], limit: int
) -> list[int]:
    """The ids of the first `limit` rows in `order` across the programs of `scope`: each
    program's first `limit` read in its own index order, merged (one statement for one program).

    With `program_id IN (…)` an index on (program, …) gives no single order, so PostgreSQL read
    and sorted every row of the programs (a million cases: 177 ms for one list view of a user in
    two programs). `order` ends with a unique field (the id), so the merge has no ties to break
    differently from the database. Its fields are dates, times, datetimes or numbers, which
    Python orders as the database does (not text: collations differ). A field's NULLs go where
    the database puts them: as written (`F(...).asc(nulls_last=True)`), or the database's
    default (PostgreSQL: last ascending, first descending; SQLite: the reverse).
    """
    if len(scope) <= 1:  # one program: one statement walks its index in order
        return list(rows.order_by(*order).values_list("pk", flat=True)[:limit])
    # Where NULLs go unless the term says: PostgreSQL sorts them as the largest values, SQLite
    # as the smallest.
    nulls_largest = connections[rows.db].vendor != "sqlite"
    terms = [_order_term(term, nulls_largest) for term in order]
    names = [name for name, _, _ in terms]
    first: list[tuple[Any, ...]] = []
    for program_id in scope:
        one = rows.filter(program_id=program_id).order_by(*order)
        first += one.values_list(*names, "pk")[:limit]
    # One stable sort per field, the last first: the merged rows end in the statement's order.
    for position in reversed(range(len(terms))):
        _, descending, nulls_first = terms[position]
        first.sort(key=_sort_key(position, nulls_first, descending), reverse=descending)
    return [row[-1] for row in first[:limit]]


def _order_term(term: str | OrderBy, nulls_largest: bool) -> tuple[str, bool, bool]:
    """(field, descending, NULLs first) of one term of `order_by`."""
    if isinstance(term, str):
        descending = term.startswith("-")
        return term.lstrip("-"), descending, nulls_largest == descending
    if not isinstance(term.expression, F):
        raise TypeError("only a field can be merged in order")
    if term.nulls_first or term.nulls_last:
        nulls_first = bool(term.nulls_first)
    else:
        nulls_first = nulls_largest == term.descending
    return term.expression.name, term.descending, nulls_first


def _sort_key(position: int, nulls_first: bool, descending: bool) -> Any:
    # In a reversed sort the greater rank comes first.
    null_rank = int(nulls_first == descending)

    def key(row: tuple[Any, ...]) -> tuple[int, Any]:
        value = row[position]
        return (null_rank, None) if value is None else (1 - null_rank, value)

    return key


def _first_page_of_search(
    rows: QuerySet[Case], filters: CaseFilter, page_size: int, scope: Sequence[int]
) -> CasePage:
    """The first page of a text search on PostgreSQL and its count, from one scan.

    The text condition (`search_text LIKE '%…%'`) is what a search costs: a word in one case of
    ten is checked against about ten rows per hit, so the capped count (COUNT_LIMIT + 1 hits)
    checked some ten thousand rows, after the page had checked its own few hundred. The ids of
    the first COUNT_LIMIT + 1 hits in the list's order give both: the page is their first
    `page_size + 1`, the count is how many there are. The page's columns are then read by
    primary key, with no text condition to plan or check again (none when nothing matched).
    A user in several programs: each program's first hits in its own index order, merged.
    """
    ids = first_per_program(rows, scope, LIST_ORDER, COUNT_LIMIT + 1)
    shown = ids[: page_size + 1]  # read from the user's scoped rows just above
    cases = list(_listed(Case.objects.filter(pk__in=shown)).order_by(*LIST_ORDER))
    more = len(cases) > page_size
    cases = cases[:page_size]
    return CasePage(
        cases=cases,
        next_cursor=encode_cursor(cases[-1]) if more else "",
        count_label=f"{COUNT_LIMIT}+" if len(ids) > COUNT_LIMIT else str(len(ids)),
        filters=filters,
    )


def count_label(rows: QuerySet[Case]) -> str:
    """Exact below COUNT_LIMIT, "1000+" above: counting a million rows per page view is waste."""
    found = rows.order_by().values("pk")[: COUNT_LIMIT + 1].count()
    return f"{COUNT_LIMIT}+" if found > COUNT_LIMIT else str(found)


# --- queues and badges ----------------------------------------------------------------------------


BADGE_CAP = 99


def capped_count(rows: QuerySet[Any]) -> int:
    """Count at most BADGE_CAP + 1 rows: an index-only scan of a few entries, whatever the size."""
    return rows.order_by().values("pk")[: BADGE_CAP + 1].count()


def badge(count: int) -> int | str:
    return f"{BADGE_CAP}+" if count > BADGE_CAP else count


@dataclass
class WaitingCounts:
    escalated: int = 0
    overdue: int = 0
    callback: int = 0
    new: int = 0
    web: int = 0
    notifications: int = 0

    def label(self, name: str) -> int | str:
        return badge(getattr(self, name))


def waiting_counts(
    user: Any, only: tuple[str, ...] = ("escalated", "overdue", "callback", "new")
) -> WaitingCounts:
    """What waits for the user, each count capped at BADGE_CAP + 1 (shown as "99+").

    Exact counts of a large queue on every page cost a scan of the queue each time; a few
    index entries per count keep every page's cost flat (see docs/benchmarks.md). Every staff
    page asks, so the one statement is written here rather than compiled from five querysets
    (compiling them cost more than running them).
    """
    if not can(user, "view"):
        return WaitingCounts()
    ids = program_ids(user)
    database = connections[Case.objects.db]
    ops = database.ops
    today = ops.adapt_datefield_value(timezone.localdate())
    conditions: dict[str, tuple[str, list[Any]]] = {
        "escalated": ("status = %s", [Status.ESCALATED]),
        "overdue": ("status = %s AND ward_due_on < %s", [Status.ESCALATED, today]),
        "callback": ("status = %s", [Status.CALLBACK]),
        "new": ("status = %s", [Status.NEW]),
        "web": ("status = %s AND channel = %s", [Status.NEW, Channel.FORM]),
    }
    cases, notifications = ops.quote_name(Case._meta.db_table), ops.quote_name(Notification._meta.db_table)
    marks, _ = placeholders(ids)
    in_programs = f"program_id IN ({marks})"
    parts: list[str] = []
    params: list[Any] = []
    for name in only:
        if not ids:
            parts.append("0")
            continue
        condition, values = conditions[name]
        parts.append(
            f"(SELECT COUNT(*) FROM (SELECT id FROM {cases} WHERE {in_programs} AND {condition} "  # noqa: S608
            f"LIMIT {BADGE_CAP + 1}) AS capped)"
        )
        params.extend([*ids, *values])
    parts.append(
        f"(SELECT COUNT(*) FROM (SELECT id FROM {notifications} WHERE user_id = %s "  # noqa: S608
        f"AND read_at IS NULL LIMIT {BADGE_CAP + 1}) AS capped)"
    )
    params.append(user.pk)
    with database.cursor() as cursor:
        # Table names and placeholders only; every value travels as a parameter.
        cursor.execute("SELECT " + ", ".join(parts), params)
        counts = dict(zip([*only, "notifications"], map(int, cursor.fetchone()), strict=True))
    return WaitingCounts(**counts)


QUEUE_COLUMNS = (
    "id",
    "public_id",
    "program_id",
    "receipt_number",
    "status",
    "received_at",
    "updated_at",
    "escalated_at",
    "ward_answered_at",
    "ward_due_on",
    "category__name",
)


@dataclass
class QueueRow:
    case: Case
    waited_business_days: int
    overdue: bool
    attempts: int = 0


def queue(user: Any, status: str, *, limit: int = 50) -> list[QueueRow]:
    """The ward's 区確認待ち (oldest question first) and the contractor's 折り返し待ち (soonest
    callback first, by its own due time; cases without one after them, oldest first)."""
    rows = cases_for(user).filter(status=status)
    scope = program_ids(user, "view")
    if status == Status.CALLBACK:
        return _callback_queue(rows.select_related("category", "assignee"), limit, scope)
    # Only what these queues show and order by: no assignee, and none of a case's other forty
    # columns (search_text holds the whole timeline's text).
    rows = rows.select_related("category").only(*QUEUE_COLUMNS)
    order = ["escalated_at", "id"] if status == Status.ESCALATED else ["received_at", "id"]
    today = timezone.localdate()
    if len(scope) > 1:
        rows = rows.filter(pk__in=first_per_program(rows, scope, order, limit))
    result = []
    for case in rows.order_by(*order)[:limit]:
        since = case.escalated_at if status == Status.ESCALATED else case.ward_answered_at or case.updated_at
        waited = business_days_between(timezone.localtime(since).date(), today) if since else 0
        overdue = bool(status == Status.ESCALATED and case.ward_due_on and case.ward_due_on < today)
        result.append(QueueRow(case=case, waited_business_days=waited, overdue=overdue))
    return result


def _callback_order() -> tuple[OrderBy | str, ...]:
    return (
        F("callback_due_on").asc(nulls_last=True),
        F("callback_from").asc(nulls_first=True),
        "received_at",
        "id",
    )


def _callback_queue(rows: QuerySet[Case], limit: int, scope: Sequence[int]) -> list[QueueRow]:
    today = timezone.localdate()
    order = _callback_order()
    # The first `limit` in order, then their attempts counted: counted in the same statement
    # (GROUP BY before the LIMIT), every case waiting for a callback was read, counted and
    # sorted (41 ms for a queue of 4,000 at 100,000 cases); a user in several programs: each
    # program's first in its own index order, merged.
    shown = rows.filter(pk__in=first_per_program(rows, scope, order, limit))
    ordered = shown.annotate(attempt_count=Count("callback_attempts")).order_by(*order)
    result = []
    for case in ordered[:limit]:
        since = case.ward_answered_at or case.updated_at
        waited = business_days_between(timezone.localtime(since).date(), today) if since else 0
        result.append(
            QueueRow(
                case=case,
                waited_business_days=waited,
                overdue=callback_overdue(case),
                attempts=getattr(case, "attempt_count", 0),
            )
        )
    return result


CALLBACK_FILTERS = ("due_today", "overdue")


def callback_filters(now: datetime.datetime) -> tuple[Q, Q]:
    """(due today, overdue) among the cases waiting for a callback, as querysets' filters:
    `callback_overdue`'s rule (`models.callback_deadline`) for many rows at once.

    Overdue once the window's end has passed (the day's end without a window); due today when
    its day is today and its window is not over yet. A callback with no day set is neither;
    a callback done (通話済) has left 折り返し待ち and is neither either.
    """
    local = timezone.localtime(now)
    today, moment = local.date(), local.time()
    waiting = Q(status=Status.CALLBACK, callback_due_on__isnull=False)
    window_over = Q(callback_due_on=today, callback_until__isnull=False, callback_until__lte=moment)
    due_today = waiting & Q(callback_due_on=today) & ~window_over
    overdue = waiting & (Q(callback_due_on__lt=today) | window_over)
    return due_today, overdue


def callback_overdue(case: Case, now: datetime.datetime | None = None) -> bool:
    """The callback queue's own rule: past the callback's due time (not the ward's deadline)."""
    if case.status != Status.CALLBACK or case.callback_due_on is None:
        return False
    return callback_deadline(case.callback_due_on, case.callback_until) <= (now or timezone.now())


def web_queue(user: Any, *, limit: int = 50) -> list[Case]:
    """未対応のフォーム受付: web inquiries nobody has started on, oldest first."""
    rows = cases_for(user).filter(status=Status.NEW, channel=Channel.FORM)
    scope = program_ids(user, "view")
    if len(scope) > 1:
        rows = rows.filter(pk__in=first_per_program(rows, scope, ("received_at", "id"), limit))
    return list(rows.select_related("category").defer("search_text").order_by("received_at", "id")[:limit])


def is_overdue(case: Case, today: datetime.date | None = None) -> bool:
    today = today or timezone.localdate()
    return case.status == Status.ESCALATED and case.ward_due_on is not None and case.ward_due_on < today


@dataclass(frozen=True)
class CategoryOption:
    """A category as a filter lists it."""

    pk: int
    name: str
    is_active: bool

    def __str__(self) -> str:
        return self.name


def categories_for(program_ids: list[int]) -> list[CategoryOption]:
    """The list's category filter: active ones first, then deactivated ones (old cases keep
    theirs and must stay findable), each program's in its order (the programs by code).

    One written statement: the list shows it on every view, and compiling
    `Category.objects.filter(program_id__in=…).order_by("-is_active", "program", "order", "id")`
    cost more than running it (`test_staff_requests.FilterOptionsTests` holds the two equal)."""
    if not program_ids:
        return []
    marks, ids = placeholders(program_ids)
    categories, programs = table(Category), table(Program)
    rows = fetch_all(
        Category,
        f"SELECT c.id, c.name, c.is_active FROM {categories} c "  # noqa: S608 - names and placeholders only
        f"INNER JOIN {programs} p ON p.id = c.program_id WHERE c.program_id IN ({marks}) "
        'ORDER BY c.is_active DESC, p.code ASC, c."order" ASC, c.id ASC',
        ids,
    )
    return [CategoryOption(pk, name, bool(active)) for pk, name, active in rows]


def categories_for_settings(program: Program) -> list[Category]:
    """The ward manager's category screen: every category in order, and whether cases use it
    (an index probe per category, not a count of the program's cases)."""
    in_use = Exists(Case.objects.filter(category_id=OuterRef("pk")))
    return list(Category.objects.filter(program=program).annotate(in_use=in_use).order_by("order", "id"))


def assignees_for(user: Any) -> QuerySet[Any]:
    from django.contrib.auth import get_user_model

    return (
        get_user_model()
        .objects.filter(
            programs__in=program_ids(user, "view"),
            is_active=True,
            role__in=[Role.OPERATOR, Role.SUPERVISOR, Role.WARD_STAFF, Role.WARD_MANAGER],
        )
        .distinct()
        .order_by("username")
    )


@dataclass(frozen=True)
class PersonOption:
    """A user as the list's filter and the assign form list them: the id and the name."""

    pk: int
    username: str
    display_name: str

    def __str__(self) -> str:
        return self.display_name or self.username


def assignee_choices(user: Any) -> list[PersonOption]:
    """`assignees_for(user)` as the list's filter and the case page's assign form show them, as
    one written statement (compiling the queryset cost more than running it; a user row has
    twenty columns). `test_staff_requests.FilterOptionsTests` holds the two equal."""
    ids = program_ids(user, "view")
    if not ids:
        return []
    from django.contrib.auth import get_user_model

    model = get_user_model()
    marks, values = placeholders(ids)
    roles = [Role.OPERATOR, Role.SUPERVISOR, Role.WARD_STAFF, Role.WARD_MANAGER]
    members = table(Program.members.through)
    rows = fetch_all(
        model,
        f"SELECT DISTINCT u.id, u.username, u.display_name FROM {table(model)} u "  # noqa: S608 - names and placeholders only
        f"INNER JOIN {members} m ON m.user_id = u.id WHERE m.program_id IN ({marks}) "
        f"AND u.is_active AND u.role IN (%s, %s, %s, %s) ORDER BY u.username ASC",
        [*values, *roles],
    )
    return [PersonOption(pk, username, display_name or "") for pk, username, display_name in rows]


# --- standard answers -----------------------------------------------------------------------------


def standard_answers(
    user: Any, *, program_id: int, category_id: int | None, text: str
) -> list[StandardAnswer]:
    rows = restrict(StandardAnswer.objects.filter(is_current=True, is_active=True), user, "view").filter(
        program_id=program_id
    )
    if category_id:
        rows = rows.filter(Q(category_id=category_id) | Q(category__isnull=True))
    key = search_key(text).strip()
    if key:
        rows = rows.filter(search_text__contains=key)
    return list(rows.select_related("category").order_by("category__order", "title")[:20])


def database_is_postgres() -> bool:
    return connection.vendor == "postgresql"
