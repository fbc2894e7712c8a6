"""The restore drill (R-37, T-FA-08; issue #14), run in both CI passes: back up a database
holding cases and audit events, restore it into another database, and check that
`madoguchi audit verify` passes there and the counts agree.

SQLite: the online backup API (what `sqlite3 madoguchi.sqlite3 ".backup FILE"` does).
PostgreSQL: `pg_dump -Fc` and `pg_restore` into a new database (the logical copy; the base
backup + WAL archive of docs/operations.md restores the same rows).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from madoguchi.accounts.tests.test_web_surface import UNSAFE_IN_PRODUCTION
from madoguchi.audit.models import AuditEvent
from madoguchi.cases.models import Case
from madoguchi.cases.testing import make_case

REPO = Path(__file__).resolve().parents[3]

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def run_madoguchi(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in UNSAFE_IN_PRODUCTION}
    env.update(DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="madoguchi.settings")
    return subprocess.run(
        [sys.executable, "-m", "madoguchi", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


def seed(world: Any) -> tuple[int, int]:
    for n in range(5):
        make_case(world.program, world.operator, inquiry=f"申請書の再送について {n}")
    return Case.objects.count(), AuditEvent.objects.count()


def count_sqlite(path: Path, table: str) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608 - fixed names


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite drill (PostgreSQL: the other test)")
def test_sqlite_backup_restores_with_a_valid_audit_chain(world, tmp_path):
    cases, events = seed(world)
    assert cases == 5 and events >= 5
    connection.ensure_connection()
    backup = tmp_path / "backup.sqlite3"
    with sqlite3.connect(backup) as target:
        connection.connection.backup(target)  # the online backup API: consistent while in use
    restored = tmp_path / "restored.sqlite3"
    with sqlite3.connect(backup) as source, sqlite3.connect(restored) as target:
        source.backup(target)

    assert count_sqlite(restored, "cases_case") == cases
    assert count_sqlite(restored, "audit_auditevent") == events
    result = run_madoguchi(f"sqlite:///{restored}", "audit", "verify")
    assert result.returncode == 0, result.stderr
    assert f"audit chain OK: {events} events" in result.stdout
    # The restored copy keeps the triggers: its audit table is still append-only.
    with sqlite3.connect(restored) as db, pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE audit_auditevent SET object_id = 'x'")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL drill (CI's second pass)")
def test_postgresql_dump_restores_with_a_valid_audit_chain(world, tmp_path):
    cases, events = seed(world)
    settings_dict = connection.settings_dict
    base = ["-h", settings_dict["HOST"] or "127.0.0.1", "-p", str(settings_dict["PORT"] or 5432)]
    base += ["-U", settings_dict["USER"] or "postgres"]
    env = {**os.environ, "PGPASSWORD": settings_dict["PASSWORD"] or ""}
    dump = tmp_path / "backup.dump"
    subprocess.run(["pg_dump", *base, "-Fc", "-f", str(dump), settings_dict["NAME"]], check=True, env=env)
    restored = f"{settings_dict['NAME']}_restore_{uuid.uuid4().hex[:8]}"
    subprocess.run(["createdb", *base, restored], check=True, env=env)
    try:
        subprocess.run(
            ["pg_restore", *base, "--no-owner", "--exit-on-error", "-d", restored, str(dump)],
            check=True,
            env=env,
        )

        def count(table: str) -> int:
            out = subprocess.run(
                ["psql", *base, "-Atc", f"SELECT count(*) FROM {table}", restored],  # noqa: S608 - fixed names
                check=True,
                env=env,
                capture_output=True,
                text=True,
            )
            return int(out.stdout.strip())

        assert count("cases_case") == cases
        assert count("audit_auditevent") == events
        user = settings_dict["USER"] or "postgres"
        host = settings_dict["HOST"] or "127.0.0.1"
        port = settings_dict["PORT"] or 5432
        result = run_madoguchi(f"postgres://{user}@{host}:{port}/{restored}", "audit", "verify")
        assert result.returncode == 0, result.stderr
        assert f"audit chain OK: {events} events" in result.stdout
        # The trigger came back with the restore: the table is still append-only.
        tamper = subprocess.run(
            ["psql", *base, "-c", "UPDATE audit_auditevent SET object_id = 'x'", restored],
            env=env,
            capture_output=True,
            text=True,
        )
        assert tamper.returncode != 0 and "append-only" in tamper.stderr
    finally:
        subprocess.run(["dropdb", *base, "--if-exists", restored], check=False, env=env)
