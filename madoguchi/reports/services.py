"""Who may read reports, and the audit event of each report read or written.

Reports hold counts, never a personal item; they are still audited (VIEW on screen, EXPORT
for a file) with the counts they show, so the ward can tell who looked at what and when.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from madoguchi.audit.models import Action, AuditEvent
from madoguchi.audit.services import record
from madoguchi.programs.models import Program
from madoguchi.programs.scoping import can, programs_for
from madoguchi.reports.selectors import Report, build_report


def may_read_reports(user: Any) -> bool:
    """The supervisor, the ward's staff and the ward manager (not the operator, not the auditor)."""
    return can(user, "supervise") or can(user, "answer")


def may_see_operators(user: Any) -> bool:
    """Cases per operator: the supervisor and the ward manager only (docs/permissions.md)."""
    return can(user, "supervise")


def report_programs(user: Any) -> QuerySet[Program]:
    if not may_read_reports(user):
        return Program.objects.none()
    return programs_for(user, "view").select_related("ward").order_by("code")


def report_for(
    user: Any,
    program: Program,
    start: datetime.date,
    end: datetime.date,
    *,
    today: datetime.date | None = None,
) -> Report:
    """The report as `user` may see it (the per-operator section only for those who may)."""
    return build_report(program, start, end, with_operators=may_see_operators(user), today=today)


@transaction.atomic
def record_report_access(
    *, actor: Any, report: Report, fmt: str = "screen", encoding: str = "", via: str = "screen"
) -> AuditEvent:
    details: dict[str, Any] = {
        "report": report.kind,
        "days": len(report.days),
        "cases": report.total,
        "escalations": report.escalations.escalated,
        "operator_section": report.operators is not None,
        "via": via,
    }
    if fmt != "screen":
        details["format"] = fmt
        if encoding:
            details["encoding"] = encoding.replace("-", "")
    return record(
        action=Action.VIEW if fmt == "screen" else Action.EXPORT,
        actor=actor,
        program_id=report.program.pk,
        object_type="report",
        object_id=report.program.code,
        details=details,
    )
