"""Writing audit events. Call `record()` inside the same transaction as the change it describes:
if the event cannot be written, the change fails with it (fail closed, R-36)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from madoguchi.audit.models import Action, AuditChange, AuditEvent, Outcome
from madoguchi.core.request_context import current_client_ip, current_request_id


def record(
    *,
    action: Action | str,
    actor: Any = None,
    program_id: int | None = None,
    object_type: str = "",
    object_id: str | int = "",
    outcome: Outcome | str = Outcome.OK,
    details: dict[str, Any] | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. `details` names fields and counts only; values go in before/after."""
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    organisation = getattr(user, "organisation", None) if user else None
    event = AuditEvent.objects.create(
        at=timezone.now(),
        actor_id=user.pk if user else None,
        actor_username=user.get_username() if user else "",
        actor_name=(getattr(user, "display_name", "") or "") if user else "",
        actor_organisation=organisation.name if organisation else "",
        actor_role=getattr(user, "role", "") if user else "",
        client_ip=current_client_ip(),
        request_id=current_request_id(),
        action=str(action),
        program_id=program_id,
        object_type=object_type,
        object_id=str(object_id),
        outcome=str(outcome),
        details=details or {},
    )
    if before is not None or after is not None:
        AuditChange.objects.create(event=event, before=before or {}, after=after or {})
    return event
