"""The identification state a case form carries (the identify panel's hidden inputs).

Read once per POST and checked again on the server: the household must be in the user's
reach and in the form's program, and 本人確認 is decided by the program's rule from the
items (`cases.verification.decide`), never from a posted label. When the form comes back
with an error, `kept_context` renders the same state again, so nothing is lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _

from madoguchi.cases.verification import Decision, decide, item_label, program_items
from madoguchi.programs.models import Program
from madoguchi.programs.scoping import restrict
from madoguchi.registry.models import Household


@dataclass
class Identified:
    household: Household | None = None
    decision: Decision = field(default_factory=lambda: Decision(status="not_verified", items=[]))
    errors: list[str] = field(default_factory=list)


def read_identification(request: HttpRequest, program: Program) -> Identified:
    found = Identified()
    public_id = (request.POST.get("household") or "").strip()
    if public_id:
        try:
            found.household = (
                restrict(Household.objects.all(), request.user, "identify")
                .filter(program=program, public_id=UUID(public_id))
                .first()
            )
        except ValueError:
            found.household = None
        if found.household is None:
            found.errors.append(_("特定した世帯がこの事業に見つかりません。もう一度特定してください。"))
    posted = request.POST.getlist("verified_items")[:20]
    try:
        found.decision = decide(program.verification_rule, posted)
    except ValidationError as error:
        found.errors.extend(error.messages)
        allowed = set(program_items(program.verification_rule))
        kept = [part.strip() for value in posted for part in value.split(",") if part.strip() in allowed]
        found.decision = decide(program.verification_rule, kept)
    if found.household is None and found.decision.items:
        found.decision = Decision(status="not_verified", items=[])
    return found


def kept_context(found: Identified, program: Program) -> dict[str, Any] | None:
    """What the panel shows and posts again after an error (None: nothing was identified)."""
    if found.household is None:
        return None
    return {
        "household": found.household,
        "status": found.decision.status,
        "status_label": found.decision.label,
        "items": found.decision.items,
        "all_items": [(code, item_label(code)) for code in program_items(program.verification_rule)],
    }
