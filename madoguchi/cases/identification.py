"""Identify later: link a case to a household, unlink a wrong link, correct 本人確認.

A case saved without a household (every web inquiry, and calls not identified at first) is
linked from its case page through the identify panel. Each change is a timeline entry and an
audit event in one transaction, refused outside the recording period; 本人確認 is always
decided by the program's rule (`cases.verification.decide`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from madoguchi.accounts.models import Role
from madoguchi.audit.models import Action
from madoguchi.cases.models import Case, TimelineEntry
from madoguchi.cases.services import (
    TransitionRefused,
    _add_entry,
    _audit,
    _bump,
    _refuse_suspended,
    _require_member,
    _require_open,
)
from madoguchi.cases.verification import decide, describe
from madoguchi.registry.models import Household

Kind = TimelineEntry.Kind

# Who may undo a link: the contractor's supervisor (an operator asks them).
UNLINKERS = frozenset({Role.SUPERVISOR})


def can_unlink(actor: Any) -> bool:
    return getattr(actor, "role", None) in UNLINKERS


def _household_ref(household_id: int | None) -> str | None:
    if household_id is None:
        return None
    public_id = Household.objects.filter(pk=household_id).values_list("public_id", flat=True).first()
    return str(public_id) if public_id else None


@transaction.atomic
def link_household(
    *, case: Case, actor: Any, household: Household, verified_items: Sequence[str], expected_version: int
) -> Case:
    """Link an unidentified case to the household the operator confirmed, with 本人確認."""
    _require_open(case.program)
    _require_member(case, actor)
    if case.household_id is not None:
        raise TransitionRefused(_("この問い合わせは既に世帯に紐付いています。"))
    if household.program_id != case.program_id:
        raise ValidationError({"household": _("この事業の世帯ではありません。")})
    _refuse_suspended(household)
    decision = decide(case.program.verification_rule, verified_items)
    _bump(
        case,
        expected_version,
        household=household,
        verification=decision.status,
        verified_items=decision.items,
    )
    _add_entry(
        case,
        kind=Kind.IDENTIFIED,
        actor=actor,
        body=_("世帯 %(number)s に紐付けました。%(verification)s")
        % {"number": household.number, "verification": describe(decision.status, decision.items)},
    )
    _audit(
        case,
        actor,
        Action.UPDATE,
        {"fields": ["household", "verification", "verified_items"], "reason": "identified_later"},
        before={"household": None},
        after={"household": str(household.public_id), "verification": decision.status},
    )
    return case


@transaction.atomic
def unlink_household(*, case: Case, actor: Any, reason: str, expected_version: int) -> Case:
    """A supervisor undoes a wrong link; the reason goes on the timeline."""
    if not reason.strip():
        raise ValidationError({"reason": _("紐付けを解除する理由を入力してください。")})
    _require_open(case.program)
    _require_member(case, actor)
    if not can_unlink(actor):
        raise TransitionRefused(_("世帯の紐付けを解除できるのはスーパーバイザーだけです。"))
    if case.household_id is None:
        raise TransitionRefused(_("この問い合わせは世帯に紐付いていません。"))
    before = _household_ref(case.household_id)
    _bump(
        case,
        expected_version,
        household=None,
        caller_person=None,
        verification="not_verified",
        verified_items=[],
    )
    _add_entry(case, kind=Kind.UNLINKED, actor=actor, body=reason.strip())
    _audit(
        case,
        actor,
        Action.UPDATE,
        {"fields": ["household", "verification", "verified_items"], "reason": "unlinked"},
        before={"household": before},
        after={"household": None},
    )
    return case


@transaction.atomic
def correct_verification(
    *, case: Case, actor: Any, verified_items: Sequence[str], expected_version: int
) -> Case:
    """A later correction of 本人確認: the rule decides again, the timeline says what changed."""
    _require_open(case.program)
    _require_member(case, actor)
    if case.household_id is None:
        raise ValidationError({"verified_items": _("世帯を特定してから本人確認を記録してください。")})
    decision = decide(case.program.verification_rule, verified_items)
    if decision.items == list(case.verified_items or []) and decision.status == case.verification:
        raise ValidationError({"verified_items": _("本人確認の内容が変わっていません。")})
    before_status, before_items = case.verification, list(case.verified_items or [])
    before = {"verification": before_status, "verified_items": before_items}
    _bump(case, expected_version, verification=decision.status, verified_items=decision.items)
    _add_entry(
        case,
        kind=Kind.VERIFICATION,
        actor=actor,
        body=_("%(before)s → %(after)s")
        % {
            "before": describe(before_status, before_items),
            "after": describe(decision.status, decision.items),
        },
    )
    _audit(
        case,
        actor,
        Action.UPDATE,
        {"fields": ["verification", "verified_items"]},
        before=before,
        after={"verification": decision.status, "verified_items": decision.items},
    )
    return case
