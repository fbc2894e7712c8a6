"""Compliance records: the login rule (pledge and training) and the audited changes."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi.accounts.models import User
from madoguchi.audit.models import Action
from madoguchi.audit.services import record
from madoguchi.compliance.models import (
    INCIDENT_FIELDS,
    Incident,
    ResponsiblePerson,
    StaffCompliance,
    TrainingPolicy,
)
from madoguchi.programs.models import Program


@dataclass(frozen=True)
class Refusal:
    code: str  # "no_pledge", "no_training", "training_expired"
    message: str


def valid_days_for(user: User) -> int | None:
    """The strictest training validity that applies to the user (their organisation's or any
    of their programs' policy), or None when no policy applies."""
    scope = Q(program__members=user)
    if user.organisation_id:
        scope |= Q(organisation_id=user.organisation_id)
    days = list(TrainingPolicy.objects.filter(scope).values_list("valid_days", flat=True))
    return min(days) if days else None


def training_expires_on(record_: StaffCompliance | None, valid_days: int | None) -> datetime.date | None:
    if record_ is None or record_.training_completed_on is None or valid_days is None:
        return None
    return record_.training_completed_on + datetime.timedelta(days=valid_days)


def login_refusal(user: User, *, today: datetime.date | None = None) -> Refusal | None:
    """Why `user` may not log in (no pledge, no or expired training), or None."""
    valid_days = valid_days_for(user)
    if valid_days is None:
        return None
    today = today or timezone.localdate()
    staff = StaffCompliance.objects.filter(user=user).first()
    if staff is None or staff.pledge_signed_on is None:
        return Refusal(
            "no_pledge",
            _(
                "秘密保持誓約の記録がないため、ログインできません。管理者に誓約書の提出と記録を依頼してください。"
            ),
        )
    if staff.training_completed_on is None:
        return Refusal(
            "no_training",
            _(
                "個人情報保護研修の受講記録がないため、ログインできません。研修を受講し、管理者に記録を依頼してください。"
            ),
        )
    expires = training_expires_on(staff, valid_days)
    if expires is not None and today > expires:
        return Refusal(
            "training_expired",
            _(
                "個人情報保護研修の有効期限（%(date)s）が切れているため、ログインできません。"
                "研修を受講し、管理者に記録を依頼してください。"
            )
            % {"date": expires.isoformat()},
        )
    return None


def _values(obj: Any, fields: list[str]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name in fields:
        value: Any = getattr(obj, name, None)
        if hasattr(value, "isoformat"):
            value = value.isoformat()
        elif hasattr(value, "pk"):
            value = value.pk
        result[name] = value
    return result


STAFF_FIELDS = ["pledge_signed_on", "training_completed_on", "note"]


@transaction.atomic
def save_staff_record(
    *,
    actor: User,
    user: User,
    pledge_signed_on: datetime.date | None,
    training_completed_on: datetime.date | None,
    note: str,
) -> StaffCompliance:
    staff, created = StaffCompliance.objects.select_for_update().get_or_create(user=user)
    before = {} if created else _values(staff, STAFF_FIELDS)
    staff.pledge_signed_on = pledge_signed_on
    staff.training_completed_on = training_completed_on
    staff.note = note
    staff.full_clean()
    staff.save()
    after = _values(staff, STAFF_FIELDS)
    changed = sorted(name for name in STAFF_FIELDS if before.get(name) != after.get(name))
    record(
        action=Action.UPDATE,
        actor=actor,
        object_type="staff_compliance",
        object_id=user.pk,
        details={"fields": changed},
        before=before,
        after=after,
    )
    return staff


@transaction.atomic
def save_policy(
    *, actor: User, organisation_id: int | None, program_id: int | None, valid_days: int | None
) -> TrainingPolicy | None:
    """Set (or, with `valid_days=None`, remove) the training validity of an organisation or program."""
    lookup = {"organisation_id": organisation_id} if organisation_id else {"program_id": program_id}
    policy = TrainingPolicy.objects.filter(**lookup).first()
    before = {"valid_days": policy.valid_days} if policy else {}
    if valid_days is None:
        if policy is not None:
            policy.delete()
        policy = None
    else:
        policy = policy or TrainingPolicy(**lookup)
        policy.valid_days = valid_days
        policy.full_clean()
        policy.save()
    record(
        action=Action.SETTINGS_CHANGE,
        actor=actor,
        program_id=program_id,
        object_type="training_policy",
        object_id=organisation_id or program_id or "",
        details={"scope": "organisation" if organisation_id else "program", "removed": policy is None},
        before=before,
        after={"valid_days": valid_days} if valid_days is not None else {},
    )
    return policy


@transaction.atomic
def save_responsible(
    *, actor: User, program: Program, organisation_id: int, user: User, title: str, since: datetime.date
) -> ResponsiblePerson:
    current = ResponsiblePerson.objects.filter(program=program, organisation_id=organisation_id).first()
    before = _values(current, ["user", "title", "since"]) if current else {}
    person = current or ResponsiblePerson(program=program, organisation_id=organisation_id)
    person.user = user
    person.title = title
    person.since = since
    person.full_clean()
    person.save()
    record(
        action=Action.UPDATE if current else Action.CREATE,
        actor=actor,
        program_id=program.pk,
        object_type="responsible_person",
        object_id=person.pk,
        details={"organisation": organisation_id},
        before=before,
        after=_values(person, ["user", "title", "since"]),
    )
    return person


@transaction.atomic
def save_incident(*, actor: User, incident: Incident, data: dict[str, Any]) -> Incident:
    """Create or change an incident (all-or-nothing, audited with before/after)."""
    created = incident.pk is None
    before = (
        {} if created else _values(Incident.objects.select_for_update().get(pk=incident.pk), INCIDENT_FIELDS)
    )
    for name in INCIDENT_FIELDS:
        if name in data:
            setattr(incident, name, data[name])
    if created:
        incident.created_by = actor
    incident.full_clean()
    incident.save()
    after = _values(incident, INCIDENT_FIELDS)
    record(
        action=Action.CREATE if created else Action.UPDATE,
        actor=actor,
        program_id=incident.program_id,
        object_type="incident",
        object_id=incident.pk,
        details={"fields": sorted(name for name in INCIDENT_FIELDS if before.get(name) != after.get(name))},
        before=before,
        after=after,
    )
    return incident
