"""Each role's dashboard (home) with 1,000,000 cases on PostgreSQL.

`python -m bench dashboards [--cases=N] [--runs=N] [--reload]` (database
`mdg_bench_dashboards`, created when missing; DATABASE_URL overrides). The cases come from
`bench.cases.load` (the same builder, one program, 20 seconds apart over ~230 days); this
module then gives them what the dashboards count: the program's recording period starts with
the first case (so "over the program" is the whole million), open cases are spread over five
operators, the ward answered most escalations. Times are server time of the real home view
through Django's test client, p50/p95 over `runs` requests after one warm-up, with the number
of SQL queries.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

# The SQL here is built from this module's constants and integer ids, never from input.
# ruff: noqa: S608

DB_NAME = "mdg_bench_dashboards"
BUDGET_MS = 150


def _prepare(program: Any) -> list[Any]:
    """Operators, assignees and ward answers on the loaded cases (idempotent)."""
    import datetime

    from django.db import connection

    from madoguchi.accounts.models import Role
    from madoguchi.conftest import make_user

    operators = []
    for number in range(1, 6):
        from madoguchi.accounts.models import User

        user = User.objects.filter(username=f"bench-op{number}").first() or make_user(
            f"bench-op{number}", Role.OPERATOR, program.contractor, program
        )
        operators.append(user)
    ids = ",".join(str(user.pk) for user in operators)
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(received_at) FROM cases_case WHERE program_id = %s", [program.pk])
        first = cursor.fetchone()[0]
        cursor.execute(
            f"""
            UPDATE cases_case SET assignee_id = (ARRAY[{ids}])[1 + id %% 5]
            WHERE program_id = %s AND status <> 'closed' AND assignee_id IS NULL
            """,
            [program.pk],
        )
        # Escalated cases that moved on were answered a day later.
        cursor.execute(
            """
            UPDATE cases_case
            SET escalated_at = received_at, ward_answered_at = received_at + interval '1 day'
            WHERE program_id = %s AND status IN ('callback', 'closed') AND id %% 10 = 0
              AND ward_answered_at IS NULL
            """,
            [program.pk],
        )
        # The callbacks the callback cases wait for: due 1-3 days after the case came in, a
        # third of them with a time window (so some are due today, most are overdue).
        cursor.execute(
            """
            UPDATE cases_case
            SET callback_due_on = (received_at AT TIME ZONE 'Asia/Tokyo')::date + (1 + id %% 3)::int,
                callback_from = CASE WHEN id %% 3 = 0 THEN time '13:00' END,
                callback_until = CASE WHEN id %% 3 = 0 THEN time '17:00' END
            WHERE program_id = %s AND status = 'callback' AND callback_due_on IS NULL
            """,
            [program.pk],
        )
        cursor.execute("VACUUM ANALYZE cases_case")
    if first is not None:
        start = (first.astimezone(datetime.UTC) + datetime.timedelta(hours=9)).date()
        type(program).objects.filter(pk=program.pk).update(recording_start=start)
    return operators


def main(argv: list[str]) -> None:
    options = dict(arg.lstrip("-").split("=", 1) if "=" in arg else (arg.lstrip("-"), "1") for arg in argv)
    total = int(options.get("cases", 1_000_000))
    runs = int(options.get("runs", 30))
    os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{DB_NAME}")
    from bench import cases as case_bench

    case_bench._setup_django()
    from django.conf import settings
    from django.core.management import call_command

    settings.ALLOWED_HOSTS = ["testserver"]
    call_command("migrate", verbosity=0)
    from django.db import connection
    from django.test import Client

    from madoguchi.accounts.models import User
    from madoguchi.accounts.testing import login
    from madoguchi.cases.models import Case
    from madoguchi.dashboards import counting

    program, operator, ward = case_bench._world()
    # The bulk load goes faster without the counting triggers; the counts are rebuilt after.
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE cases_case DISABLE TRIGGER dashboards_casecount_insdel")
        cursor.execute("ALTER TABLE cases_case DISABLE TRIGGER dashboards_casecount_update")
    try:
        case_bench.load(program, operator, total, reload="reload" in options)
        operators = _prepare(program)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE cases_case ENABLE TRIGGER dashboards_casecount_insdel")
            cursor.execute("ALTER TABLE cases_case ENABLE TRIGGER dashboards_casecount_update")
    started = time.perf_counter()
    counting.rebuild(connection)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE dashboards_casecount")
        cursor.execute("SELECT count(*) FROM dashboards_casecount")
        count_rows = cursor.fetchone()[0]
    print(f"counts rebuilt in {time.perf_counter() - started:.1f} s: {count_rows:,} rows", flush=True)
    program.refresh_from_db()
    n_cases = Case.objects.count()
    people = {
        "operator (5 operators share the open cases)": operators[0],
        "supervisor": User.objects.get(username="supervisor"),
        "ward staff": ward,
        "ward manager": User.objects.get(username="manager"),
    }
    rows = []
    for label, user in people.items():
        client = Client(REMOTE_ADDR="127.0.0.1")
        login(client, user)
        p50, p95, queries, status = case_bench.measure(client, "/", runs)
        rows.append((label, p50, p95, queries, status))
        print(
            f"{label:45s} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  CPU {case_bench.CPU[-1]:6.1f} ms  "
            f"{queries} queries  HTTP {status}",
            flush=True,
        )
    one, five, fifteen = os.getloadavg()
    print(f"{n_cases:,} cases; load average {one:.2f} {five:.2f} {fifteen:.2f}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0].split(",")[0]
    print(version)
    print(f"CaseCount rows: {count_rows:,}")
    failed = [row for row in rows if row[2] > BUDGET_MS or row[4] != 200]
    if failed:
        print(f"OVER BUDGET ({BUDGET_MS} ms p95): {', '.join(row[0] for row in failed)}", file=sys.stderr)
