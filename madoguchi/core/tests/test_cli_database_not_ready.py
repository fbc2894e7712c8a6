"""A command run against a database without tables, or one it cannot reach, says so in one
Japanese line and exits 1: no traceback, and nothing of the database's own message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import OperationalError, ProgrammingError

from madoguchi.__main__ import database_problem


def _run(database_url: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    env.pop("MADOGUCHI_DEMO", None)
    return subprocess.run(
        [sys.executable, "-m", "madoguchi", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


@pytest.mark.parametrize(
    "command",
    [
        ["lifecycle", "sweep"],
        ["lifecycle", "close", "--program", "p", "--reason", "r", "--as", "u"],
        [
            "report",
            "--program",
            "p",
            "--from",
            "2023-02-01",
            "--to",
            "2023-02-02",
            "--format",
            "csv",
            "--out",
            "r.csv",
        ],
    ],
)
def test_a_database_without_tables_asks_for_migrate(tmp_path: Path, command: list[str]) -> None:
    result = _run(f"sqlite:///{tmp_path / 'empty.sqlite3'}", *command, cwd=tmp_path)
    assert result.returncode == 1
    assert "madoguchi migrate" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "no such table" not in result.stderr


def test_a_database_that_cannot_be_reached_says_so() -> None:
    result = _run("postgres://postgres@127.0.0.1:9/none", "lifecycle", "sweep")
    assert result.returncode == 1
    assert "データベースに接続できません" in result.stderr
    assert "Traceback" not in result.stderr


class _Cause(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__("relation ... does not exist")
        self.sqlstate = sqlstate


def _with_cause(error: Exception, sqlstate: str) -> Exception:
    error.__cause__ = _Cause(sqlstate)
    return error


def test_postgresqls_undefined_table_is_recognised_and_other_errors_are_not() -> None:
    assert database_problem(_with_cause(ProgrammingError("x"), "42P01")) is not None
    # A unique violation or any other database error keeps its traceback (a bug to be seen).
    assert database_problem(_with_cause(ProgrammingError("x"), "23505")) is None
    assert database_problem(OperationalError("database is locked")) is None
