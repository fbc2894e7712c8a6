"""The case list's and the queues' rows, and the list's filter options, written as HTML.

Fifty rows of a list or a queue were some 350 template variable nodes and a `{% url %}` and two
`date` filters per row, each resolved and escaped by the template engine: a tenth of the list's
CPU and a third of the ward's queue (docs/notes.md, hL). Every value here is escaped with
`html.escape`, what the template's autoescape calls; `cases/tests/test_staff_requests.py`
(`ListAndQueueRowsTests`) holds the output equal to the template loops it replaces.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from html import escape
from typing import Any

from django.db.models import Choices
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from madoguchi.cases import selectors
from madoguchi.cases.models import Case, Channel, Status

# A case's public id in a reversed URL, replaced by each case's (cases.js does the same).
SOME_CASE = "00000000-0000-0000-0000-000000000000"


def translated(choices: type[Choices]) -> dict[str, str]:
    """Each value's label, translated once for a page: a `get_<field>_display()` call
    translates every choice of the field each time it is called."""
    return {value: str(label) for value, label in choices.choices}


def case_url(name: str, *args: Any) -> Callable[[Any], str]:
    """The URL `name` of a case (after `args`) for any public id, with one `reverse()` a page
    instead of one per row."""
    pattern = reverse(name, args=[*args, SOME_CASE])
    return lambda public_id: pattern.replace(SOME_CASE, str(public_id))


def list_rows(cases: list[Case]) -> SafeString:
    """The list's rows, written here rather than as a template loop: fifty rows of seven
    values were some 350 variable nodes per page, each resolved and escaped by the template
    engine (a tenth of the page's CPU). One reverse() and one translation of each status and
    channel for the page instead of one per row (a `get_status_display` translates every
    choice of the field each time it is called). Every value is escaped (`html.escape`, what
    the template's autoescape calls)."""
    statuses, channels = translated(Status), translated(Channel)
    detail = case_url("cases:detail")
    return SafeString(
        "".join(
            f'\n    <tr><td><a href="{escape(detail(case.public_id))}">'
            f"{escape(case.receipt_number)}</a></td>"
            f"\n      <td>{escape(timezone.localtime(case.received_at).strftime('%Y-%m-%d %H:%M'))}</td>"
            f"<td>{escape(statuses.get(case.status, case.status))}</td>"
            f"\n      <td>{escape((case.category.name if case.category else '') or '—')}</td>"
            f"<td>{escape(channels.get(case.channel, case.channel))}</td>"
            f"<td>{escape(str(case.assignee) if case.assignee else '—')}</td></tr>\n  "
            for case in cases
        )
    )


def _options(choices: Iterable[tuple[int, str]], chosen: Any) -> SafeString:
    """`<option>`s of (value, escaped label) pairs, the chosen value selected."""
    return SafeString(
        "".join(
            f'<option value="{value}"{" selected" if chosen == value else ""}>{label}</option>'
            for value, label in choices
        )
    )


def category_options(categories: list[selectors.CategoryOption], chosen: Any) -> SafeString:
    """The category filter's options (a deactivated one marked), the chosen one selected."""
    inactive = escape(gettext("（無効）"))
    return _options(
        (
            (category.pk, escape(category.name) + ("" if category.is_active else inactive))
            for category in categories
        ),
        chosen,
    )


def assignee_options(people: list[selectors.PersonOption], chosen: Any) -> SafeString:
    """The assignee filter's options, the chosen one selected."""
    return _options(((person.pk, escape(str(person))) for person in people), chosen)


def queue_rows(rows: list[selectors.QueueRow], status: str) -> SafeString:
    """A queue's rows (all but 折り返し待ち's, which the template writes), written here rather
    than as a template loop: per row a `{% url %}`, two `date` filters and a dozen variable
    lookups were a third of the ward's queue page. Every value is escaped (`html.escape`, what
    the template's autoescape calls); dates as the `date` filter writes them, in local time."""
    detail = case_url("cases:detail")
    overdue_mark = f' <strong class="overdue-mark">{escape(gettext("期限超過"))}</strong>'
    overdue_class = ' class="is-overdue"'
    parts = []
    for row in rows:
        case = row.case
        since = case.escalated_at if status == Status.ESCALATED else case.updated_at
        due = case.ward_due_on.strftime("%Y-%m-%d") if case.ward_due_on else "—"
        parts.append(
            f"\n  <tr{overdue_class if row.overdue else ''}>"
            f'<td><a href="{escape(detail(case.public_id))}">'
            f"{escape(case.receipt_number)}</a></td>"
            f"\n    <td>{escape((case.category.name if case.category else '') or '—')}</td>"
            f"\n    <td>{timezone.localtime(since).strftime('%Y-%m-%d %H:%M') if since else ''}</td>"
            f"\n    <td>{row.waited_business_days}</td>"
            f"\n    <td>{due}{overdue_mark if row.overdue else ''}</td></tr>\n  "
        )
    return SafeString("".join(parts))
