"""What a ward manager or auditor may see: the organisations of the programs they audit."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from madoguchi.accounts.models import Organisation, User
from madoguchi.compliance.models import Incident, StaffCompliance
from madoguchi.programs.models import Program
from madoguchi.programs.scoping import programs_for


def programs(user: Any) -> QuerySet[Program]:
    return programs_for(user, "audit").order_by("code")


def organisations(user: Any) -> QuerySet[Organisation]:
    program_ids = list(programs(user).values_list("id", flat=True))
    return (
        Organisation.objects.filter(
            Q(programs_as_ward__in=program_ids) | Q(programs_as_contractor__in=program_ids)
        )
        .distinct()
        .order_by("kind", "code")
    )


def staff(user: Any) -> QuerySet[User]:
    return (
        User.objects.filter(organisation__in=organisations(user))
        .select_related("organisation")
        .order_by("organisation__code", "username")
    )


def staff_records(users: list[User]) -> dict[int, StaffCompliance]:
    return {row.user_id: row for row in StaffCompliance.objects.filter(user__in=users)}


def incidents(user: Any) -> QuerySet[Incident]:
    return Incident.objects.filter(program__in=programs(user)).select_related("program", "created_by")
