"""The load run's data: 1,000,000 households and 1,000,000 cases in the cluster's demo program.

    .venv/bin/python -m bench.load.data [--households=1000000] [--cases=1000000]

Run with the cluster's settings (DATABASE_URL of its primary; `deploy/cluster/load.sh --data`
does it, under the heavy-job lock). Reuses the benchmarks' bulk loaders rather than the ORM:
households, guardians and children by `bench.identify.load_synthetic` (COPY-like multi-row
inserts, synthetic Setagaya names and addresses), then identification's index built in full as
`identify-reindex` builds it; cases and their timeline by `bench.cases.load`
(`INSERT … SELECT generate_series`), spread over the households so that a household's page lists
its cases, with the dashboards' counting triggers off during the load and the counts rebuilt
after. The cases and the index are built at the same time (two threads, two connections: one
is Python, the other PostgreSQL). Idempotent: what is already there is kept.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any


def _households(program: Any, wanted: int) -> None:
    from bench.identify import load_synthetic
    from madoguchi.registry.models import Household

    have = Household.objects.filter(program=program).count()
    if have >= wanted:
        print(f"households present: {have:,}", flush=True)
        return
    started = time.perf_counter()
    load_synthetic(program, wanted - have, seed=15, sample=0)
    print(f"households: {wanted - have:,} added in {time.perf_counter() - started:.0f} s", flush=True)


def _index(program: Any, cases_started: threading.Event) -> None:
    from django.db import connection

    from madoguchi.identify.indexer import reindex_program, stale_program_ids

    # The index build locks the program's row (FOR UPDATE) for its whole transaction, and the
    # cases' INSERT needs a KEY SHARE lock on it (their foreign key): started first, the index
    # would hold the cases back for its whole build. So it waits until their INSERT has begun.
    cases_started.wait()
    try:
        if program.pk not in stale_program_ids():
            print("identification index up to date", flush=True)
            return
        started = time.perf_counter()
        count = reindex_program(program.pk, only_if_stale=True)
        print(
            f"identification index: {count:,} households in {time.perf_counter() - started:.0f} s", flush=True
        )
    finally:
        connection.close()


def _cases_insert_running() -> bool:
    from django.db import connections

    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
            "AND query LIKE '%INSERT INTO cases_case (%' AND pid <> pg_backend_pid()"
        )
        return bool(cursor.fetchone()[0])


def _cases(program: Any, wanted: int, inserting: threading.Event) -> None:
    from django.db import connection

    from bench.cases import load
    from madoguchi.accounts.models import User
    from madoguchi.dashboards import counting
    from madoguchi.registry.models import Household, TargetListImport

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM cases_case")
            if cursor.fetchone()[0] >= wanted:
                print("cases present", flush=True)
                inserting.set()
                return
        # The synthetic households (one import, consecutive ids); the demo's own are left alone.
        latest = TargetListImport.objects.filter(program=program).order_by("-version").first()
        households = (
            Household.objects.filter(program=program, first_import=latest)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        first, last = households.first() or 0, households.last() or 0
        if households.count() != last - first + 1:  # the loader spreads cases over a range of ids
            raise SystemExit("the program's household ids are not contiguous")
        operator = User.objects.get(username="operator")
        started = time.perf_counter()
        # The bulk load goes faster without the counting triggers; the counts are rebuilt after.
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE cases_case DISABLE TRIGGER dashboards_casecount_insdel")
            cursor.execute("ALTER TABLE cases_case DISABLE TRIGGER dashboards_casecount_update")
        try:
            load(program, operator, wanted, reload=True, households=(first, last))
        finally:
            inserting.set()
            with connection.cursor() as cursor:
                cursor.execute("ALTER TABLE cases_case ENABLE TRIGGER dashboards_casecount_insdel")
                cursor.execute("ALTER TABLE cases_case ENABLE TRIGGER dashboards_casecount_update")
        counting.rebuild(connection)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE dashboards_casecount")
        print(f"cases: {wanted:,} with counts in {time.perf_counter() - started:.0f} s", flush=True)
    finally:
        connection.close()


def main(argv: list[str]) -> int:
    opts = dict(a[2:].split("=", 1) for a in argv if a.startswith("--") and "=" in a)
    households, cases = int(opts.get("households", 1_000_000)), int(opts.get("cases", 1_000_000))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
    import django

    django.setup()
    from django.db import connection

    from madoguchi.demo.services import DEMO_PROGRAM_CODE
    from madoguchi.programs.models import Program

    program = Program.objects.get(code=DEMO_PROGRAM_CODE)
    started = time.perf_counter()
    _households(program, households)
    connection.close()
    failures: list[BaseException] = []

    def run(step: Any, *args: Any) -> None:
        try:
            step(*args)
        except BaseException as error:  # reported below, the other thread goes on
            failures.append(error)
            raise

    cases_started = threading.Event()
    threads = [
        threading.Thread(target=run, args=(_cases, program, cases, cases_started)),
        threading.Thread(target=run, args=(_index, program, cases_started)),
    ]
    threads[0].start()
    while threads[0].is_alive() and not cases_started.is_set():
        if _cases_insert_running():
            cases_started.set()
        time.sleep(1)
    connection.close()
    threads[1].start()
    for thread in threads:
        thread.join()
    if failures:
        return 1
    with connection.cursor() as cursor:
        for table in ("registry_household", "registry_guardian", "registry_child"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    # The index was rebuilt beside the cases' insert, whose older transaction kept the
    # rebuild's VACUUM from marking its pages all-visible (searches then read the table for
    # every key row); in production the minute's `identify-reindex --stale` does this.
    from madoguchi.identify.indexer import revacuum_index_tables

    for table, before, after in revacuum_index_tables():
        print(f"{table} vacuumed again: all-visible pages {before:.0%} -> {after:.0%}", flush=True)
    print(f"data ready in {time.perf_counter() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
