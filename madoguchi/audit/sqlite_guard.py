"""The audit table is append-only on SQLite too (R-23, issue #14).

PostgreSQL has a trigger function (migration 0003). SQLite has no session settings, so its
triggers consult a one-row table instead: `audit_purge_permit`. The retention purge inserts
the permit row inside its own transaction and deletes it before committing, like
PostgreSQL's `SET LOCAL madoguchi.audit_purge`; outside that window DELETE is refused, and
UPDATE is refused always. `audit_auditchange` is left writable here (the end-of-program
erasure blanks its before/after values).

`flush` (the test runner between transactional tests, `madoguchi flush`) empties every table
with DELETE on SQLite where PostgreSQL uses TRUNCATE, which row triggers do not see either:
`install_flush_permit` lets flush through by wrapping its statements in the permit.
"""

from __future__ import annotations

from typing import Any

PERMIT_TABLE = "audit_purge_permit"
EVENTS_TABLE = "audit_auditevent"

CREATE_PERMIT = "CREATE TABLE IF NOT EXISTS audit_purge_permit (id INTEGER PRIMARY KEY)"
GRANT = "INSERT OR IGNORE INTO audit_purge_permit (id) VALUES (1)"
REVOKE = "DELETE FROM audit_purge_permit"

TRIGGERS = (
    """CREATE TRIGGER IF NOT EXISTS audit_auditevent_no_update BEFORE UPDATE ON audit_auditevent
BEGIN SELECT RAISE(ABORT, 'audit rows are append-only: UPDATE on audit_auditevent refused'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_auditevent_no_delete BEFORE DELETE ON audit_auditevent
WHEN NOT EXISTS (SELECT 1 FROM audit_purge_permit)
BEGIN SELECT RAISE(ABORT, 'audit rows are append-only: DELETE on audit_auditevent refused'); END""",
)
DROP_TRIGGERS = (
    "DROP TRIGGER IF EXISTS audit_auditevent_no_update",
    "DROP TRIGGER IF EXISTS audit_auditevent_no_delete",
)


def create(cursor: Any) -> None:
    cursor.execute(CREATE_PERMIT)
    cursor.execute(REVOKE)
    for statement in TRIGGERS:
        cursor.execute(statement)


def drop(cursor: Any) -> None:
    for statement in DROP_TRIGGERS:
        cursor.execute(statement)
    cursor.execute("DROP TABLE IF EXISTS audit_purge_permit")


def install_flush_permit() -> None:
    """Let `flush` (which empties every table with DELETE on SQLite) through the triggers."""
    from django.conf import settings

    if not any(str(db.get("ENGINE", "")).endswith("sqlite3") for db in settings.DATABASES.values()):
        return
    # The backend's base module first: importing operations alone is a circular import.
    import django.db.backends.sqlite3.base  # noqa: F401
    from django.db.backends.sqlite3.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush
    if getattr(original, "_madoguchi_permit", False):
        return

    def sql_flush(self: Any, style: Any, tables: Any, *args: Any, **kwargs: Any) -> list[str]:
        statements: list[str] = original(self, style, tables, *args, **kwargs)
        if EVENTS_TABLE not in tables:
            return statements
        return [CREATE_PERMIT, GRANT, *statements, REVOKE]

    sql_flush._madoguchi_permit = True  # type: ignore[attr-defined]
    DatabaseOperations.sql_flush = sql_flush  # type: ignore[method-assign]
