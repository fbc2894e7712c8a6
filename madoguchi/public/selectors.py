"""What the public pages read: which programs take inquiries now, and their categories.

The form's steps read the program (with its ward and contractor, named in the purpose of use)
and its active categories on every request. They change a few times in a program's life, so
each app process keeps them for `PUBLIC_PROGRAM_CACHE_SECONDS` (default 10): a change made
through the ORM empties this process's copy at once (signals), the other processes pick it up
within that time. Whether the form is open is decided per request from today's date, so the
period opens and closes on the day; before the write the period is compared with the
database (`program_for_write`), so `create_case` checks the period as the database holds it.
"""

from __future__ import annotations

import datetime
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from madoguchi.cases.models import Category
from madoguchi.programs.models import Program


def is_accepting(program: Program, *, today: datetime.date | None = None) -> bool:
    """True inside the recording period itself.

    A correction window a ward manager opens after the period lets staff fix records; it
    does not reopen the public form, so this is stricter than `Program.is_recording_open`.
    """
    day = today or timezone.localdate()
    if program.recording_closed_at is not None and timezone.now() >= program.recording_closed_at:
        return False  # the ward manager ended recording early
    return program.recording_start <= day <= program.recording_end


def open_programs() -> list[Program]:
    today = timezone.localdate()
    return list(
        Program.objects.filter(recording_start__lte=today, recording_end__gte=today)
        .filter(Q(recording_closed_at__isnull=True) | Q(recording_closed_at__gt=timezone.now()))
        .order_by("code")
    )


def categories_for(program: Program) -> QuerySet[Category]:
    return Category.objects.filter(program=program, is_active=True).order_by("order", "pk")


@dataclass
class FormProgram:
    """A program as the form's pages show it, with what was rendered from it (per language)."""

    program: Program
    categories: tuple[Category, ...]
    loaded_at: float
    # The resident-independent HTML of the empty input page, per language (see views).
    pages: dict[str, str] = field(default_factory=dict)


_programs: dict[str, FormProgram] = {}
_lock = threading.Lock()


def form_program(code: str) -> FormProgram | None:
    """The program with this code and its active categories; None when there is none."""
    entry = _programs.get(code)
    now = time.monotonic()
    if entry is not None and now - entry.loaded_at < settings.PUBLIC_PROGRAM_CACHE_SECONDS:
        return entry
    program = Program.objects.select_related("ward", "contractor").filter(code=code).first()
    if program is None:
        _programs.pop(code, None)
        return None
    entry = FormProgram(program=program, categories=tuple(categories_for(program)), loaded_at=now)
    if settings.PUBLIC_PROGRAM_CACHE_SECONDS > 0:
        with _lock:
            _programs[code] = entry
    return entry


# What the write depends on (the period, who is eligible, the receipt number's prefix).
_WRITE_FIELDS = (
    "recording_start",
    "recording_end",
    "recording_closed_at",
    "child_dob_from",
    "child_dob_to",
    "receipt_prefix",
)


def program_for_write(code: str) -> FormProgram | None:
    """The program for the write, checked against the database now.

    The fields the write depends on are read in one plain statement and compared with this
    process's copy; if anything changed (another process edited the program a moment ago),
    the copy is dropped and read again. So `create_case` always checks the period the
    database holds, without building a model from the database on every submission.
    """
    entry = form_program(code)
    if entry is None:
        return None
    program = entry.program
    quote = connection.ops.quote_name
    columns = ", ".join(quote(name) for name in _WRITE_FIELDS)  # plain fields: column = name
    table = quote(Program._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {table} WHERE id = %s", [program.pk])  # noqa: S608
        row = cursor.fetchone()
    if row is not None and tuple(row) == tuple(getattr(program, name) for name in _WRITE_FIELDS):
        return entry
    forget_programs()
    return form_program(code)


def forget_programs(**_kwargs: Any) -> None:
    """Drop this process's copies (a program, category or organisation was saved or deleted)."""
    with _lock:
        _programs.clear()
