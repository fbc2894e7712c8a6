"""The `madoguchi` console script: Django's manage.py under the product's name.

Sub-commands may be typed with hyphens (`madoguchi seed-demo`, `madoguchi import-targets`);
Django's command modules use underscores, so the first argument is translated.

A database that has no tables yet, or cannot be reached, is one line in Japanese and exit
status 1, not a traceback (cron mails whatever a command prints). The database's own message
is never printed: it can quote a row's values.
"""

from __future__ import annotations

import os
import sys

# SQLSTATE 42P01 (PostgreSQL: undefined table); SQLite says "no such table".
_UNDEFINED_TABLE = "42P01"


def database_problem(error: BaseException) -> str | None:
    """The line to print for a database that is not ready, or None for any other error."""
    from django.db import OperationalError, ProgrammingError

    cause = error.__cause__
    sqlstate = getattr(cause, "sqlstate", None) or getattr(getattr(cause, "diag", None), "sqlstate", None)
    if sqlstate == _UNDEFINED_TABLE or (
        isinstance(error, OperationalError) and str(error).startswith("no such table")
    ):
        return (
            "データベースが初期化されていません（表がありません）。"
            "先に `madoguchi migrate` を実行してから、もう一度実行してください。"
        )
    if isinstance(error, OperationalError) and sqlstate is None and not isinstance(error, ProgrammingError):
        text = str(error).lower()
        if "connect" in text or "unable to open database" in text:
            return "データベースに接続できません。DATABASE_URL の設定とデータベースの稼働を確認してください。"
    return None


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv if argv is None else argv)
    if len(args) > 1 and not args[1].startswith("-"):
        args[1] = args[1].replace("-", "_")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
    from django.core.management import execute_from_command_line
    from django.db import DatabaseError

    try:
        execute_from_command_line(args)
    except DatabaseError as error:
        problem = database_problem(error)
        if problem is None:
            raise
        sys.stderr.write(f"エラー: {problem}\n")
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
