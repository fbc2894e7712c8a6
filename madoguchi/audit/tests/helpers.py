"""Test helpers: going around the append-only trigger the way an intruder with DB access would."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection

from madoguchi.audit import sqlite_guard

CANARIES = ("検証𠮷太郎", "090-0000-1234", "canary@example.jp", "ｶﾅﾘｱ町１－２－３")


def tamper(sql: str, params: Sequence[Any] = ()) -> None:
    """Run `sql` with the audit triggers off, as someone with full database access could
    (PostgreSQL: a superuser's replica role; SQLite: dropping and re-creating the triggers)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        elif connection.vendor == "sqlite":
            sqlite_guard.drop(cursor)
        try:
            cursor.execute(sql, params)
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = origin")
            elif connection.vendor == "sqlite":
                sqlite_guard.create(cursor)


def events_table_text() -> str:
    """Every column of every event as text: what a leak hunt would grep."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM audit_auditevent")
        return "\n".join(" ".join(str(value) for value in row) for row in cursor.fetchall())
