"""Cases with exactly the times a report reads, made directly (the report reads columns only)."""

from __future__ import annotations

import datetime
import itertools
from typing import Any
from zoneinfo import ZoneInfo

from madoguchi.cases.models import Case, Category, Channel, Status, TimelineEntry
from madoguchi.programs.models import Program

JST = ZoneInfo("Asia/Tokyo")
_numbers = itertools.count(1)


def at(day: datetime.date, hour: int = 10, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=JST)


def case(
    program: Program,
    received: datetime.datetime,
    *,
    channel: str = Channel.PHONE,
    category: Category | None = None,
    status: str = Status.IN_PROGRESS,
    escalated: datetime.datetime | None = None,
    due: datetime.date | None = None,
    answered: datetime.datetime | None = None,
    assignee: Any = None,
    **personal: Any,
) -> Case:
    return Case.objects.create(
        program=program,
        receipt_number=f"{program.receipt_prefix}-R{next(_numbers):06d}",
        channel=channel,
        received_at=received,
        category=category,
        status=status,
        escalated_at=escalated,
        ward_due_on=due,
        ward_answered_at=answered,
        assignee=assignee,
        inquiry=personal.pop("inquiry", "カタログが届かない"),
        caller_name=personal.pop("caller_name", "試験 花子"),
        contact_phone=personal.pop("contact_phone", "09000000000"),
        **personal,
    )


def entry(
    case: Case, when: datetime.datetime, *, kind: str, from_status: str = "", to_status: str = ""
) -> TimelineEntry:
    row = TimelineEntry.objects.create(
        case=case, kind=kind, from_status=from_status, to_status=to_status, body="メモ"
    )
    TimelineEntry.objects.filter(pk=row.pk).update(created_at=when)
    return row
