"""The access review report (R-25, R-41, T-OP-05): every account, and what looks unusual.

Unusual, over a window (default: the last 30 days):
- a user who opened more than N households in one hour (N per program, else the setting);
- access to personal data outside the program's hours (default 8:00-20:00 JST, weekdays
  that are not national holidays);
- bursts of lockouts (at least AUDIT_REVIEW_LOCKOUTS_PER_HOUR in one hour);
- refused client addresses.
All of it is a handful of GROUP BY queries on the (at, ...) indexes of the window, not a
scan of the whole trail. Hours are counted in whole clock hours (JST): a program whose day
ends at 20:00 flags a 20:05 event, one whose day ends at 20:30 flags it from 21:00.
"""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

import jpholiday
from django.conf import settings
from django.db.models import Count, Max, Min, OuterRef, Q, Subquery
from django.db.models.functions import TruncHour

from madoguchi.audit.models import Action, AuditEvent
from madoguchi.audit.selectors import auditable_programs, scope_for, users_in_scope, visible_events

JST = zoneinfo.ZoneInfo("Asia/Tokyo")

# The actions that touch personal data: what "access outside hours" counts.
DATA_ACTIONS = (
    Action.VIEW,
    Action.SEARCH,
    Action.IDENTIFY,
    Action.CREATE,
    Action.UPDATE,
    Action.DELETE,
    Action.EXPORT,
    Action.PRINT,
    Action.IMPORT,
)


@dataclass(frozen=True)
class Policy:
    households_per_hour: int
    start_hour: int
    end_hour: int
    weekdays_only: bool

    def is_business_hour(self, moment: datetime.datetime) -> bool:
        local = moment.astimezone(JST)
        if self.weekdays_only and (local.weekday() >= 5 or jpholiday.is_holiday(local.date())):
            return False
        return self.start_hour <= local.hour < self.end_hour


def _parse_hours(text: str) -> tuple[int, int]:
    try:
        start, end = (part.strip() for part in text.split("-", 1))
        start_hour = int(start.split(":")[0])
        end_h, _, end_m = end.partition(":")
        end_hour = int(end_h) + (1 if end_m and int(end_m) > 0 else 0)
    except ValueError as exc:
        raise ValueError(f"business hours must look like 08:00-20:00, not {text!r}") from exc
    return start_hour, end_hour


def policy_for(program_code: str | None) -> Policy:
    overrides: dict[str, Any] = dict(settings.AUDIT_REVIEW_PROGRAMS.get(program_code or "", {}))
    start, end = _parse_hours(str(overrides.get("hours", settings.AUDIT_REVIEW_HOURS)))
    return Policy(
        households_per_hour=int(
            overrides.get("households_per_hour", settings.AUDIT_REVIEW_HOUSEHOLDS_PER_HOUR)
        ),
        start_hour=start,
        end_hour=end,
        weekdays_only=bool(overrides.get("weekdays_only", settings.AUDIT_REVIEW_WEEKDAYS_ONLY)),
    )


@dataclass
class AccountRow:
    user: Any
    programs: list[str]
    last_lockout: datetime.datetime | None


@dataclass
class HourRow:
    actor_id: int
    actor: Any
    program_id: int | None
    program_code: str
    hour: datetime.datetime
    events: int
    households: int
    threshold: int = 0


@dataclass
class LockoutBurst:
    hour: datetime.datetime
    count: int
    users: int


@dataclass
class AddressRow:
    client_ip: str
    count: int
    first: datetime.datetime
    last: datetime.datetime
    users: int


@dataclass
class Review:
    at_from: datetime.datetime
    at_to: datetime.datetime
    accounts: list[AccountRow] = field(default_factory=list)
    bursts: list[HourRow] = field(default_factory=list)
    out_of_hours: list[HourRow] = field(default_factory=list)
    lockout_bursts: list[LockoutBurst] = field(default_factory=list)
    lockouts: int = 0
    refused_addresses: list[AddressRow] = field(default_factory=list)


def access_review(user: Any, *, at_from: datetime.datetime, at_to: datetime.datetime) -> Review:
    review = Review(at_from=at_from, at_to=at_to)
    scope = scope_for(user)
    if scope.empty:
        return review
    programs = {p.pk: p.code for p in auditable_programs(user)}
    last_lockout = (
        AuditEvent.objects.filter(action=Action.LOCKOUT, actor_id=OuterRef("pk"))
        .order_by("-at")
        .values("at")[:1]
    )
    people = {}
    for account in (
        users_in_scope(scope).annotate(last_lockout=Subquery(last_lockout)).prefetch_related("programs")
    ):
        people[account.pk] = account
        review.accounts.append(
            AccountRow(
                user=account,
                programs=sorted(p.code for p in account.programs.all() if p.pk in programs),
                last_lockout=account.last_lockout,
            )
        )

    window = visible_events(user).filter(at__gte=at_from, at__lt=at_to)
    buckets = (
        window.filter(actor_id__isnull=False, action__in=DATA_ACTIONS)
        .annotate(hour=TruncHour("at", tzinfo=JST))
        .values("actor_id", "program_id", "hour")
        .annotate(
            events=Count("id"),
            households=Count("object_id", distinct=True, filter=Q(object_type="household")),
        )
        .order_by("hour", "actor_id")
    )
    for bucket in buckets:
        code = programs.get(bucket["program_id"], "")
        policy = policy_for(code)
        row = HourRow(
            actor_id=bucket["actor_id"],
            actor=people.get(bucket["actor_id"]),
            program_id=bucket["program_id"],
            program_code=code,
            hour=bucket["hour"],
            events=bucket["events"],
            households=bucket["households"],
            threshold=policy.households_per_hour,
        )
        if row.households > policy.households_per_hour:
            review.bursts.append(row)
        if not policy.is_business_hour(row.hour):
            review.out_of_hours.append(row)

    lockouts = (
        window.filter(action=Action.LOCKOUT)
        .annotate(hour=TruncHour("at", tzinfo=JST))
        .values("hour")
        .annotate(count=Count("id"), users=Count("actor_id", distinct=True))
        .order_by("hour")
    )
    for bucket in lockouts:
        review.lockouts += bucket["count"]
        if bucket["count"] >= settings.AUDIT_REVIEW_LOCKOUTS_PER_HOUR:
            review.lockout_bursts.append(LockoutBurst(bucket["hour"], bucket["count"], bucket["users"]))

    # Refused addresses are often refused before anyone signs in: anonymous refusals count too.
    refused = (
        (
            window
            | AuditEvent.objects.filter(
                at__gte=at_from, at__lt=at_to, actor_id__isnull=True, program_id__isnull=True
            )
        )
        .filter(action=Action.ADDRESS_REFUSED)
        .values("client_ip")
        .annotate(count=Count("id"), first=Min("at"), last=Max("at"), users=Count("actor_id", distinct=True))
        .order_by("-count", "client_ip")
    )
    review.refused_addresses = [
        AddressRow(row["client_ip"], row["count"], row["first"], row["last"], row["users"]) for row in refused
    ]
    return review
