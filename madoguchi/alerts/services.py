"""The alert rules and the run that raises them (`madoguchi alerts run`, from cron).

Each rule finds its occurrences with one grouped query over an index-friendly filter and gives
each a key that names the occurrence (rule, object, moment). Raising is an INSERT of the key
(unique): the occurrence already raised, by an earlier run or a concurrent one, is skipped,
so each alert is raised once. The e-mails are then claimed one by one with a conditional
UPDATE of `emailed_at` (NULL -> now): two runs never send the same alert twice, and a mail
that failed is put back to be sent by the next run. The e-mail holds a link only.
"""

from __future__ import annotations

import datetime
import logging
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import jpholiday
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncHour
from django.urls import reverse
from django.utils import timezone

from madoguchi.accounts.models import CONTRACTOR_ROLES, Role, User
from madoguchi.alerts.models import Alert, AlertSettings, Kind, Recipient
from madoguchi.audit.models import Action, AuditEvent
from madoguchi.audit.services import record
from madoguchi.cases.models import Case, Channel, Status
from madoguchi.dashboards.selectors import callback_deadline_filters
from madoguchi.programs.models import Program

logger = logging.getLogger(__name__)
JST = zoneinfo.ZoneInfo("Asia/Tokyo")

# How far back the audit rules look: a run missed for a day still finds its occurrences.
AUDIT_LOOKBACK = datetime.timedelta(hours=26)
# At most this many occurrences per rule and run (the rest come with the next run).
BATCH = 500
# Record views: the actions that show personal data, not the dashboards' counts.
VIEW_ACTIONS = (Action.VIEW, Action.SEARCH, Action.IDENTIFY, Action.EXPORT, Action.PRINT)
NOT_RECORDS = ("dashboard", "alert")


@dataclass
class Occurrence:
    kind: str
    key: str
    program_id: int
    case_id: int | None = None
    subject_id: int | None = None
    hour: datetime.datetime | None = None
    count: int = 0


@dataclass
class RunResult:
    raised: dict[str, int] = field(default_factory=dict)
    emailed: int = 0
    mail_failed: int = 0

    @property
    def total(self) -> int:
        return sum(self.raised.values())


# --- settings ------------------------------------------------------------------------------------


def settings_for(programs: Iterable[Program]) -> dict[int, AlertSettings]:
    """Each program's thresholds; the defaults (unsaved) where the ward manager set none."""
    programs = list(programs)
    saved = {row.program_id: row for row in AlertSettings.objects.filter(program__in=programs)}
    return {program.pk: saved.get(program.pk) or AlertSettings(program=program) for program in programs}


def is_business_hour(rules: AlertSettings, moment: datetime.datetime) -> bool:
    local = moment.astimezone(JST)
    if rules.weekdays_only and (local.weekday() >= 5 or jpholiday.is_holiday(local.date())):
        return False
    return rules.hours_start <= local.hour < rules.hours_end


@transaction.atomic
def update_settings(*, program: Program, actor: Any, changes: dict[str, Any]) -> AlertSettings:
    """The ward manager's change of the program's thresholds, audited (values in before/after)."""
    row = AlertSettings.objects.select_for_update().filter(program=program).first() or AlertSettings(
        program=program
    )
    fields = ["web_untouched_hours", "households_per_hour", "hours_start", "hours_end", "weekdays_only"]
    before = {name: getattr(row, name) for name in fields}
    for name in fields:
        if name in changes:
            setattr(row, name, changes[name])
    if row.hours_start >= row.hours_end:
        raise ValidationError({"hours_end": "業務時間の終了は開始より後にしてください。"})
    row.full_clean()
    row.save()
    after = {name: getattr(row, name) for name in fields}
    record(
        action=Action.SETTINGS_CHANGE,
        actor=actor,
        program_id=program.pk,
        object_type="alert_settings",
        object_id=program.pk,
        details={"fields": sorted(name for name in fields if before[name] != after[name])},
        before=before,
        after=after,
    )
    return row


# --- the rules -------------------------------------------------------------------------------------


def ward_overdue(programs: list[int], today: datetime.date) -> list[Occurrence]:
    """A ward answer past its deadline: one occurrence per escalation (its time is in the key)."""
    rows = (
        Case.objects.filter(program_id__in=programs, status=Status.ESCALATED, ward_due_on__lt=today)
        .order_by("escalated_at", "id")
        .values_list("pk", "program_id", "escalated_at", "ward_due_on")[:BATCH]
    )
    return [
        Occurrence(
            Kind.WARD_OVERDUE, f"ward_overdue:{pk}:{escalated:%Y%m%dT%H%M%S}:{due}", program, case_id=pk
        )
        for pk, program, escalated, due in rows
    ]


def callback_overdue(programs: list[int], now: datetime.datetime) -> list[Occurrence]:
    """A callback past its due time (the callback's day and window, as the dashboards count it:
    `dashboards.selectors.callback_deadline_filters`). The due time is in the key: a callback
    moved to a new time that passes too is a new occurrence."""
    _due_today, overdue = callback_deadline_filters(now)
    rows = (
        Case.objects.filter(overdue, program_id__in=programs)
        .order_by("callback_due_on", "id")
        .values_list("pk", "program_id", "callback_due_on", "callback_until")[:BATCH]
    )
    return [
        Occurrence(
            Kind.CALLBACK_OVERDUE,
            f"callback_overdue:{pk}:{due:%Y%m%d}{until.strftime('T%H%M') if until else ''}",
            program,
            case_id=pk,
        )
        for pk, program, due, until in rows
    ]


def web_untouched(programs: dict[int, AlertSettings], now: datetime.datetime) -> list[Occurrence]:
    """A web inquiry still new after the program's N hours."""
    if not programs:
        return []
    condition = Q()
    for program_id, rules in programs.items():
        cutoff = now - datetime.timedelta(hours=rules.web_untouched_hours)
        condition |= Q(program_id=program_id, received_at__lt=cutoff)
    rows = (
        Case.objects.filter(condition, status=Status.NEW, channel=Channel.FORM)
        .order_by("received_at", "id")
        .values_list("pk", "program_id")[:BATCH]
    )
    return [
        Occurrence(Kind.WEB_UNTOUCHED, f"web_untouched:{pk}", program, case_id=pk) for pk, program in rows
    ]


def record_views(programs: dict[int, AlertSettings], now: datetime.datetime) -> list[Occurrence]:
    """Record views out of the program's hours (holidays count), and one user opening more
    households in an hour than the program allows: one grouped query over the audit trail's
    (program_id, at) index for the look-back window, one occurrence per user, program and hour."""
    if not programs:
        return []
    buckets = (
        AuditEvent.objects.filter(
            program_id__in=list(programs),
            at__gte=now - AUDIT_LOOKBACK,
            at__lt=now,
            actor_id__isnull=False,
            action__in=VIEW_ACTIONS,
        )
        .exclude(object_type__in=NOT_RECORDS)
        .annotate(slot=TruncHour("at", tzinfo=JST))
        .values("actor_id", "program_id", "slot")
        .annotate(
            events=Count("id"),
            households=Count("object_id", distinct=True, filter=Q(object_type="household")),
        )
        .order_by("slot", "actor_id")
    )
    found = []
    for bucket in buckets[: BATCH * 4]:
        rules = programs[bucket["program_id"]]
        slot = bucket["slot"]
        tag = f"{bucket['program_id']}:{bucket['actor_id']}:{slot.astimezone(JST):%Y%m%dT%H}"
        common = {"program_id": bucket["program_id"], "subject_id": bucket["actor_id"], "hour": slot}
        if not is_business_hour(rules, slot):
            found.append(
                Occurrence(Kind.OUT_OF_HOURS, f"out_of_hours:{tag}", count=bucket["events"], **common)
            )
        if bucket["households"] > rules.households_per_hour:
            found.append(
                Occurrence(
                    Kind.HOUSEHOLD_BURST, f"household_burst:{tag}", count=bucket["households"], **common
                )
            )
    return found


# --- raising and mailing -------------------------------------------------------------------------


def recipients_for(
    occurrence: Occurrence, program: Program, people: list[Any], roles: dict[int, str] | None = None
) -> list[Any]:
    """The ward manager for the ward's deadline and for record views; the supervisor for the
    contractor's callbacks and web inquiries, and for record views by contractor staff."""
    managers = [p for p in people if p.role == Role.WARD_MANAGER and p.organisation_id == program.ward_id]
    supervisors = [
        p for p in people if p.role == Role.SUPERVISOR and p.organisation_id == program.contractor_id
    ]
    if occurrence.kind == Kind.WARD_OVERDUE:
        return managers
    if occurrence.kind in (Kind.CALLBACK_OVERDUE, Kind.WEB_UNTOUCHED):
        return supervisors
    role = (roles or {}).get(occurrence.subject_id or 0, "")
    if role in CONTRACTOR_ROLES:
        return managers + supervisors
    return managers


def raise_all(occurrences: list[Occurrence], programs: dict[int, Program]) -> dict[str, int]:
    """Insert each occurrence not yet raised (its key is unique) with its recipients."""
    raised: dict[str, int] = {}
    if not occurrences:
        return raised
    known = set(Alert.objects.filter(key__in=[o.key for o in occurrences]).values_list("key", flat=True))
    fresh = [o for o in occurrences if o.key not in known]
    if not fresh:
        return raised
    people = list(
        User.objects.filter(
            programs__in=list(programs), is_active=True, role__in=[Role.WARD_MANAGER, Role.SUPERVISOR]
        ).distinct()
    )
    subjects = {o.subject_id for o in fresh if o.subject_id}
    roles = dict(User.objects.filter(pk__in=subjects).values_list("pk", "role")) if subjects else {}
    members: dict[int, set[int]] = {}
    for program_id, user_id in Program.members.through.objects.filter(
        program_id__in=list(programs)
    ).values_list("program_id", "user_id"):
        members.setdefault(program_id, set()).add(user_id)
    for occurrence in fresh:
        program = programs[occurrence.program_id]
        concerned = [p for p in people if p.pk in members.get(program.pk, set())]
        try:
            # Its own transaction: a key inserted meanwhile by a concurrent run fails here
            # (waiting for that run's commit on PostgreSQL) and this one skips it.
            with transaction.atomic():
                alert = Alert.objects.create(
                    program=program,
                    kind=occurrence.kind,
                    key=occurrence.key,
                    case_id=occurrence.case_id,
                    subject_id=occurrence.subject_id,
                    hour=occurrence.hour,
                    count=occurrence.count,
                )
                Recipient.objects.bulk_create(
                    Recipient(alert=alert, user=user)
                    for user in recipients_for(occurrence, program, concerned, roles)
                )
        except IntegrityError:
            continue
        raised[occurrence.kind] = raised.get(occurrence.kind, 0) + 1
    return raised


def alert_url(alert: Alert) -> str:
    return (settings.SITE_URL or "").rstrip("/") + reverse("alerts:detail", args=[alert.public_id])


def email_text(alert: Alert) -> tuple[str, str]:
    """No personal item, no receipt number: the kind and a link."""
    what = Kind(alert.kind).label
    subject = f"[窓口] アラート: {what}"
    body = (
        f"確認が必要なアラートがあります（{what}）。\n"
        "内容はシステムにログインして確認してください。\n\n"
        f"{alert_url(alert)}\n"
    )
    return subject, body


def send_pending(*, limit: int = BATCH) -> tuple[int, int]:
    """Send each alert's e-mail once: claimed by a conditional UPDATE, put back on failure."""
    sent = failed = 0
    pending = list(
        Alert.objects.filter(emailed_at__isnull=True).order_by("id").values_list("pk", flat=True)[:limit]
    )
    for pk in pending:
        claimed = Alert.objects.filter(pk=pk, emailed_at__isnull=True).update(emailed_at=timezone.now())
        if not claimed:
            continue  # another run has it
        alert = Alert.objects.get(pk=pk)
        addresses = list(
            Recipient.objects.filter(alert=alert, user__is_active=True)
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
        if not addresses:
            continue
        subject, body = email_text(alert)
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, addresses)
            sent += 1
        except Exception:
            # Only the alert's id: the address list is personal data of staff.
            logger.exception("alert mail failed for alert %s", alert.pk)
            Alert.objects.filter(pk=pk).update(emailed_at=None)
            failed += 1
    return sent, failed


def run(*, now: datetime.datetime | None = None) -> RunResult:
    """One pass of every rule over every program, then the e-mails."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    programs = {program.pk: program for program in Program.objects.all()}
    thresholds = settings_for(programs.values())
    ids = list(programs)
    occurrences = (
        ward_overdue(ids, today)
        + callback_overdue(ids, now)
        + web_untouched(thresholds, now)
        + record_views(thresholds, now)
    )
    result = RunResult(raised=raise_all(occurrences, programs))
    result.emailed, result.mail_failed = send_pending()
    return result
