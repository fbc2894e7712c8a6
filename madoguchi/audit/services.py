"""Writing audit events. Call `record()` inside the same transaction as the change it describes:
if the event cannot be written, the change fails with it (fail closed, R-36).

Every event is appended to the hash chain (`madoguchi.audit.chain`): the writer increments the
single `ChainHead` row first, which locks it until the caller's transaction ends, so concurrent
writers queue there and the chain neither forks nor leaves a gap. The lock is held until the
caller commits: record as late in a long transaction as you can.
"""

from __future__ import annotations

import datetime
import json
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from madoguchi.audit import sqlite_guard
from madoguchi.audit.chain import canonical_json, change_digest, event_hash
from madoguchi.audit.details import AuditDetailsError, check_details, check_token
from madoguchi.audit.models import GENESIS_HASH, Action, AuditChange, AuditEvent, ChainHead, Outcome
from madoguchi.core.request_context import current_client_ip, current_request_id

logger = logging.getLogger("madoguchi.audit")

__all__ = [
    "Action",
    "AuditDetailsError",
    "Outcome",
    "PurgeRefused",
    "PurgeResult",
    "purge",
    "record",
    "record_denied",
    "record_view",
]


_ACTIONS = frozenset(Action.values)


def _advance_head() -> tuple[int, str]:
    """Take the next seq and the previous hash, locking the head row until our transaction ends.

    An UPDATE rather than SELECT ... FOR UPDATE: on PostgreSQL both lock the row, and on SQLite
    the UPDATE takes the write lock at once instead of failing later when a reader upgrades.
    """
    table = connection.ops.quote_name(ChainHead._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")  # noqa: S608
        row = cursor.fetchone()
    if row is not None:
        return int(row[0]), str(row[1])
    # No head row: a test flush emptied the table. Rebuild it from the last event.
    last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
    try:
        with transaction.atomic():
            ChainHead.objects.create(id=1, seq=seq, hash=prev)
    except IntegrityError:
        return _advance_head()
    return seq, prev


def _insert_and_move_head(event: AuditEvent) -> None:
    """Insert the event and store its hash in the head.

    On PostgreSQL in one statement (a data-modifying CTE): one round trip less per event, and
    every round trip is time the head stays locked for everyone else.
    """
    if connection.vendor != "postgresql":
        event.save(force_insert=True)
        ChainHead.objects.filter(pk=1).update(hash=event.hash)
        return
    quote = connection.ops.quote_name
    fields = [field for field in AuditEvent._meta.concrete_fields if not field.primary_key]
    columns = ", ".join(quote(field.column) for field in fields)
    values = [field.get_db_prep_save(getattr(event, field.attname), connection) for field in fields]
    placeholders = ", ".join(["%s"] * len(fields))
    sql = (
        f"WITH event AS (INSERT INTO {quote(AuditEvent._meta.db_table)} ({columns}) "  # noqa: S608
        f"VALUES ({placeholders}) RETURNING id) "
        f"UPDATE {quote(ChainHead._meta.db_table)} SET hash = %s WHERE id = 1 "
        "RETURNING (SELECT id FROM event)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, event.hash])
        row = cursor.fetchone()
    if row is None:
        raise RuntimeError("the audit chain head disappeared while an event was written")
    event.pk = row[0]
    event._state.adding = False
    event._state.db = connection.alias


def _actor_snapshot(actor: Any) -> dict[str, Any]:
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    if user is None:
        return {
            "actor_id": None,
            "actor_username": "",
            "actor_name": "",
            "actor_organisation": "",
            "actor_role": "",
        }
    organisation = getattr(user, "organisation", None)
    return {
        "actor_id": user.pk,
        "actor_username": user.get_username()[:150],
        "actor_name": (getattr(user, "display_name", "") or "")[:100],
        "actor_organisation": (organisation.name if organisation else "")[:200],
        "actor_role": str(getattr(user, "role", "") or "")[:20],
    }


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
    client_ip: str | None = None,
    request_id: str | None = None,
) -> AuditEvent:
    """Append one event. `details` names fields and counts only; values go in before/after.

    Raises AuditDetailsError when `details` or `object_id` looks like a personal value, and
    whatever the database raises when the event cannot be written: the caller's transaction
    then rolls back with it.
    """
    if str(action) not in _ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    # Normalise through JSON so the hash computed now is the hash of what the database returns.
    clean_details = json.loads(canonical_json(details or {}))
    check_details(clean_details)
    if not isinstance(object_id, int):
        check_token(object_id, "object_id")
    object_id = str(object_id)
    change = None
    if before is not None or after is not None:
        change = (json.loads(canonical_json(before or {})), json.loads(canonical_json(after or {})))
    ip = current_client_ip() if client_ip is None else client_ip
    rid = current_request_id() if request_id is None else request_id
    fields = _actor_snapshot(actor)
    try:
        # No savepoint of our own: a failure here must fail the caller's whole transaction
        # anyway (fail closed), and SAVEPOINT/RELEASE would double the round trips.
        with transaction.atomic(savepoint=False):
            seq, prev = _advance_head()
            event = AuditEvent(
                seq=seq,
                # Taken under the head lock, so time never runs backwards along the chain.
                at=timezone.now(),
                client_ip=(ip or "")[:45],
                request_id="" if rid == "-" else (rid or "")[:32],
                action=str(action),
                program_id=program_id,
                object_type=object_type,
                object_id=object_id,
                outcome=str(outcome),
                details=clean_details,
                change_digest=change_digest(*change) if change else "",
                prev_hash=prev,
                **fields,
            )
            event.hash = event_hash(event)
            _insert_and_move_head(event)
            if change:
                AuditChange.objects.create(event=event, before=change[0], after=change[1])
    except Exception:
        # The alert of R-25/T-FA-07: an operator must hear of it; ids only, no values.
        logger.error(
            "audit write failed: action=%s object_type=%s program=%s", action, object_type, program_id
        )
        raise
    return event


def _object_id(obj: Any) -> str:
    for name in ("public_id", "receipt_number", "pk"):
        value = getattr(obj, name, None)
        if value not in (None, ""):
            return str(value)
    return ""


def record_view(
    request: HttpRequest,
    obj: Any,
    *,
    program_id: int | None = None,
    object_type: str | None = None,
    action: Action | str = Action.VIEW,
    fields: list[str] | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record that the requesting user opened `obj` (a read of personal data, R-22).

    The object is named by its opaque id (`public_id`, else receipt number, else pk); the
    program defaults to `obj.program_id`. `fields`: names of the personal items shown.
    """
    extra = dict(details or {})
    if fields:
        extra["fields"] = list(fields)
    return record(
        action=action,
        actor=getattr(request, "user", None),
        program_id=program_id if program_id is not None else getattr(obj, "program_id", None),
        object_type=object_type or obj._meta.model_name,
        object_id=_object_id(obj),
        details=extra,
    )


def record_denied(
    request: HttpRequest,
    *,
    program_id: int | None = None,
    object_type: str = "",
    object_id: str | int = "",
    reason: str = "",
) -> AuditEvent:
    """Record a refused request (403). `reason` is a short code such as `role` or `scope`."""
    details: dict[str, Any] = {}
    match = getattr(request, "resolver_match", None)
    if match is not None and match.view_name:
        details["view"] = match.view_name
    details["method"] = request.method or ""
    if reason:
        details["reason"] = reason
    return record(
        action=Action.PERMISSION_DENIED,
        actor=getattr(request, "user", None),
        program_id=program_id,
        object_type=object_type,
        object_id=object_id,
        outcome=Outcome.DENIED,
        details=details,
    )


# --- the retention purge --------------------------------------------------------------------


class PurgeRefused(Exception):
    pass


@dataclass(frozen=True)
class PurgeResult:
    count: int
    from_seq: int
    to_seq: int
    last_hash: str
    seal: AuditEvent | None


def retention_cutoff(today: datetime.date | None = None) -> datetime.date:
    """The newest `--before` date the purge accepts: today minus the retention period."""
    day = today or timezone.localdate()
    return day - datetime.timedelta(days=settings.AUDIT_RETENTION_DAYS)


@transaction.atomic
def purge(*, before: datetime.date, today: datetime.date | None = None) -> PurgeResult:
    """Remove events older than `before` and append a sealed summary the chain continues from.

    The seal (action PURGE, object type `audit_chain`) records how many events went, their
    seq range and the last one's hash: `verify` accepts a chain that starts where a seal says
    the purged part ended. The only path that may DELETE audit rows (PostgreSQL and SQLite
    triggers).
    """
    if before > retention_cutoff(today):
        raise PurgeRefused(
            f"{before.isoformat()} is inside the retention period of {settings.AUDIT_RETENTION_DAYS} days"
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL madoguchi.audit_purge = 'on'")
    elif connection.vendor == "sqlite":
        # The SQLite triggers' equivalent of SET LOCAL: a permit row, gone before the commit.
        with connection.cursor() as cursor:
            cursor.execute(sqlite_guard.GRANT)
    try:
        return _purge_up_to(cutoff_date=before)
    finally:
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute(sqlite_guard.REVOKE)


def _purge_up_to(*, cutoff_date: datetime.date) -> PurgeResult:
    # Hold the head lock for the whole purge, so no writer appends in between.
    seq, _prev = _advance_head()
    ChainHead.objects.filter(pk=1).update(seq=seq - 1)
    cutoff = timezone.make_aware(datetime.datetime.combine(cutoff_date, datetime.time.min))
    last = AuditEvent.objects.filter(at__lt=cutoff).order_by("-seq").first()
    if last is None:
        return PurgeResult(count=0, from_seq=0, to_seq=0, last_hash="", seal=None)
    first_seq = AuditEvent.objects.order_by("seq").values_list("seq", flat=True).first() or last.seq
    AuditChange.objects.filter(event__seq__lte=last.seq).delete()
    count = AuditEvent.objects.filter(seq__lte=last.seq)._raw_delete(AuditEvent.objects.db)
    seal = record(
        action=Action.PURGE,
        object_type="audit_chain",
        details={
            "purged_count": count,
            "purged_from_seq": first_seq,
            "purged_to_seq": last.seq,
            "purged_last_hash": last.hash,
            "purged_before_epoch": int(cutoff.timestamp()),
        },
    )
    logger.warning("audit purge: %s events up to seq %s removed, seal seq %s", count, last.seq, seal.seq)
    return PurgeResult(count=count, from_seq=first_seq, to_seq=last.seq, last_hash=last.hash, seal=seal)
