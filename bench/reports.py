"""A month's report in every format at 1,000,000 cases, and the ward's export of 100,000 cases.

`python -m bench reports [--cases=N] [--runs=N] [--export=N] [--reload]` on PostgreSQL
(database `mdg_bench_reports`, created when missing; DATABASE_URL overrides). The cases and
their timeline come from the data builder of `bench/cases.py`; this module then gives the
callback cases an escalation, a deadline and a ward answer 0–3 days later, and their
timeline a move into 折り返し待ち, so that every figure of the report has rows to count.

Report: server time of the real views through Django's test client (the screen, and the
XLSX, PDF and CSV downloads), logged in as the supervisor (who gets every section), for the
last full calendar month. Export: `exports.services.stream` of about N cases (CSV and XLSX)
as the ward manager, with the process's resident memory sampled every 20 ms: the peak growth
over the baseline, for N/10 and N rows, shows whether memory stays flat.
"""

from __future__ import annotations

import datetime
import os
import statistics
import sys
import threading
import time
from typing import Any

# The SQL here is built from this module's constants and integer ids, never from input.
# ruff: noqa: S608

DB_NAME = "mdg_bench_reports"


def _rss_kib() -> int:
    with open("/proc/self/statm") as stream:
        return int(stream.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


class PeakMemory:
    """Samples the resident set size in a thread; `.growth_mib` is the peak over the start."""

    def __init__(self) -> None:
        self.base = _rss_kib()
        self.peak = self.base
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _rss_kib())

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_kib())

    @property
    def growth_mib(self) -> float:
        return (self.peak - self.base) / 1024


def enrich(program: Any) -> None:
    """Escalations with answers and callbacks on the callback cases of the builder's data."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            # (the dashboards' benchmark, on the same data, answers other cases: look at these)
            "SELECT count(*) FROM cases_case WHERE program_id = %s AND status = 'callback' "
            "AND ward_due_on IS NOT NULL",
            [program.pk],
        )
        if cursor.fetchone()[0]:
            return
        started = time.perf_counter()
        cursor.execute(
            f"""
            UPDATE cases_case SET
                escalated_at = received_at + interval '30 minutes',
                ward_due_on = (received_at + interval '30 minutes')::date + 2,
                ward_answered_at = received_at + interval '30 minutes' + (id % 4) * interval '1 day',
                assignee_id = created_by_id
            WHERE program_id = {program.pk} AND status = 'callback'
            """
        )
        cursor.execute(
            f"""
            INSERT INTO cases_timelineentry (case_id, kind, body, from_status, to_status, author_id,
                                             author_name, author_organisation, created_at)
            SELECT id, 'ward_answer', '', 'escalated', 'callback', created_by_id, '', '', ward_answered_at
            FROM cases_case WHERE program_id = {program.pk} AND status = 'callback'
            """
        )
        # VACUUM, not only ANALYZE: production runs autovacuum (README), which would have set
        # the visibility map of these pages long before a month's report reads them; without
        # it the covering index's scans fetch every updated row from the heap.
        cursor.execute("VACUUM ANALYZE cases_case")
        cursor.execute("VACUUM ANALYZE cases_timelineentry")
        print(
            f"escalations, answers and callbacks added in {time.perf_counter() - started:.0f} s", flush=True
        )


def last_full_month(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    first = today.replace(day=1)
    last = first - datetime.timedelta(days=1)
    return last.replace(day=1), last


CPU: list[float] = []


def timed(fn: Any, runs: int) -> tuple[float, float, Any]:
    """Median and max wall time (ms) after one warm-up; the median CPU time goes to CPU."""
    fn()
    times = []
    cpu = []
    result = None
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    CPU.append(statistics.median(cpu))
    return statistics.median(times), max(times), result


def main(argv: list[str]) -> None:
    options = dict(arg.lstrip("-").split("=", 1) if "=" in arg else (arg.lstrip("-"), "1") for arg in argv)
    total = int(options.get("cases", 1_000_000))
    runs = int(options.get("runs", 5))
    export_rows = int(options.get("export", 100_000))
    os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{DB_NAME}")
    from bench import cases as case_bench

    case_bench._setup_django()
    from django.conf import settings
    from django.core.management import call_command

    settings.ALLOWED_HOSTS = ["testserver"]
    call_command("migrate", verbosity=0)
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from madoguchi.accounts.models import User
    from madoguchi.accounts.testing import login
    from madoguchi.cases.models import Case, TimelineEntry
    from madoguchi.cases.selectors import CaseFilter
    from madoguchi.exports import services as export_services
    from madoguchi.reports.selectors import build_report
    from madoguchi.reports.tables import report_tables

    program, operator, _ward = case_bench._world()

    from madoguchi.dashboards import counting

    with counting.triggers_off(connection):
        case_bench.load(program, operator, total, reload="reload" in options)
        enrich(program)
    n_cases = Case.objects.count()
    n_entries = TimelineEntry.objects.count()
    supervisor = User.objects.get(username="supervisor")
    manager = User.objects.get(username="manager")

    start, end = last_full_month(timezone.localdate())
    client = Client(REMOTE_ADDR="127.0.0.1")
    login(client, supervisor)
    query = {"program": program.code, "kind": "monthly", "day": start.isoformat()}
    month_cases = Case.objects.filter(
        program=program,
        received_at__gte=timezone.make_aware(datetime.datetime.combine(start, datetime.time.min)),
        received_at__lt=timezone.make_aware(datetime.datetime.combine(end, datetime.time.min))
        + datetime.timedelta(days=1),
    ).count()

    rows = []
    for label, fmt in (("screen (HTML)", ""), ("XLSX", "xlsx"), ("PDF", "pdf"), ("CSV (UTF-8 BOM)", "csv")):

        def request(fmt: str = fmt) -> Any:
            if not fmt:
                return client.get(reverse("reports:index"), query)
            return client.post(reverse("reports:download"), {**query, "format": fmt})

        p50, worst, response = timed(request, runs)
        assert response.status_code == 200, response.status_code
        rows.append((label, p50, worst, CPU[-1], len(response.content)))
        print(
            f"report {label:18s} median {p50:7.1f} ms  max {worst:7.1f} ms  CPU {CPU[-1]:6.0f} ms", flush=True
        )
    with CaptureQueriesContext(connection) as captured:
        report = build_report(program, start, end, with_operators=True)
        report_tables(report)
    queries = len(captured)
    selector_ms = timed(lambda: build_report(program, start, end, with_operators=True), runs)[0]
    print(f"report figures (selectors) median {selector_ms:.1f} ms, {queries} queries", flush=True)

    # --- export ------------------------------------------------------------------------------------
    newest = (
        Case.objects.filter(program=program).order_by("-received_at").values_list("received_at", flat=True)
    )
    first_day = timezone.localtime(newest[export_rows - 1]).date() if n_cases > export_rows else None

    def export(fmt: str, since: datetime.date | None) -> tuple[int, float, float, float]:
        request = export_services.ExportRequest(
            program=program,
            actor=manager,
            filters=CaseFilter(date_from=since),
            columns=[*export_services.DEFAULT_COLUMNS, "caller_name", "inquiry"],
            fmt=fmt,
            purpose="benchmark",
            via="bench",
        )
        with PeakMemory() as memory:
            started, cpu_started = time.perf_counter(), time.process_time()
            export_services.start_export(request)
            size = sum(len(chunk) for chunk in export_services.stream(request))
            seconds = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
        assert request.ledger_entry is not None and size > 0
        return request.ledger_entry.row_count or 0, seconds, memory.growth_mib, cpu

    small_since = timezone.localtime(newest[export_rows // 10 - 1]).date() if first_day else None
    export_rows_out = []
    for fmt in ("csv", "xlsx"):
        small = export(fmt, small_since)
        big = export(fmt, first_day)
        export_rows_out.append((fmt, small, big))
        print(
            f"export {fmt}: {small[0]:,} rows {small[1]:.1f} s +{small[2]:.0f} MiB; "
            f"{big[0]:,} rows {big[1]:.1f} s (CPU {big[3]:.1f} s) +{big[2]:.0f} MiB",
            flush=True,
        )

    load = os.getloadavg()
    report_table = "\n".join(
        f"| {label} | {p50:.0f} | {worst:.0f} | {'yes' if worst <= 1000 else '**no**'} | {cpu:.0f} "
        f"| {size:,} |"
        for label, p50, worst, cpu, size in rows
    )
    export_table = "\n".join(
        f"| {fmt.upper()} | {small[0]:,} | {small[1]:.1f} | {small[2]:.0f} | {big[0]:,} | {big[1]:.1f} "
        f"| {'yes' if big[1] < 10 else '**no**'} | {big[3]:.1f} | {big[2]:.0f} |"
        for fmt, small, big in export_rows_out
    )
    body = f"""
Data: {n_cases:,} cases and {n_entries:,} timeline entries in one program on PostgreSQL
(`{os.environ["DATABASE_URL"].rsplit("/", 1)[1]}`), built by `bench/cases.py`'s loader; the callback
cases were given an escalation, a deadline and a ward answer 0–3 days later (and a timeline
move into 折り返し待ち). Load average during the run: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}
(1/5/15 min) on {os.cpu_count()} cores shared with other sessions: the figures are pessimistic.

**A month's report** ({start:%Y-%m-%d} – {end:%Y-%m-%d}, {month_cases:,} cases received), server time
through Django's test client as the supervisor (every section, including cases per operator),
{runs} runs after one warm-up. Each request also writes its audit event. Budget: 1 s.

| format | median ms | max ms | max within 1 s | CPU ms (median) | bytes |
| --- | ---: | ---: | :---: | ---: | ---: |
{report_table}

The figures themselves (`reports.selectors.build_report`, every section) take {selector_ms:.0f} ms
(median) in {queries} SQL queries; the number of queries does not depend on the data size
(`madoguchi/reports/tests/test_selectors.py::ReportFigureTests::test_a_fixed_number_of_queries`).
The rest is writing the file: WeasyPrint's layout of the PDF is the largest part. "CPU ms" is
the time the Django process spent on the request (`time.process_time`), what it costs when it
does not wait for a core; wall times include waiting for a CPU on the shared machine.

**The ward's export of cases**: `exports.services.stream` as the ward manager (11 columns, 2 of
them personal), the newest cases of the program; time includes the audit events and the ledger
entry. Memory is the peak growth of the process's resident set over its size at the start,
sampled every 20 ms. Budget: 100,000 cases in under 10 s with flat memory.

| format | rows | s | +MiB | rows | s | within 10 s | CPU s | +MiB |
| --- | ---: | ---: | ---: | ---: | ---: | :---: | ---: | ---: |
{export_table}
"""
    from bench.report import write_section

    write_section("reports", body)
    print("written to docs/benchmarks.md", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
