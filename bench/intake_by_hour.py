"""The supervisor's chart of today's intake by hour, on a deadline day's volume (PostgreSQL).

    python -m bench intake_by_hour [--cases=150000] [--runs=30]

Loads N cases received today (`bench.cases.load`, then moved into today's first hours, JST;
database `mdg_bench_intake_by_hour`, dropped and created afresh) and times, alternately, the
chart's query as the dashboard makes it (the HOURLY counts, `dashboards.selectors._intake`) and
the query it made until the fifteenth session (today's cases grouped by hour and channel), after
checking that both give the same figures. The load cluster's deadline-day runs had 68,000-150,000
cases in one day; there the old query cost the supervisor's board about 110 ms.
"""

from __future__ import annotations

import datetime
import os
import time
from typing import Any

DB_NAME = "mdg_bench_intake_by_hour"


def _timed(query: Any, runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        query()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return times[len(times) // 2], times[min(len(times) - 1, int(0.95 * len(times)))]


def main(argv: list[str]) -> None:
    options = dict(arg.lstrip("-").split("=", 1) if "=" in arg else (arg.lstrip("-"), "1") for arg in argv)
    total = int(options.get("cases", 150_000))
    runs = int(options.get("runs", 30))
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
    from bench import cases as case_bench

    case_bench._setup_django(DB_NAME)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.db import connection
    from django.db.models import Count
    from django.db.models.functions import ExtractHour
    from django.utils import timezone

    from bench import report
    from madoguchi.cases.models import Case
    from madoguchi.dashboards import counting
    from madoguchi.dashboards.models import CaseCount
    from madoguchi.dashboards.selectors import JST, Dashboard, _intake, day_start

    program, operator, _ward = case_bench._world()
    with counting.triggers_off(connection):
        case_bench.load(program, operator, total, reload=False)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE cases_case SET received_at = (date_trunc('day', now() AT TIME ZONE 'Asia/Tokyo') "
                "AT TIME ZONE 'Asia/Tokyo') + (id %% 10000) * interval '1 second' WHERE program_id = %s",
                [program.pk],
            )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE cases_case")
        cursor.execute("ANALYZE dashboards_casecount")
    today = timezone.localdate(timezone.now(), JST)
    cases = Case.objects.filter(program_id__in=[program.pk])
    counts = CaseCount.objects.filter(program_id__in=[program.pk])

    def from_counts() -> dict[tuple[int, str], int]:
        board = Dashboard(
            role="supervisor", figures=("intake_today",), today=today, counted_at=timezone.now()
        )
        _intake(board, counts, today)
        return board.intake_by_hour

    def from_cases() -> dict[tuple[int, str], int]:
        start = day_start(today)
        grouped = (
            cases.filter(received_at__gte=start, received_at__lt=start + datetime.timedelta(days=1))
            .annotate(hour=ExtractHour("received_at", tzinfo=JST))
            .values("hour", "channel")
            .annotate(n=Count("id"))
            .order_by()
        )
        return {(row["hour"], row["channel"]): row["n"] for row in grouped}

    assert from_counts() == from_cases(), "the hourly counts disagree with the cases"
    today_total = sum(from_counts().values())
    rows = []
    compared = (
        ("hourly counts (the dashboard)", from_counts),
        ("today's cases grouped (until 15th)", from_cases),
    )
    for label, query in compared * 2:
        p50, p95 = _timed(query, runs)
        rows.append((label, p50, p95))
        print(f"{label:38s} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms", flush=True)
    one, five, fifteen = os.getloadavg()
    body = [
        f"`python -m bench intake_by_hour --cases={total}`: the supervisor's chart of today's intake by "
        f"hour with {today_total:,} cases received today (PostgreSQL, {runs} runs each, alternately; "
        f"load average {one:.2f} {five:.2f} {fifteen:.2f}). Both give the same figures.",
        "",
        "| query | p50 ms | p95 ms |",
        "| --- | ---: | ---: |",
        *(f"| {label} | {p50:.1f} | {p95:.1f} |" for label, p50, p95 in rows),
    ]
    report.write_section("intake_by_hour", "\n".join(body))
    connection.close()
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
