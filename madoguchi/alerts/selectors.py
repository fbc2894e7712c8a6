"""The user's alerts (the in-app notifications) and the programs whose thresholds they set."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from madoguchi.alerts.models import Recipient
from madoguchi.cases.selectors import capped_count
from madoguchi.programs.models import Program
from madoguchi.programs.scoping import can, programs_for


def alerts_for(user: Any) -> QuerySet[Recipient]:
    """The alerts sent to the user, in programs the user still works on."""
    return (
        Recipient.objects.filter(user_id=user.pk, alert__program__in=programs_for(user, "view"))
        .select_related("alert", "alert__program", "alert__case", "alert__subject")
        .order_by("-alert__raised_at", "-alert_id")
    )


def unread_count(user: Any) -> int:
    if not can(user, "supervise"):
        return 0
    return capped_count(Recipient.objects.filter(user_id=user.pk, read_at__isnull=True))


def managed_programs(user: Any) -> QuerySet[Program]:
    """The programs of the ward manager's own ward (their thresholds)."""
    return programs_for(user, "manage").filter(ward_id=getattr(user, "organisation_id", None))
