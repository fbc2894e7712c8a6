"""Erasing callback contacts (phone, e-mail) N days after their case was closed.

Each program keeps a case's callback contact `Program.callback_retention_days` days after the
case is closed (Sapporo's call center keeps them a month), then `madoguchi lifecycle sweep`,
run by cron, erases them. Rows are claimed by the conditional UPDATE itself: only a case that
is still closed, closed before the cut-off and still holds a contact is changed, so a case
reopened meanwhile, or a second sweep running at the same time, erases nothing twice. Each
program's erasure is one `purge` audit event with counts only.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from madoguchi.audit.models import Action
from madoguchi.audit.services import record
from madoguchi.cases.models import Case, Status
from madoguchi.programs.models import Program

BATCH = 1000


@dataclass
class ProgramSweep:
    program: Program
    cutoff: datetime.datetime
    cases: int = 0
    phones: int = 0
    emails: int = 0


@dataclass
class SweepReport:
    programs: list[ProgramSweep] = field(default_factory=list)

    @property
    def cases(self) -> int:
        return sum(p.cases for p in self.programs)

    @property
    def phones(self) -> int:
        return sum(p.phones for p in self.programs)

    @property
    def emails(self) -> int:
        return sum(p.emails for p in self.programs)


def _due(program: Program, cutoff: datetime.datetime) -> Q:
    return Q(program=program, status=Status.CLOSED, closed_at__lte=cutoff) & (
        ~Q(contact_phone="") | ~Q(contact_email="")
    )


@transaction.atomic
def _sweep_batch(program: Program, cutoff: datetime.datetime, ids: list[int], result: ProgramSweep) -> None:
    # Lock the rows still due (PostgreSQL), count what they hold, then erase with the same
    # condition: the UPDATE is the claim, a row changed since no longer matches.
    held = list(
        Case.objects.select_for_update()
        .filter(_due(program, cutoff), pk__in=ids)
        .values_list("pk", "contact_phone", "contact_email")
    )
    if not held:
        return
    erased = Case.objects.filter(_due(program, cutoff), pk__in=[pk for pk, _p, _e in held]).update(
        contact_phone="", contact_email="", version=F("version") + 1
    )
    result.cases += erased
    result.phones += sum(1 for _pk, phone, _e in held if phone)
    result.emails += sum(1 for _pk, _p, email in held if email)


def sweep_program(program: Program, *, now: datetime.datetime | None = None) -> ProgramSweep:
    cutoff = (now or timezone.now()) - datetime.timedelta(days=program.callback_retention_days)
    result = ProgramSweep(program=program, cutoff=cutoff)
    while True:
        ids = list(
            Case.objects.filter(_due(program, cutoff)).order_by("pk").values_list("pk", flat=True)[:BATCH]
        )
        if not ids:
            break
        _sweep_batch(program, cutoff, ids, result)
    if result.phones or result.emails:
        record(
            action=Action.PURGE,
            actor=None,
            program_id=program.pk,
            object_type="program",
            object_id=program.pk,
            details={
                "what": "callback_contacts",
                "fields": ["contact_phone", "contact_email"],
                "cases": result.cases,
                "phones": result.phones,
                "emails": result.emails,
                "days": program.callback_retention_days,
                "via": "sweep",
            },
        )
    return result


def sweep(*, now: datetime.datetime | None = None) -> SweepReport:
    """Erase every callback contact past its program's days; one audit event per program."""
    report = SweepReport()
    for program in Program.objects.order_by("code"):
        report.programs.append(sweep_program(program, now=now))
    return report
