"""Writing the 情報管理台帳: call `record_in_ledger()` in the transaction of the act and its audit event."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from madoguchi.audit.details import check_details
from madoguchi.audit.models import AuditEvent
from madoguchi.ledger.models import LedgerEntry, LedgerKind
from madoguchi.programs.models import Program


@transaction.atomic
def record_in_ledger(
    *,
    kind: LedgerKind | str,
    program: Program,
    actor: Any,
    what: str,
    purpose: str = "",
    row_count: int | None = None,
    file_name: str = "",
    sha256: str = "",
    audit_event: AuditEvent | None = None,
    details: dict[str, Any] | None = None,
) -> LedgerEntry:
    """Append one entry. `what`, `purpose` and `details` must not hold personal values."""
    clean_details = details or {}
    check_details(clean_details)
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    organisation = getattr(actor, "organisation", None) if authenticated else None
    entry = LedgerEntry(
        at=timezone.now(),
        kind=str(kind),
        program=program,
        actor_id=actor.pk if authenticated else None,
        actor_username=(actor.get_username() if authenticated else "")[:150],
        actor_name=(str(actor) if authenticated else "")[:100],
        actor_organisation=(organisation.name if organisation else "")[:200],
        what=what[:300],
        purpose=purpose[:500],
        row_count=row_count,
        file_name=file_name[:255],
        sha256=sha256,
        audit_seq=audit_event.seq if audit_event is not None else None,
        details=clean_details,
    )
    # actor_id is null for a command run without a user (blank=False on the model would refuse it).
    entry.full_clean(exclude=["actor_id"])
    entry.save(force_insert=True)
    return entry
