"""The database settings built from DATABASE_URL: prepared statements on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from madoguchi.lib.env import PREPARE_THRESHOLD, parse_database_url

REPO = Path(__file__).resolve().parents[3]
SQLITE_DEFAULT = Path("/tmp/unused.sqlite3")


def postgres(**kwargs: bool) -> dict[str, object]:
    url = "postgres://app@db.internal:5432/madoguchi"
    return parse_database_url(url, sqlite_default=SQLITE_DEFAULT).as_django(**kwargs)


def test_postgresql_binds_on_the_server_and_prepares_repeated_statements() -> None:
    options = postgres()["OPTIONS"]
    assert isinstance(options, dict)
    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] == PREPARE_THRESHOLD


def test_postgresql_connections_live_long_enough_to_use_what_they_prepared() -> None:
    config = postgres()
    assert config["CONN_MAX_AGE"] == 600
    assert config["CONN_HEALTH_CHECKS"] is True


def test_prepared_statements_can_be_turned_off_for_a_transaction_pooler() -> None:
    for config in (postgres(prepared_statements=False), postgres(replica=True, prepared_statements=False)):
        options = config["OPTIONS"]
        assert isinstance(options, dict)
        assert options["prepare_threshold"] is None
        assert options["server_side_binding"] is True


def test_the_replica_prepares_as_the_primary_does() -> None:
    options = postgres(replica=True)["OPTIONS"]
    assert isinstance(options, dict)
    assert options["prepare_threshold"] == PREPARE_THRESHOLD


def test_sqlite_has_no_postgresql_options() -> None:
    options = parse_database_url(None, sqlite_default=SQLITE_DEFAULT).as_django()["OPTIONS"]
    assert isinstance(options, dict)
    assert "server_side_binding" not in options
    assert "prepare_threshold" not in options


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only (CI runs it)")
@pytest.mark.django_db
def test_a_statement_run_repeatedly_is_prepared_on_the_connection() -> None:
    from django.contrib.auth.models import Group

    for _ in range(PREPARE_THRESHOLD + 1):
        list(Group.objects.filter(name="prepared-statement-probe"))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ['%"auth_group"."name" = $1%'],
        )
        (prepared,) = cursor.fetchone()
    assert prepared == 1


def settings_prepare_thresholds(tmp_path: Path, **env: str) -> list[str]:
    """The settings module's prepare_threshold for the primary and the replica, in a fresh process."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(*(settings.DATABASES[a]['OPTIONS']['prepare_threshold'] for a in ('default', 'replica')))",
        ],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "madoguchi.settings",
            "MADOGUCHI_VAR_DIR": str(tmp_path),
            "DATABASE_URL": "postgres://app@db.internal:5432/madoguchi",
            "DATABASE_REPLICA_URL": "postgres://app@replica.internal:5432/madoguchi",
            "DATABASE_PREPARED_STATEMENTS": "",
            **env,
        },
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_the_settings_prepare_statements_unless_told_not_to(tmp_path: Path) -> None:
    assert settings_prepare_thresholds(tmp_path) == [str(PREPARE_THRESHOLD)] * 2
    assert settings_prepare_thresholds(tmp_path, DATABASE_PREPARED_STATEMENTS="false") == ["None", "None"]
