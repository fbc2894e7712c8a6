"""Changes to a program itself: ending its recording early.

Only a ward manager of the program's own ward who works on it may end recording (scoping
action `manage`, like the correction window). The act is a `settings_change` audit event with
before/after in the same transaction; the screen and `madoguchi lifecycle close` both call
`close_recording`.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi.audit.models import Action
from madoguchi.audit.services import record
from madoguchi.programs.models import Program
from madoguchi.programs.scoping import programs_for

REASON_MAX_LENGTH = 500


class ProgramRefused(Exception):
    """Refused: a Japanese message, nothing changed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def is_ward_manager_of(program: Program, actor: Any) -> bool:
    """A ward manager of the program's own ward who works on it (not a contractor's manager)."""
    return (
        getattr(actor, "organisation_id", None) == program.ward_id
        and programs_for(actor, "manage").filter(pk=program.pk).exists()
    )


@transaction.atomic
def close_recording(*, program: Program, actor: Any, reason: str, via: str = "screen") -> Program:
    """End the program's recording now, before its recording end, with a reason.

    A correction window still open is closed with it: the early close is the later decision.
    A window the ward manager opens afterwards works as before (`Program.is_recording_open`).
    """
    if not is_ward_manager_of(program, actor):
        raise ProgramRefused(_("記録を終了できるのは、この事業の区の区管理者だけです。"))
    locked = Program.objects.select_for_update(no_key=True).get(pk=program.pk)  # as an import's
    if locked.recording_ended():
        raise ProgramRefused(_("この事業の記録期間はすでに終了しています。"))
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError({"reason": _("記録を終了する理由を入力してください。")})
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError(
            {"reason": _("理由は%(n)d文字以内で入力してください。") % {"n": REASON_MAX_LENGTH}}
        )
    now = timezone.now()
    before = {
        "recording_closed_at": None,
        "correction_allowed_until": (
            locked.correction_allowed_until.isoformat() if locked.correction_allowed_until else None
        ),
    }
    locked.recording_closed_at = now
    locked.recording_closed_reason = reason
    locked.recording_closed_by = actor
    locked.correction_allowed_until = None
    locked.full_clean()
    locked.save(
        update_fields=[
            "recording_closed_at",
            "recording_closed_reason",
            "recording_closed_by",
            "correction_allowed_until",
        ]
    )
    record(
        action=Action.SETTINGS_CHANGE,
        actor=actor,
        program_id=locked.pk,
        object_type="program",
        object_id=locked.pk,
        details={
            "fields": ["recording_closed_at", "recording_closed_reason"],
            "via": via,
            "closed_early": True,
        },
        before=before,
        after={"recording_closed_at": now.isoformat(), "correction_allowed_until": None, "reason": reason},
    )
    # The caller's instance sees the change too.
    program.recording_closed_at = locked.recording_closed_at
    program.recording_closed_reason = reason
    program.recording_closed_by = actor
    program.correction_allowed_until = None
    return locked
