"""What a program's erasure erases: one explicit list of steps, table by table.

Each `Step` names a table (or a store outside the database), counts what it would erase
(`--dry-run`) and erases it. Every step is idempotent (it deletes or empties only what is
still there), and `madoguchi.lifecycle.purge` commits each step in its own transaction together
with the note that it is done, so a purge killed at any moment resumes at the first step not
done. To erase a new table, add a `Step` here, before the steps whose rows it points to.

Kept: the case and timeline rows with their non-personal columns (dates, channel, category,
status, priority, assignee, author, escalation and answer times), so reports still count them.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.sessions.models import Session
from django.db import connection
from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from madoguchi.audit.models import AuditChange
from madoguchi.cases.models import Case, Notification, SavedSearch, TimelineEntry
from madoguchi.identify.models import IdentIndexState, IdentKey, IdentKeyStat, IdentProfile, IdentReading
from madoguchi.programs.models import Program
from madoguchi.registry.models import Child, Guardian, Household, TargetListChange, TargetListImport

logger = logging.getLogger("madoguchi.lifecycle")


@dataclass(frozen=True)
class Step:
    name: str  # stable: stored in ProgramErasure.steps_done
    table: str  # what the certificate names
    label: str  # Japanese, for the dry run and the certificate
    count: Callable[[Program], int]
    run: Callable[[Program], int]
    keeps_rows: bool = False  # the rows stay, emptied of personal columns


def _raw_delete(queryset: QuerySet[Any]) -> int:
    """DELETE without loading rows (no signals, no cascade collection): the steps come in FK order."""
    return int(queryset._raw_delete(queryset.db))  # type: ignore[attr-defined]


def _deleting(
    model: type[Model], scope: Callable[[Program], Q]
) -> tuple[Callable[[Program], int], Callable[[Program], int]]:
    def count(program: Program) -> int:
        return model._default_manager.filter(scope(program)).count()

    def run(program: Program) -> int:
        return _raw_delete(model._default_manager.filter(scope(program)))

    return count, run


# --- the cases: rows kept, personal columns emptied ---------------------------------------

CASE_PERSONAL_EMPTY: dict[str, Any] = {
    "household": None,
    "caller_person": None,
    "caller_name": "",
    "caller_kana": "",
    "child_name": "",
    "child_dob": None,
    "contact_phone": "",
    "contact_email": "",
    "inquiry": "",
    "response": "",
    "search_text": "",
    "idempotency_key": None,
}


def _case_filled(program: Program) -> QuerySet[Case]:
    filled = Q()
    for field, empty in CASE_PERSONAL_EMPTY.items():
        filled |= Q(**{f"{field}__isnull": False}) if empty is None else ~Q(**{field: empty})
    # Nulls of text columns count as empty.
    return Case.objects.filter(program=program).filter(filled)


# Above this many rows, PostgreSQL updates faster without the table's secondary indexes.
BULK_ROWS = 50_000


def _with_indexes_rebuilt(model: type[Model], rows: int, update: Callable[[], int]) -> int:
    """Run `update` with the table's plain (non-unique) indexes dropped and rebuilt after.

    Emptying a million rows writes a new version of each; with a dozen indexes on the table,
    most of the time goes into index insertions. In the step's transaction (PostgreSQL's DDL
    is transactional) the indexes are dropped, the rows updated and the indexes created again
    from their own definitions: a purge killed in between rolls all of it back. The table is
    locked for the step, as the rewrite that follows locks it anyway.
    """
    if connection.vendor != "postgresql" or rows < BULK_ROWS:
        return update()
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = %s::regclass AND NOT i.indisunique AND NOT i.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
            [table],
        )
        indexes = cursor.fetchall()
        quote = connection.ops.quote_name
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
        count = update()
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _name, definition in indexes:
            cursor.execute(definition)
    return count


def _count_cases(program: Program) -> int:
    return _case_filled(program).count()


def _run_cases(program: Program) -> int:
    rows = _count_cases(program)
    return _with_indexes_rebuilt(Case, rows, lambda: _case_filled(program).update(**CASE_PERSONAL_EMPTY))


def _timeline_filled(program: Program) -> QuerySet[TimelineEntry]:
    return TimelineEntry.objects.filter(case__program=program).exclude(body="")


def _count_timeline(program: Program) -> int:
    return _timeline_filled(program).count()


def _run_timeline(program: Program) -> int:
    rows = _count_timeline(program)
    return _with_indexes_rebuilt(TimelineEntry, rows, lambda: _timeline_filled(program).update(body=""))


# --- sessions: residents' drafts and staff upload tokens ----------------------------------


def _session_mentions(data: dict[str, Any], program: Program) -> bool:
    from madoguchi.public.views import DONE, DRAFT

    draft = data.get(DRAFT)
    if isinstance(draft, dict) and draft.get("program") == program.code:
        return True
    done = data.get(DONE)
    if isinstance(done, dict) and any(
        isinstance(item, dict) and item.get("program") == program.code for item in done.values()
    ):
        return True
    uploads = data.get("registry_uploads")
    if isinstance(uploads, dict):
        return any(
            isinstance(item, dict) and item.get("program_id") == program.pk for item in uploads.values()
        )
    return False


def _upload_paths(data: dict[str, Any], program: Program) -> list[str]:
    uploads = data.get("registry_uploads")
    if not isinstance(uploads, dict):
        return []
    return [
        str(item.get("path"))
        for item in uploads.values()
        if isinstance(item, dict) and item.get("program_id") == program.pk and item.get("path")
    ]


def _sessions(program: Program, *, delete: bool) -> int:
    """Database sessions (staff and, without Redis, residents) that hold this program's data."""
    import os

    found = 0
    from madoguchi.accounts.sessions import session_store

    store = session_store()()
    for key, encoded in Session.objects.values_list("session_key", "session_data").iterator():
        try:
            data = store.decode(encoded)
        except Exception:
            logger.info("lifecycle: an unreadable session was left alone")
            continue
        if not isinstance(data, dict) or not _session_mentions(data, program):
            continue
        found += 1
        if delete:
            for path in _upload_paths(data, program):
                with contextlib.suppress(OSError):
                    os.unlink(path)
            Session.objects.filter(session_key=key).delete()
    return found + _cached_sessions(program, delete=delete)


def _cached_sessions(program: Program, *, delete: bool) -> int:
    """Residents' sessions in the shared cache (Redis), when the public form keeps them there."""
    from django.conf import settings
    from django.core.cache import caches

    from madoguchi.public.sessions import CacheSessionStore

    if getattr(settings, "PUBLIC_SESSION_BACKEND", "db") != "cache":
        return 0
    cache = caches[settings.PUBLIC_SESSION_CACHE_ALIAS]
    client_of = getattr(getattr(cache, "_cache", None), "get_client", None)
    if client_of is None:
        return 0
    client = client_of(None, write=True)
    found = 0
    for raw_key in client.scan_iter(match=f"*{CacheSessionStore.cache_key_prefix}*"):
        key = raw_key.decode() if isinstance(raw_key, bytes) else str(raw_key)
        session_key = key.rsplit(CacheSessionStore.cache_key_prefix, 1)[-1]
        data = CacheSessionStore(session_key).load()
        if isinstance(data, dict) and _session_mentions(data, program):
            found += 1
            if delete:
                CacheSessionStore(session_key).delete(session_key)
    return found


def _count_sessions(program: Program) -> int:
    return _sessions(program, delete=False)


def _run_sessions(program: Program) -> int:
    return _sessions(program, delete=True)


# --- saved searches: a member's search text may be a name ---------------------------------


def _saved_searches(program: Program) -> Q:
    return Q(user__in=program.members.all()) | Q(params__program=program.pk)


# --- the audit trail's before/after values -----------------------------------------------


def _audit_changes(program: Program) -> QuerySet[AuditChange]:
    from madoguchi.lifecycle.models import ProgramErasure

    changes = AuditChange.objects.filter(event__program_id=program.pk, erased_at__isnull=True)
    seal_seq = ProgramErasure.objects.filter(program=program).values_list("seal_seq", flat=True).first()
    # Only the changes before the erasure's seal: `audit verify` accepts those emptied.
    return changes.filter(event__seq__lt=seal_seq) if seal_seq else changes


def _count_audit(program: Program) -> int:
    return _audit_changes(program).count()


def _run_audit(program: Program) -> int:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # The append-only trigger lets this one UPDATE through (audit migration 0005).
            cursor.execute("SET LOCAL madoguchi.audit_erasure = 'on'")
    # Not .update(before={}): Django would bind the dict as a JSON string on SQLite; the
    # database's own empty object keeps `before = '{}'` true on both.
    return _audit_changes(program).update(before={}, after={}, erased_at=timezone.now())


def _callback_notes(program: Program) -> QuerySet[Any]:
    from madoguchi.cases.models import CallbackAttempt

    return CallbackAttempt.objects.filter(case__program=program).exclude(note="")


def _count_callback_notes(program: Program) -> int:
    return _callback_notes(program).count()


def _run_callback_notes(program: Program) -> int:
    # The attempt stays (when, outcome: the callbacks' figures); its free-text note goes.
    return int(_callback_notes(program).update(note=""))


_notifications = _deleting(Notification, lambda p: Q(case__program=p))
_searches = _deleting(SavedSearch, _saved_searches)
_changes = _deleting(TargetListChange, lambda p: Q(target_import__program=p))
_ident_keys = _deleting(IdentKey, lambda p: Q(program=p))
_ident_stats = _deleting(IdentKeyStat, lambda p: Q(program=p))
_ident_readings = _deleting(IdentReading, lambda p: Q(program=p))
_ident_profiles = _deleting(IdentProfile, lambda p: Q(program=p))
_ident_state = _deleting(IdentIndexState, lambda p: Q(program=p))
_children = _deleting(Child, lambda p: Q(household__program=p))
_guardians = _deleting(Guardian, lambda p: Q(household__program=p))
_households = _deleting(Household, lambda p: Q(program=p))
_imports = _deleting(TargetListImport, lambda p: Q(program=p))


# THE list, in the order it runs (rows that point at others go first).
STEPS: tuple[Step, ...] = (
    Step(
        "sessions",
        "django_session",
        "住民の入力途中のフォーム・職員のアップロード中の名簿",
        _count_sessions,
        _run_sessions,
    ),
    Step("notifications", "cases_notification", "通知", *_notifications),
    Step("saved_searches", "cases_savedsearch", "保存された検索条件", *_searches),
    Step(
        "callback_notes",
        "cases_callbackattempt",
        "折り返しの記録のメモ（日時と結果は残す）",
        _count_callback_notes,
        _run_callback_notes,
        True,
    ),
    Step(
        "timeline",
        "cases_timelineentry",
        "対応記録の本文（行と日時・種別は残す）",
        _count_timeline,
        _run_timeline,
        True,
    ),
    Step(
        "cases",
        "cases_case",
        "問い合わせの個人項目と自由記述（行と日時・分類・状態は残す）",
        _count_cases,
        _run_cases,
        True,
    ),
    Step("ident_keys", "identify_identkey", "本人特定の索引（検索キー）", *_ident_keys),
    Step("ident_key_stats", "identify_identkeystat", "本人特定の索引（キー件数）", *_ident_stats),
    Step("ident_readings", "identify_identreading", "本人特定の索引（読み）", *_ident_readings),
    Step("ident_profiles", "identify_identprofile", "本人特定の索引（比較用の値）", *_ident_profiles),
    Step("ident_state", "identify_identindexstate", "本人特定の索引（状態）", *_ident_state),
    Step("list_changes", "registry_targetlistchange", "名簿の版ごとの変更", *_changes),
    Step("children", "registry_child", "児童", *_children),
    Step("guardians", "registry_guardian", "保護者", *_guardians),
    Step("households", "registry_household", "世帯", *_households),
    Step("list_versions", "registry_targetlistimport", "名簿の版（取込記録）", *_imports),
    Step(
        "audit_changes",
        "audit_auditchange",
        "監査ログの変更前後の値（イベントは残す）",
        _count_audit,
        _run_audit,
        True,
    ),
)


def touched_tables() -> list[str]:
    return sorted({step.table for step in STEPS})
