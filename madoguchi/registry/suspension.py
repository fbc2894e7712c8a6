"""Suspension of use (利用停止, APPI §35) of one household, and lifting it.

Only a ward manager of the program's own ward may suspend or lift (the resident asks the ward).
A suspended household is not offered by identification (`identify.engine.load_candidate_profiles`)
and no new case may be attached to it (`cases.services`); its existing cases stay readable.
Both acts are `update` audit events with before/after; the reason, free text, is only in the
after-image, never in `details`.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi.audit.models import Action
from madoguchi.audit.services import record
from madoguchi.programs.services import is_ward_manager_of
from madoguchi.registry.models import Household

REASON_MAX_LENGTH = 500


class SuspensionRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _require_ward_manager(household: Household, actor: Any) -> None:
    if not is_ward_manager_of(household.program, actor):
        raise SuspensionRefused(_("利用停止を設定・解除できるのは、この事業の区の区管理者だけです。"))


SUSPENSION_FIELDS = ("suspended_at", "suspended_reason", "suspended_by")


def _check(household: Household) -> None:
    """full_clean() of the fields this module writes (the list's own fields are the import's)."""
    others = [f.name for f in Household._meta.get_fields() if f.concrete and f.name not in SUSPENSION_FIELDS]
    household.full_clean(exclude=others, validate_unique=False, validate_constraints=False)


def _state(household: Household) -> dict[str, Any]:
    return {"suspended_at": household.suspended_at.isoformat() if household.suspended_at else None}


@transaction.atomic
def suspend_household(*, household: Household, actor: Any, reason: str) -> Household:
    _require_ward_manager(household, actor)
    locked = Household.objects.select_for_update().get(pk=household.pk)
    if locked.is_suspended:
        raise SuspensionRefused(_("この世帯はすでに利用停止中です。"))
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError({"reason": _("利用停止の理由を入力してください。")})
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError(
            {"reason": _("理由は%(n)d文字以内で入力してください。") % {"n": REASON_MAX_LENGTH}}
        )
    before = _state(locked)
    locked.suspended_at = timezone.now()
    locked.suspended_reason = reason
    locked.suspended_by = actor
    return _save_and_audit(locked, actor, "suspended", before, reason)


@transaction.atomic
def lift_suspension(*, household: Household, actor: Any, reason: str = "") -> Household:
    _require_ward_manager(household, actor)
    locked = Household.objects.select_for_update().get(pk=household.pk)
    if not locked.is_suspended:
        raise SuspensionRefused(_("この世帯は利用停止されていません。"))
    before = {**_state(locked), "reason": locked.suspended_reason}
    locked.suspended_at = None
    locked.suspended_reason = ""
    locked.suspended_by = None
    return _save_and_audit(locked, actor, "lifted", before, " ".join((reason or "").split()))


def _save_and_audit(
    locked: Household, actor: Any, change: str, before: dict[str, Any], reason: str
) -> Household:
    """Save a suspension or its lifting and audit it, the reason in the after image."""
    _check(locked)
    locked.save(update_fields=["suspended_at", "suspended_reason", "suspended_by", "updated_at"])
    record(
        action=Action.UPDATE,
        actor=actor,
        program_id=locked.program_id,
        object_type="household",
        object_id=str(locked.public_id),
        details={"fields": ["suspended_at", "suspended_reason"], "suspension": change},
        before=before,
        after={**_state(locked), "reason": reason},
    )
    return locked
