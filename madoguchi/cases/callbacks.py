"""Callbacks (折り返し): when to call, each attempt and its outcome.

The caller's "平日14時以降" becomes a day and a time window on the case; the callback queue is
ordered by it and flagged overdue once the window has passed (`models.callback_deadline`),
independently of the ward's deadline. Every attempt is a `CallbackAttempt` row (the count is
the number of rows) and a timeline entry; a reached caller ends the wait (対応中).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi.audit.models import Action
from madoguchi.cases.models import CallbackAttempt, CallbackOutcome, Case, Status, TimelineEntry
from madoguchi.cases.services import (
    TransitionRefused,
    _actor_snapshot,
    _add_entry,
    _audit,
    _bump,
    _require_member,
    _require_open,
    _transition,
    can_transition,
)

Kind = TimelineEntry.Kind


def window_text(day: datetime.date, start: datetime.time | None, end: datetime.time | None) -> str:
    text = day.strftime("%Y-%m-%d")
    if start or end:
        begin = start.strftime("%H:%M") if start else ""
        text += f" {begin}〜{end.strftime('%H:%M') if end else ''}"
    return text


def _check_window(
    day: datetime.date | None, start: datetime.time | None, end: datetime.time | None
) -> datetime.date:
    if day is None:
        raise ValidationError({"due_on": _("折り返しの予定日を入力してください。")})
    if start and end and start >= end:
        raise ValidationError({"until": _("時間帯の終わりは始まりより後にしてください。")})
    if day < timezone.localdate():
        raise ValidationError({"due_on": _("折り返しの予定日に過去の日付は指定できません。")})
    return day


@transaction.atomic
def schedule_callback(
    *,
    case: Case,
    actor: Any,
    due_on: datetime.date | None,
    start: datetime.time | None = None,
    until: datetime.time | None = None,
    note: str = "",
    expected_version: int,
) -> Case:
    """Set (or move) the callback's day and window; the case waits in 折り返し待ち."""
    _require_open(case.program)
    _require_member(case, actor)
    day = _check_window(due_on, start, until)
    fields: dict[str, Any] = {"callback_due_on": day, "callback_from": start, "callback_until": until}
    if case.status != Status.CALLBACK:
        if not can_transition(case, Status.CALLBACK, actor):
            raise TransitionRefused(_("この問い合わせは折り返し待ちにできません。"))
        _transition(case, Status.CALLBACK, actor, "", expected_version, **fields)
    else:
        _bump(case, expected_version, **fields)
    body = _("折り返し予定: %(when)s") % {"when": window_text(day, start, until)}
    if note.strip():
        body += "\n" + note.strip()
    _add_entry(case, kind=Kind.CALLBACK_DUE, actor=actor, body=body)
    _audit(case, actor, Action.UPDATE, {"fields": ["callback_due_on", "callback_from", "callback_until"]})
    return case


@transaction.atomic
def record_attempt(
    *,
    case: Case,
    actor: Any,
    outcome: str,
    note: str = "",
    expected_version: int,
    next_due_on: datetime.date | None = None,
    next_from: datetime.time | None = None,
    next_until: datetime.time | None = None,
) -> CallbackAttempt:
    """One call back: its outcome is a row; 通話済 ends the wait (対応中), any other outcome
    keeps it, optionally at a new time."""
    if outcome not in CallbackOutcome.values:
        raise ValidationError({"outcome": _("結果を選んでください。")})
    _require_open(case.program)
    _require_member(case, actor)
    if case.status != Status.CALLBACK:
        raise TransitionRefused(_("折り返し待ちの問い合わせではありません。"))
    snapshot = _actor_snapshot(actor)
    attempt = CallbackAttempt(
        case=case,
        outcome=outcome,
        note=note.strip(),
        attempted_by=snapshot["author"],
        attempted_by_name=snapshot["author_name"],
    )
    attempt.full_clean(exclude=["case"])
    attempt.save()
    count = CallbackAttempt.objects.filter(case=case).count()
    body = _("%(count)s回目: %(outcome)s") % {"count": count, "outcome": CallbackOutcome(outcome).label}
    if attempt.note:
        body += "\n" + attempt.note
    if outcome == CallbackOutcome.REACHED:
        _transition(case, Status.IN_PROGRESS, actor, "", expected_version)
    elif next_due_on is not None:
        day = _check_window(next_due_on, next_from, next_until)
        _bump(case, expected_version, callback_due_on=day, callback_from=next_from, callback_until=next_until)
        body += "\n" + _("次の折り返し予定: %(when)s") % {"when": window_text(day, next_from, next_until)}
    else:
        _bump(case, expected_version)
    _add_entry(case, kind=Kind.CALLBACK_CALL, actor=actor, body=body)
    _audit(case, actor, Action.UPDATE, {"fields": ["callback_attempts"], "outcome": outcome, "count": count})
    return attempt
