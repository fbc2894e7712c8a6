"""What the public pages read: which programs take inquiries now, and their categories."""

from __future__ import annotations

import datetime

from django.db.models import QuerySet
from django.utils import timezone

from madoguchi.cases.models import Category
from madoguchi.programs.models import Program


def is_accepting(program: Program, *, today: datetime.date | None = None) -> bool:
    """True inside the recording period itself.

    A correction window a ward manager opens after the period lets staff fix records; it
    does not reopen the public form, so this is stricter than `Program.is_recording_open`.
    """
    day = today or timezone.localdate()
    return program.recording_start <= day <= program.recording_end


def open_programs() -> list[Program]:
    today = timezone.localdate()
    return list(Program.objects.filter(recording_start__lte=today, recording_end__gte=today).order_by("code"))


def categories_for(program: Program) -> QuerySet[Category]:
    return Category.objects.filter(program=program, is_active=True).order_by("order", "pk")
