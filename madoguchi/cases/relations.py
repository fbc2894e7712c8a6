"""Related cases: the same matter linked both ways, and a duplicate web inquiry merged.

A link is two `CaseLink` rows (one per direction), a timeline entry and an audit event on
each case. A merge keeps both timelines whole: the duplicate is closed, points at the case
kept (`merged_into`), and both cases say so on their timelines.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi.audit.models import Action
from madoguchi.cases.models import Case, CaseLink, Channel, Status, TimelineEntry
from madoguchi.cases.services import (
    TransitionRefused,
    _add_entry,
    _audit,
    _bump,
    _require_member,
    _require_open,
)

Kind = TimelineEntry.Kind


def _check_pair(case: Case, other: Case, actor: Any) -> None:
    if case.pk == other.pk:
        raise TransitionRefused(_("同じ問い合わせ同士は関連付けられません。"))
    if case.program_id != other.program_id:
        raise TransitionRefused(_("別の事業の問い合わせとは関連付けられません。"))
    _require_open(case.program)
    _require_member(case, actor)
    _require_member(other, actor)


def _link_rows(case: Case, other: Case, actor: Any) -> bool:
    made = False
    for one, two in ((case, other), (other, case)):
        _row, created = CaseLink.objects.get_or_create(
            case=one, related=two, defaults={"created_by": actor if actor.is_authenticated else None}
        )
        made = made or created
    return made


@transaction.atomic
def link_cases(*, case: Case, other: Case, actor: Any) -> None:
    """Mark two cases as the same matter (both ways)."""
    _check_pair(case, other, actor)
    if not _link_rows(case, other, actor):
        raise TransitionRefused(_("既に関連付けられています。"))
    for one, two in ((case, other), (other, case)):
        _add_entry(
            one,
            kind=Kind.LINKED,
            actor=actor,
            body=_("%(number)s と同じ件として関連付けました。") % {"number": two.receipt_number},
        )
        _audit(one, actor, Action.UPDATE, {"fields": ["links"], "related": str(two.public_id)})


@transaction.atomic
def merge_duplicate(*, duplicate: Case, into: Case, actor: Any, expected_version: int) -> Case:
    """Close a duplicate web inquiry as merged into `into`; both timelines are kept."""
    _check_pair(duplicate, into, actor)
    if duplicate.channel != Channel.FORM:
        raise TransitionRefused(_("統合できるのは問い合わせフォームからの受付だけです。"))
    if duplicate.is_closed:
        raise TransitionRefused(_("完了した問い合わせは統合できません。"))
    if into.merged_into_id is not None:
        raise TransitionRefused(_("統合先が既に別の問い合わせに統合されています。"))
    frm = duplicate.status
    _bump(
        duplicate,
        expected_version,
        from_status=frm,
        status=Status.CLOSED,
        merged_into=into,
        closed_at=timezone.now(),
    )
    _link_rows(duplicate, into, actor)
    _add_entry(
        duplicate,
        kind=Kind.MERGED,
        actor=actor,
        body=_("重複のため %(number)s に統合しました。") % {"number": into.receipt_number},
        from_status=frm,
        to_status=Status.CLOSED,
    )
    _add_entry(
        into,
        kind=Kind.MERGED,
        actor=actor,
        body=_("重複した %(number)s を統合しました（元の記録はそのまま残ります）。")
        % {"number": duplicate.receipt_number},
    )
    _audit(
        duplicate,
        actor,
        Action.UPDATE,
        {"fields": ["status", "merged_into"], "from": frm, "to": Status.CLOSED},
        after={"merged_into": str(into.public_id)},
    )
    _audit(into, actor, Action.UPDATE, {"fields": ["merged_cases"], "merged": str(duplicate.public_id)})
    duplicate.refresh_from_db()
    return duplicate
