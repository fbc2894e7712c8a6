"""Writing audit events. Call `record()` inside the same transaction as the change it describes:
if the event cannot be written, the change fails with it (fail closed, R-36).

Every event is appended to one of several hash chains (`madoguchi.audit.chain`): the writer
takes a free `ChainHead` row first, which stays locked until the caller's transaction ends, so
no chain forks or leaves a gap, and concurrent requests use different chains rather than queue
on one row across their COMMIT. A head is held until the caller commits: record as late in a
long transaction as you can.
"""

from __future__ import annotations

import datetime
import json
import logging
import random
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Max, Min
from django.http import HttpRequest
from django.utils import timezone

from madoguchi.audit import sqlite_guard
from madoguchi.audit.chain import LEGACY_CHAIN, canonical_json, change_digest, event_hash, position
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


@dataclass(frozen=True)
class Link:
    """Where the next event goes: its number, its chain, its position there and the previous hash."""

    seq: int
    chain: int
    chain_seq: int
    prev_hash: str


def chain_count() -> int:
    """How many chains writers spread over: AUDIT_CHAINS on PostgreSQL, one on SQLite (one writer)."""
    if connection.vendor != "postgresql":
        return 1
    return max(1, int(settings.AUDIT_CHAINS))


def ensure_heads(chains: int) -> bool:
    """Create the head rows of chains 1..`chains` that are missing (a new database, more chains
    configured, or a test flush that emptied the table), each from its chain's last event.
    True when some were missing."""
    present = set(ChainHead.objects.filter(pk__gte=1, pk__lte=chains).values_list("pk", flat=True))
    missing = [number for number in range(1, chains + 1) if number not in present]
    heads = []
    for number in missing:
        last = (
            AuditEvent.objects.filter(chain=number)
            .order_by("-chain_seq")
            .values_list("chain_seq", "hash")
            .first()
        )
        position, head_hash = last if last else (0, GENESIS_HASH)
        heads.append(ChainHead(id=number, seq=position or 0, hash=head_hash))
    if heads:
        ChainHead.objects.bulk_create(heads, ignore_conflicts=True)
    return bool(heads)


def _advance_head() -> Link:
    """Take a chain head, locking its row until our transaction ends, and the next event number.

    PostgreSQL: the first head no other transaction holds (`FOR UPDATE SKIP LOCKED`), so
    concurrent requests append to different chains instead of queueing on one row across their
    COMMIT; only when every head is taken does a writer wait, on one picked at random. A
    transaction that already holds a head never waits (SKIP LOCKED does not skip its own
    locks), so two transactions cannot each hold a head and wait for the other's. The
    event number comes from a sequence (not transactional: a rollback leaves a gap in `seq`,
    never in a chain). SQLite: one chain, and the UPDATE takes the database write lock at once
    (rather than failing later when a reader upgrades), under which MAX(seq) + 1 is safe.
    """
    table = connection.ops.quote_name(ChainHead._meta.db_table)
    chains = chain_count()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            returning = "RETURNING id, seq, hash, nextval('audit_event_seq')"
            free_head = (
                f"UPDATE {table} SET seq = seq + 1 WHERE id = (SELECT id FROM {table} "  # noqa: S608
                f"WHERE id BETWEEN 1 AND %s ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) {returning}"
            )
            cursor.execute(free_head, [chains])
            row = cursor.fetchone()
            if row is None and ensure_heads(chains):
                cursor.execute(free_head, [chains])  # heads were missing (a flush): try again
                row = cursor.fetchone()
            if row is None:
                # Every head is held: queue on one.
                cursor.execute(
                    f"UPDATE {table} SET seq = seq + 1 WHERE id = %s {returning}",  # noqa: S608
                    [random.randint(1, chains)],  # spreads the queue; not a secret
                )
                row = cursor.fetchone()
            if row is None:
                raise RuntimeError("the audit chain head could not be taken")
            return Link(seq=int(row[3]), chain=int(row[0]), chain_seq=int(row[1]), prev_hash=str(row[2]))
        cursor.execute(f"UPDATE {table} SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")  # noqa: S608
        row = cursor.fetchone()
        if row is None:
            ensure_heads(1)
            cursor.execute(f"UPDATE {table} SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")  # noqa: S608
            row = cursor.fetchone()
        cursor.execute(
            f"SELECT COALESCE(MAX(seq), 0) + 1 FROM {connection.ops.quote_name(AuditEvent._meta.db_table)}"  # noqa: S608
        )
        (seq,) = cursor.fetchone()
    if row is None:
        raise RuntimeError("the audit chain head could not be taken")
    return Link(seq=int(seq), chain=1, chain_seq=int(row[0]), prev_hash=str(row[1]))


def _insert_and_move_head(event: AuditEvent) -> None:
    """Insert the event and store its hash in its chain's head.

    On PostgreSQL in one statement (a data-modifying CTE): one round trip less per event, and
    every round trip is time the head stays locked.
    """
    if connection.vendor != "postgresql":
        event.save(force_insert=True)
        ChainHead.objects.filter(pk=event.chain).update(hash=event.hash)
        return
    db = connections[DEFAULT_DB_ALIAS]  # not the proxy: a context-local lookup per field
    quote = db.ops.quote_name
    fields = [field for field in AuditEvent._meta.concrete_fields if not field.primary_key]
    columns = ", ".join(quote(field.column) for field in fields)
    values = [field.get_db_prep_save(getattr(event, field.attname), db) for field in fields]
    placeholders = ", ".join(["%s"] * len(fields))
    sql = (
        f"WITH event AS (INSERT INTO {quote(AuditEvent._meta.db_table)} ({columns}) "  # noqa: S608
        f"VALUES ({placeholders}) RETURNING id) "
        f"UPDATE {quote(ChainHead._meta.db_table)} SET hash = %s WHERE id = %s "
        "RETURNING (SELECT id FROM event)"
    )
    with db.cursor() as cursor:
        cursor.execute(sql, [*values, event.hash, event.chain])
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
            link = _advance_head()
            event = AuditEvent(
                seq=link.seq,
                chain=link.chain,
                chain_seq=link.chain_seq,
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
                prev_hash=link.prev_hash,
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
    # One seal per chain that lost events; `seal` is the last of them.
    seals: tuple[AuditEvent, ...] = ()


def retention_cutoff(today: datetime.date | None = None) -> datetime.date:
    """The newest `--before` date the purge accepts: today minus the retention period."""
    day = today or timezone.localdate()
    return day - datetime.timedelta(days=settings.AUDIT_RETENTION_DAYS)


@transaction.atomic
def purge(*, before: datetime.date, today: datetime.date | None = None) -> PurgeResult:
    """Remove events older than `before` and append a sealed summary the chain continues from.

    One seal per chain that lost events (action PURGE, object type `audit_chain`) records the
    chain, how many events went, their positions and the last one's hash: `verify` accepts a
    chain that starts where a seal of that chain says the purged part ended. The only path
    that may DELETE audit rows (PostgreSQL and SQLite triggers).
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


def _lock_every_head() -> None:
    """Hold every chain's head for the whole purge, so no writer appends in between."""
    ensure_heads(chain_count())
    table = connection.ops.quote_name(ChainHead._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT id FROM {table} ORDER BY id FOR UPDATE")  # noqa: S608
        else:
            cursor.execute(f"UPDATE {table} SET seq = seq")  # noqa: S608 - SQLite: the write lock


def _purge_up_to(*, cutoff_date: datetime.date) -> PurgeResult:
    _lock_every_head()
    cutoff = timezone.make_aware(datetime.datetime.combine(cutoff_date, datetime.time.min))
    seals: list[AuditEvent] = []
    purged: list[tuple[int, int, int, str]] = []  # (count, lowest seq, highest seq, its hash)
    for chain in sorted(ChainHead.objects.values_list("pk", flat=True)):
        ordering = "seq" if chain == LEGACY_CHAIN else "chain_seq"
        events = AuditEvent.objects.filter(chain=chain)
        last = events.filter(at__lt=cutoff).order_by(f"-{ordering}").first()
        if last is None:
            continue
        first = events.order_by(ordering).values_list(ordering, flat=True).first() or position(last)
        doomed = events.filter(**{f"{ordering}__lte": position(last)})
        span = doomed.aggregate(low=Min("seq"), high=Max("seq"))
        highest = doomed.filter(seq=span["high"]).values_list("hash", flat=True).get()
        AuditChange.objects.filter(event__in=doomed.values("pk")).delete()
        count = doomed._raw_delete(AuditEvent.objects.db)
        purged.append((count, span["low"], span["high"], highest))
        seals.append(
            record(
                action=Action.PURGE,
                object_type="audit_chain",
                details={
                    "purged_chain": chain,
                    "purged_count": count,
                    "purged_from_seq": first,
                    "purged_to_seq": position(last),
                    "purged_last_hash": last.hash,
                    "purged_before_epoch": int(cutoff.timestamp()),
                },
            )
        )
        logger.warning(
            "audit purge: %s events of chain %s up to position %s removed, seal seq %s",
            count,
            chain,
            position(last),
            seals[-1].seq,
        )
    if not purged:
        return PurgeResult(count=0, from_seq=0, to_seq=0, last_hash="", seal=None)
    top = max(purged, key=lambda item: item[2])
    return PurgeResult(
        count=sum(item[0] for item in purged),
        from_seq=min(item[1] for item in purged),
        to_seq=top[2],
        last_hash=top[3],
        seal=seals[-1],
        seals=tuple(seals),
    )
