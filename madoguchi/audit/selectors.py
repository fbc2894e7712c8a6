"""Reading the trail for the ward manager and the auditor: scope, filters, keyset pages.

Scope (R-41): a ward manager or auditor sees the events of the programs they audit, and the
events outside any program (logins, lockouts, denials) of the users of their organisation and
of those programs' contractors. Pages are keyset-paginated on (at, seq), newest first, and
no query counts the table: with ten million events every page is an index range scan.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from madoguchi.audit.describe import object_aliases
from madoguchi.audit.models import AuditEvent
from madoguchi.programs.models import Program
from madoguchi.programs.scoping import programs_for

PAGE_SIZE = 100


@dataclass(frozen=True)
class Scope:
    program_ids: tuple[int, ...]
    organisation_ids: tuple[int, ...]

    @property
    def empty(self) -> bool:
        return not self.program_ids and not self.organisation_ids


def scope_for(user: Any) -> Scope:
    programs = list(programs_for(user, "audit").values("id", "contractor_id"))
    if not programs or user.organisation_id is None:
        return Scope((), ())
    organisations = {user.organisation_id} | {p["contractor_id"] for p in programs if p["contractor_id"]}
    return Scope(tuple(sorted(p["id"] for p in programs)), tuple(sorted(organisations)))


def users_in_scope(scope: Scope) -> QuerySet[Any]:
    User = get_user_model()
    if scope.empty:
        return User.objects.none()
    return (
        User.objects.filter(Q(organisation_id__in=scope.organisation_ids) | Q(programs__in=scope.program_ids))
        .distinct()
        .select_related("organisation")
        .order_by("organisation__name", "username")
    )


def visible_events(user: Any) -> QuerySet[AuditEvent]:
    scope = scope_for(user)
    if scope.empty:
        return AuditEvent.objects.none()
    User = get_user_model()
    staff = User.objects.filter(organisation_id__in=scope.organisation_ids).values("id")
    return AuditEvent.objects.filter(
        Q(program_id__in=scope.program_ids) | Q(program_id__isnull=True, actor_id__in=staff)
    )


@dataclass
class EventFilter:
    actor_id: int | None = None
    object_type: str = ""
    object_id: str = ""
    action: str = ""
    client_ip: str = ""
    program_id: int | None = None
    at_from: datetime.datetime | None = None
    at_to: datetime.datetime | None = None

    def apply(self, events: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        if self.actor_id is not None:
            events = events.filter(actor_id=self.actor_id)
        if self.object_type:
            events = events.filter(object_type=self.object_type)
        if self.object_id and self.object_type:
            # One object, every id it was ever recorded under (older events used database keys).
            events = events.filter(object_id__in=object_aliases(self.object_type, self.object_id))
        elif self.object_id:
            events = events.filter(object_id=self.object_id)
        if self.action:
            events = events.filter(action=self.action)
        if self.client_ip:
            events = events.filter(client_ip=self.client_ip)
        if self.program_id is not None:
            events = events.filter(program_id=self.program_id)
        if self.at_from is not None:
            events = events.filter(at__gte=self.at_from)
        if self.at_to is not None:
            events = events.filter(at__lt=self.at_to)
        return events

    def as_details(self) -> dict[str, Any]:
        """The filter as an audit event's details: ids, codes and epochs only."""
        out: dict[str, Any] = {}
        for name in ("actor_id", "object_type", "object_id", "action", "client_ip", "program_id"):
            value = getattr(self, name)
            if value not in (None, ""):
                out[name] = value
        if self.at_from is not None:
            out["from_epoch"] = int(self.at_from.timestamp())
        if self.at_to is not None:
            out["to_epoch"] = int(self.at_to.timestamp())
        return out


@dataclass
class EventPage:
    events: list[AuditEvent] = field(default_factory=list)
    next_cursor: int | None = None


def newest_first(events: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
    return events.order_by("-at", "-seq")


def event_page(
    user: Any, filters: EventFilter, *, cursor: int | None = None, size: int = PAGE_SIZE
) -> EventPage:
    """One page of the events `user` may read, newest first, after the event `cursor` (a seq)."""
    events = filters.apply(visible_events(user))
    if cursor is not None:
        anchor = AuditEvent.objects.filter(seq=cursor).values_list("at", flat=True).first()
        if anchor is not None:
            events = events.filter(Q(at__lt=anchor) | Q(at=anchor, seq__lt=cursor))
    rows = list(newest_first(events)[: size + 1])
    page = EventPage(events=rows[:size])
    if len(rows) > size:
        page.next_cursor = rows[size - 1].seq
    return page


def events_for_export(user: Any, filters: EventFilter, *, limit: int) -> Iterator[AuditEvent]:
    events = newest_first(filters.apply(visible_events(user)))[:limit]
    return events.iterator(chunk_size=2000)


def who_saw(user: Any, *, object_type: str, object_id: str, size: int = PAGE_SIZE) -> list[AuditEvent]:
    """The incident drill, part 1: every event on one household (or case), newest first."""
    return event_page(user, EventFilter(object_type=object_type, object_id=object_id), size=size).events


def what_user_saw(
    user: Any, *, actor_id: int, at_from: datetime.datetime, at_to: datetime.datetime, size: int = PAGE_SIZE
) -> list[AuditEvent]:
    """The incident drill, part 2: what one user did between two moments, newest first."""
    filters = EventFilter(actor_id=actor_id, at_from=at_from, at_to=at_to)
    return event_page(user, filters, size=size).events


def auditable_programs(user: Any) -> QuerySet[Program]:
    return programs_for(user, "audit").order_by("code")
