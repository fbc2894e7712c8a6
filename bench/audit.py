"""Benchmark the audit trail: the cost of `record()`, 50 concurrent writers, the incident drill.

    python -m bench audit                      # everything (the drill loads 10,000,000 events)
    python -m bench audit --events 1000000     # a smaller drill
    python -m bench audit --skip-drill         # record() and the writers only

Each part runs in a child process with its own DATABASE_URL: SQLite in a scratch file under
var/, PostgreSQL in the dedicated database `mdg_bench_audit` (dropped and re-created). The
drill's events are bulk-loaded with `INSERT ... SELECT generate_series`: their hashes are
filler (the chain of synthetic rows does not verify), which does not change what is measured,
the index scans of the incident drill. Figures go to docs/benchmarks.md (section `audit`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
PG_BENCH = "postgres://postgres@127.0.0.1:5432/mdg_bench_audit"
SQLITE_FILE = ROOT / "var" / "bench-audit.sqlite3"
RESULTS_FILE = ROOT / "var" / "bench-audit-drill.json"


# --- the parent: runs each part in a child and writes the report -------------------------------


def _child(part: str, database_url: str, *extra: str) -> dict[str, Any]:
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "madoguchi.settings"}
    env.pop("REDIS_URL", None)
    command = [sys.executable, "-m", "bench.audit", "--child", part, *extra]
    process = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    sys.stderr.write(process.stderr[-4000:])
    if process.returncode != 0:
        raise SystemExit(f"bench audit: part {part} failed ({process.returncode})\n{process.stdout[-4000:]}")
    for line in process.stdout.splitlines():
        if not line.startswith("RESULT "):
            print(f"  [{part}] {line}", flush=True)
    result_lines = [line for line in process.stdout.splitlines() if line.startswith("RESULT ")]
    return dict(json.loads(result_lines[-1][len("RESULT ") :]))


def _fresh_pg() -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
        connection.execute("DROP DATABASE IF EXISTS mdg_bench_audit WITH (FORCE)")
        connection.execute("CREATE DATABASE mdg_bench_audit")


def _fresh_sqlite() -> str:
    SQLITE_FILE.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{SQLITE_FILE}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{SQLITE_FILE}"


def _ms(value: float) -> str:
    return f"{value:.2f} ms"


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench audit")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--events", type=int, default=10_000_000, help="events in the drill (default 10M)")
    parser.add_argument("--records", type=int, default=2000, help="record() calls timed per database")
    parser.add_argument("--writers", type=int, default=50)
    parser.add_argument("--per-writer", type=int, default=40)
    parser.add_argument("--skip-drill", action="store_true", help="keep the last drill's figures")
    parser.add_argument(
        "--head", metavar="DESIGN", help="only the chain head under 1..64 writers; DESIGN names the section"
    )
    parser.add_argument("--head-writers", default=",".join(str(n) for n in HEAD_WRITERS))
    parser.add_argument("--head-seconds", type=float, default=10.0)
    args = parser.parse_args(argv)
    if args.child:
        _run_child(args)
        return
    if args.head:
        _fresh_pg()
        extra = ["--head-writers", args.head_writers, "--head-seconds", str(args.head_seconds)]
        body = _head_report(_child("head", PG_BENCH, *extra), args.head)
        print(body)
        from bench.report import write_section

        write_section(f"audit-head-{args.head.split()[0].lower()}", body)
        return

    results: dict[str, Any] = {}
    print("record() on SQLite ...", flush=True)
    results["sqlite"] = _child("record", _fresh_sqlite(), "--records", str(args.records))
    print("record() on PostgreSQL ...", flush=True)
    _fresh_pg()
    results["pg"] = _child("record", PG_BENCH, "--records", str(args.records))
    print(f"{args.writers} concurrent writers on PostgreSQL ...", flush=True)
    _fresh_pg()
    results["writers"] = _child(
        "writers", PG_BENCH, "--writers", str(args.writers), "--per-writer", str(args.per_writer)
    )
    if not args.skip_drill:
        print(f"incident drill with {args.events:,} events on PostgreSQL ...", flush=True)
        _fresh_pg()
        results["drill"] = _child("drill", PG_BENCH, "--events", str(args.events))
        results["drill"]["load"] = " / ".join(f"{value:.1f}" for value in os.getloadavg())
        RESULTS_FILE.write_text(json.dumps(results["drill"]), encoding="utf-8")
    elif RESULTS_FILE.exists():
        # The drill takes half an hour: --skip-drill keeps the last one measured on this machine.
        results["drill"] = json.loads(RESULTS_FILE.read_text(encoding="utf-8"))
        print(f"(drill figures kept from {RESULTS_FILE})", flush=True)
    results["load"] = " / ".join(f"{value:.1f}" for value in os.getloadavg())
    body = _report(results)
    print(body)
    from bench.report import write_section

    write_section("audit", body)


def _report(results: dict[str, Any]) -> str:
    lines = [
        "`record()` writes one chained event: it advances the locked chain head, inserts the event",
        "(eight indexes) and stores the new hash. Timed per call in two ways: inside the request's",
        "already open transaction (the cost the audit adds: the COMMIT is the request's own), and",
        "as a transaction of its own including COMMIT (a request whose only write is the event: the",
        "figure is then mostly the disk's fsync). Target: ≤ 2 ms at the median for the first.",
        "",
        f"Load average while measuring: {results.get('load', '?')} on {os.cpu_count()} cores "
        "(the machine is shared with other work; figures are pessimistic).",
        "",
        "| database | events in table | median, own transaction | p95, own transaction "
        "| median, in the request's transaction | a bare `SELECT 1` then |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for key, label in (("sqlite", "SQLite"), ("pg", "PostgreSQL 15")):
        r = results[key]
        lines.append(
            f"| {label} | {r['existing']:,} | {_ms(r['commit_median'])} | {_ms(r['commit_p95'])} "
            f"| {_ms(r['inner_median'])} | {_ms(r.get('round_trip', 0))} |"
        )
    drill = results.get("drill")
    if drill and "record" in drill:
        r = drill["record"]
        lines.append(
            f"| PostgreSQL 15 | {drill['events']:,} | {_ms(r['commit_median'])} | {_ms(r['commit_p95'])} "
            f"| {_ms(r['inner_median'])} | {_ms(r.get('round_trip', 0))} |"
        )
    w = results["writers"]
    lines += [
        "",
        f"**{w['writers']} concurrent writers** (threads, one connection each) on PostgreSQL wrote "
        f"{w['events']:,} events, each in its own transaction, in {w['seconds']:.1f} s "
        f'({w["rate"]:.0f} events/s; the chain head under load: section "The audit chain head under '
        f'concurrent writers"). Afterwards: {w["chains"]} chain(s), each '
        f"without a gap: **{w['gapless']}**; no two events share a predecessor (no fork): "
        f"**{w['no_fork']}**; `audit verify`: **{w['verify']}** ({w['verify_seconds']:.2f} s).",
    ]
    if drill:
        lines += [
            "",
            f"**The incident drill** on PostgreSQL with {drill['events']:,} events "
            f"(bulk-loaded in {drill['load_seconds']:.0f} s, "
            f"indexes built in {drill['index_seconds']:.0f} s; "
            f"table and indexes {drill['size']}), {drill['households']:,} households, "
            f"{drill['users']} users, one year. Queries as the ward's auditor through the "
            "screens' selectors (scope filter included), first page of 100, newest first. "
            "Cold = first run after loading; warm = median of 5. Target: < 2 s. "
            f"Load average then: {drill.get('load', '?')}.",
            "",
            "| question | rows | cold | warm |",
            "| --- | --- | --- | --- |",
        ]
        for query in drill["queries"]:
            lines.append(
                f"| {query['name']} | {query['rows']} | {_ms(query['cold'])} | {_ms(query['warm'])} |"
            )
        lines += [
            "",
            "Synthetic rows carry filler hashes (`md5(seq) || md5(seq)`), so `audit verify` is not",
            "run on them; verify's own speed is the figure from the writers' run above.",
        ]
    return "\n".join(lines)


# --- the children: a configured Django in a process of its own ------------------------------


def _setup() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _world(users: int = 4) -> dict[str, Any]:
    import datetime

    from madoguchi.accounts.models import Organisation, Role, User
    from madoguchi.programs.models import Program

    ward = Organisation.objects.create(code="bench-ward", name="ベンチ区", kind=Organisation.Kind.WARD)
    contractor = Organisation.objects.create(
        code="bench-contractor", name="ベンチ委託先", kind=Organisation.Kind.CONTRACTOR
    )
    other_ward = Organisation.objects.create(code="bench-ward-b", name="別の区", kind=Organisation.Kind.WARD)
    other_contractor = Organisation.objects.create(
        code="bench-contractor-b", name="別の委託先", kind=Organisation.Kind.CONTRACTOR
    )
    today = datetime.date.today()
    program = Program.objects.create(
        code="bench",
        name="ベンチ事業",
        ward=ward,
        contractor=contractor,
        recording_start=today - datetime.timedelta(days=400),
        recording_end=today + datetime.timedelta(days=30),
    )
    other = Program.objects.create(
        code="bench-b",
        name="別の事業",
        ward=other_ward,
        contractor=other_contractor,
        recording_start=today - datetime.timedelta(days=400),
        recording_end=today + datetime.timedelta(days=30),
    )
    ours = User.objects.bulk_create(
        [
            User(username=f"op{n:04d}", role=Role.OPERATOR, organisation=contractor, display_name=f"委託 {n}")
            for n in range(users)
        ]
    )
    theirs = User.objects.bulk_create(
        [
            User(
                username=f"ot{n:04d}",
                role=Role.OPERATOR,
                organisation=other_contractor,
                display_name=f"他 {n}",
            )
            for n in range(users)
        ]
    )
    program.members.add(*ours)
    other.members.add(*theirs)
    auditor = User.objects.create(username="bench-auditor", role=Role.AUDITOR, organisation=ward)
    program.members.add(auditor)
    return {"program": program, "other": other, "ours": ours, "theirs": theirs, "auditor": auditor}


def _time_records(world: dict[str, Any], count: int) -> dict[str, Any]:
    import uuid

    from django.db import transaction

    from madoguchi.audit.models import Action, AuditEvent
    from madoguchi.audit.services import record
    from madoguchi.core.request_context import client_ip_var, request_id_var

    existing = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    user = world["ours"][0]
    user.organisation  # noqa: B018 - load the snapshot's organisation once, as a request would
    program_id = world["program"].pk
    client_ip_var.set("192.0.2.10")
    request_id_var.set("0123456789abcdef")

    def one() -> None:
        record(
            action=Action.VIEW,
            actor=user,
            program_id=program_id,
            object_type="household",
            object_id=str(uuid.uuid4()),
            details={"fields": ["guardian.name", "guardian.phone", "household.address"]},
        )

    for _warm in range(50):
        with transaction.atomic():
            one()
    with_commit = []
    for _n in range(count):
        start = time.perf_counter()
        with transaction.atomic():
            one()
        with_commit.append((time.perf_counter() - start) * 1000)
    inner = []
    for _n in range(count):
        # The request's own transaction is already open; its COMMIT is not the audit's cost.
        with transaction.atomic():
            start = time.perf_counter()
            one()
            inner.append((time.perf_counter() - start) * 1000)
    with_commit.sort()
    from django.db import connection

    round_trips = []
    with connection.cursor() as cursor:
        for _n in range(200):
            start = time.perf_counter()
            cursor.execute("SELECT 1")
            cursor.fetchone()
            round_trips.append((time.perf_counter() - start) * 1000)
    return {
        "round_trip": statistics.median(round_trips),
        "existing": existing,
        "commit_median": statistics.median(with_commit),
        "commit_p95": with_commit[int(len(with_commit) * 0.95)],
        "inner_median": statistics.median(inner),
    }


def _child_record(args: argparse.Namespace) -> dict[str, Any]:
    _setup()
    result = _time_records(_world(), args.records)
    print(
        f"record(): median {result['commit_median']:.3f} ms with commit, "
        f"{result['inner_median']:.3f} ms inside"
    )
    return result


def _child_writers(args: argparse.Namespace) -> dict[str, Any]:
    _setup()
    import threading

    from django.db import connections, transaction

    from madoguchi.audit.models import Action, AuditEvent
    from madoguchi.audit.services import record
    from madoguchi.audit.verify import verify_chain

    world = _world(users=args.writers)
    barrier = threading.Barrier(args.writers)
    errors: list[BaseException] = []

    def write(index: int) -> None:
        user = world["ours"][index]
        try:
            user.organisation  # noqa: B018
            barrier.wait()
            for n in range(args.per_writer):
                with transaction.atomic():
                    record(
                        action=Action.VIEW,
                        actor=user,
                        program_id=world["program"].pk,
                        object_type="household",
                        object_id=index * 100000 + n,
                    )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(args.writers)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    if errors:
        raise SystemExit(f"writers failed: {errors[:3]}")
    rows = list(AuditEvent.objects.values_list("chain", "chain_seq", "prev_hash"))
    positions: dict[int, list[int]] = {}
    for chain, position, _prev in rows:
        positions.setdefault(chain, []).append(position or 0)
    gapless = all(sorted(p) == list(range(1, len(p) + 1)) for p in positions.values())
    # A chain's first event starts from the genesis hash; any other repeated predecessor is a fork.
    prevs = [prev for _chain, position, prev in rows if position != 1]
    started = time.perf_counter()
    report = verify_chain()
    verify_seconds = time.perf_counter() - started
    events = args.writers * args.per_writer
    result = {
        "writers": args.writers,
        "events": events,
        "seconds": seconds,
        "rate": events / seconds,
        "chains": len(positions),
        "gapless": "yes" if gapless and len(rows) == events else "NO",
        "no_fork": "yes" if len(set(prevs)) == len(prevs) else "NO",
        "verify": "OK" if report.ok else f"BROKEN {report.problem}",
        "verify_seconds": verify_seconds,
    }
    print(json.dumps(result))
    return result


# Indexes dropped before the bulk load and rebuilt after: much faster than maintaining them row by row.
_DRILL_INDEXES = (
    "audit_at_seq",
    "audit_actor_at_seq",
    "audit_object_at_seq",
    "audit_action_at_seq",
    "audit_ip_at_seq",
    "audit_program_at_seq",
)


def _child_drill(args: argparse.Namespace) -> dict[str, Any]:
    _setup()
    import datetime

    from django.db import connection

    from madoguchi.audit import selectors
    from madoguchi.audit.models import AuditEvent, ChainHead

    users = 250
    world = _world(users=users)
    ours, theirs = world["ours"], world["theirs"]
    events = args.events
    households = max(1000, events // 50)
    end = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    start = end - datetime.timedelta(days=365)
    step_us = int((end - start).total_seconds() * 1_000_000 / events)
    with connection.cursor() as cursor:
        index_sql = {}
        for name in _DRILL_INDEXES:
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [name])
            index_sql[name] = cursor.fetchone()[0]
            cursor.execute(f"DROP INDEX {name}")
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'audit_auditevent'::regclass AND contype = 'u'"
        )
        uniques = cursor.fetchall()
        for constraint, _definition in uniques:
            cursor.execute(f"ALTER TABLE audit_auditevent DROP CONSTRAINT {constraint}")
        cursor.execute("SET synchronous_commit = off")
        began = time.perf_counter()
        # Even seqs: our program, by one of our 250 operators; odd: the other ward's program.
        # Mostly views of households; 1 in 50 a search, 1 in 500 an export; 20 client addresses.
        cursor.execute(
            """
            INSERT INTO audit_auditevent (seq, at, actor_id, actor_username, actor_name, actor_organisation,
                actor_role, client_ip, request_id, action, program_id, object_type, object_id, outcome,
                details, change_digest, prev_hash, hash)
            SELECT g,
                   %(start)s::timestamptz + (g * %(step)s) * interval '1 microsecond',
                   CASE WHEN g %% 2 = 0 THEN %(ours)s + (g / 2) %% %(users)s
                        ELSE %(theirs)s + (g / 2) %% %(users)s END,
                   'op', 'ベンチ 利用者', 'ベンチ委託先', 'operator',
                   '192.0.2.' || (g %% 20), substr(md5(g::text), 1, 16),
                   CASE WHEN g %% 500 = 8 THEN 'export' WHEN g %% 50 = 4 THEN 'search' ELSE 'view' END,
                   CASE WHEN g %% 2 = 0 THEN %(program)s ELSE %(other)s END,
                   CASE WHEN g %% 50 = 4 OR g %% 500 = 8 THEN 'case' ELSE 'household' END,
                   md5('h' || ((g * 7919) %% %(households)s)::text),
                   'ok', '{"fields": ["guardian.name", "guardian.phone"]}'::jsonb, '',
                   md5((g - 1)::text) || md5((g - 1)::text), md5(g::text) || md5(g::text)
            FROM generate_series(1::bigint, %(events)s::bigint) AS g
            """,
            {
                "start": start,
                "step": step_us,
                "ours": ours[0].pk,
                "theirs": theirs[0].pk,
                "users": users,
                "program": world["program"].pk,
                "other": world["other"].pk,
                "households": households,
                "events": events,
            },
        )
        load_seconds = time.perf_counter() - began
        print(f"loaded {events:,} events in {load_seconds:.0f} s", flush=True)
        began = time.perf_counter()
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for constraint, definition in uniques:
            cursor.execute(f"ALTER TABLE audit_auditevent ADD CONSTRAINT {constraint} {definition}")
        for name in _DRILL_INDEXES:
            cursor.execute(index_sql[name])
        cursor.execute("ANALYZE audit_auditevent")
        index_seconds = time.perf_counter() - began
        print(f"indexes built in {index_seconds:.0f} s", flush=True)
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('audit_auditevent'))")
        size = cursor.fetchone()[0]
        cursor.execute("SELECT hash FROM audit_auditevent WHERE seq = %s", [events])
        # The synthetic rows form the legacy chain 0 (no chain_seq); new events go after them.
        ChainHead.objects.update_or_create(pk=0, defaults={"seq": events, "hash": cursor.fetchone()[0]})
        cursor.execute("SELECT setval('audit_event_seq', %s)", [events])
        cursor.execute("CHECKPOINT")

    auditor = world["auditor"]
    household = AuditEvent.objects.filter(seq=events // 2).values_list("object_id", flat=True).get()
    if (
        AuditEvent.objects.filter(seq=events // 2).values_list("program_id", flat=True).get()
        != world["program"].pk
    ):
        household = AuditEvent.objects.filter(seq=events // 2 + 1).values_list("object_id", flat=True).get()
    suspect = ours[17]
    day = end - datetime.timedelta(days=40)
    queries = [
        (
            "who saw this household (all time)",
            lambda: selectors.who_saw(auditor, object_type="household", object_id=household),
        ),
        (
            "what did this user see in one day (D1..D2)",
            lambda: selectors.what_user_saw(
                auditor, actor_id=suspect.pk, at_from=day, at_to=day + datetime.timedelta(days=1)
            ),
        ),
        (
            "what did this user see in 30 days",
            lambda: selectors.what_user_saw(
                auditor, actor_id=suspect.pk, at_from=day - datetime.timedelta(days=30), at_to=day
            ),
        ),
        (
            "the latest events (no filter)",
            lambda: selectors.event_page(auditor, selectors.EventFilter()).events,
        ),
        (
            "every export in 90 days",
            lambda: (
                selectors.event_page(
                    auditor, selectors.EventFilter(action="export", at_from=end - datetime.timedelta(days=90))
                ).events
            ),
        ),
        (
            "what came from one address in one day",
            lambda: (
                selectors.event_page(
                    auditor,
                    selectors.EventFilter(
                        client_ip="192.0.2.4", at_from=day, at_to=day + datetime.timedelta(days=1)
                    ),
                ).events
            ),
        ),
        (
            "the 2nd page of one user's 30 days (keyset; timed with the 1st page that gives its cursor)",
            lambda: (
                selectors.event_page(
                    auditor,
                    selectors.EventFilter(
                        actor_id=suspect.pk, at_from=day - datetime.timedelta(days=30), at_to=day
                    ),
                    cursor=selectors.what_user_saw(
                        auditor, actor_id=suspect.pk, at_from=day - datetime.timedelta(days=30), at_to=day
                    )[-1].seq,
                ).events
            ),
        ),
    ]
    timed = []
    for name, query in queries:
        began = time.perf_counter()
        rows = query()
        cold = (time.perf_counter() - began) * 1000
        warm = []
        for _n in range(5):
            began = time.perf_counter()
            query()
            warm.append((time.perf_counter() - began) * 1000)
        timed.append({"name": name, "rows": len(rows), "cold": cold, "warm": statistics.median(warm)})
        print(
            f"{name}: {len(rows)} rows, cold {cold:.1f} ms, warm {statistics.median(warm):.1f} ms", flush=True
        )
    record_result = _time_records(world, 500)
    return {
        "events": events,
        "households": households,
        "users": users * 2,
        "load_seconds": load_seconds,
        "index_seconds": index_seconds,
        "size": size,
        "queries": timed,
        "record": record_result,
    }


# --- the chain head under concurrent writers (issue 15) ---------------------------------------

HEAD_WRITERS = (1, 4, 16, 64)


def _head_writer(
    index: int, user_pk: int, program_pk: int, start_at: float, stop_at: float, out: Any
) -> None:
    """One writer process: request-shaped transactions (a read, record(), COMMIT) until stop_at."""
    import uuid

    from django.db import connection, transaction

    from madoguchi.accounts.models import User
    from madoguchi.audit import services
    from madoguchi.audit.models import Action

    head_waits: list[float] = []
    original = services._advance_head

    def timed_head(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            head_waits.append((time.perf_counter() - began) * 1000)

    services._advance_head = timed_head  # type: ignore[assignment]
    latencies: list[float] = []
    try:
        connection.ensure_connection()
        while time.time() < start_at:
            time.sleep(0.005)
        measured_from = len(latencies)
        while time.time() < stop_at:
            began = time.perf_counter()
            with transaction.atomic():
                # The request's read: the signed-in user with the organisation the snapshot needs.
                user = User.objects.select_related("organisation").get(pk=user_pk)
                services.record(
                    action=Action.VIEW,
                    actor=user,
                    program_id=program_pk,
                    object_type="household",
                    object_id=str(uuid.uuid4()),
                    details={"fields": ["guardian.name", "guardian.phone", "household.address"]},
                )
            latencies.append((time.perf_counter() - began) * 1000)
        out.put({"index": index, "latencies": latencies[measured_from:], "head_waits": head_waits})
    except BaseException as exc:  # reported by the parent
        out.put({"index": index, "error": repr(exc)})
    finally:
        connection.close()


def _sample_lock_waits(stop_at: float, samples: list[int]) -> None:
    """Every 100 ms: how many backends of this database wait on a lock (the head's queue)."""
    import psycopg

    with psycopg.connect(PG_BENCH, autocommit=True) as conn:
        while time.time() < stop_at:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            ).fetchone()
            samples.append(int(row[0]) if row else 0)
            time.sleep(0.1)


def _child_head(args: argparse.Namespace) -> dict[str, Any]:
    _setup()
    import multiprocessing
    import threading

    from django.db import connections

    from madoguchi.audit.models import AuditEvent
    from madoguchi.audit.verify import verify_chain

    world = _world(users=max(HEAD_WRITERS))
    program_pk = world["program"].pk
    users = [user.pk for user in world["ours"]]
    context = multiprocessing.get_context("fork")
    runs = []
    for writers in [int(n) for n in args.head_writers.split(",")]:
        before = AuditEvent.objects.count()
        connections.close_all()  # each forked writer opens its own connection
        queue = context.Queue()
        start_at = time.time() + 1.5 + writers * 0.05
        stop_at = start_at + args.head_seconds
        processes = [
            context.Process(
                target=_head_writer, args=(n, users[n % len(users)], program_pk, start_at, stop_at, queue)
            )
            for n in range(writers)
        ]
        for process in processes:
            process.start()
        samples: list[int] = []
        while time.time() < start_at:
            time.sleep(0.01)
        sampler = threading.Thread(target=_sample_lock_waits, args=(stop_at, samples))
        sampler.start()
        results = [queue.get() for _process in processes]
        for process in processes:
            process.join()
        sampler.join()
        errors = [r["error"] for r in results if "error" in r]
        if errors:
            raise SystemExit(f"writers failed: {errors[:3]}")
        latencies = sorted(x for r in results for x in r["latencies"])
        waits = sorted(x for r in results for x in r["head_waits"])
        load = " / ".join(f"{value:.1f}" for value in os.getloadavg())
        run = {
            "writers": writers,
            "events": len(latencies),
            "rate": len(latencies) / args.head_seconds,
            "tx_median": statistics.median(latencies),
            "tx_p95": latencies[int(len(latencies) * 0.95)],
            "head_median": statistics.median(waits),
            "head_p95": waits[int(len(waits) * 0.95)],
            "head_share": sum(waits) / max(sum(latencies), 1e-9),
            "lock_waiters": statistics.mean(samples) if samples else 0.0,
            "load": load,
            "written": AuditEvent.objects.count() - before,
        }
        print(json.dumps(run), flush=True)
        runs.append(run)
    started = time.perf_counter()
    report = verify_chain()
    return {
        "runs": runs,
        "seconds": args.head_seconds,
        "verify": "OK" if report.ok else f"BROKEN {report.problem}",
        "verify_events": report.checked,
        "verify_seconds": time.perf_counter() - started,
    }


def _head_report(result: dict[str, Any], design: str) -> str:
    lines = [
        f"Design measured: **{design}**. N writer processes (forked, one connection each) on",
        "PostgreSQL 15 (`synchronous_commit = on`), each looping over a request-shaped transaction:",
        "read the signed-in user with its organisation, `record()` one view event, COMMIT.",
        f"{result['seconds']:.0f} s per N after a warm-up. *Head wait* is the time spent taking the",
        "chain head (the statement that locks it, including the wait for the lock); *lock waiters* is",
        "the mean number of backends in a `Lock` wait, sampled every 100 ms from `pg_stat_activity`.",
        "",
        "| writers | events/s | transaction median | transaction p95 | head wait median | head wait p95 "
        "| share of time waiting for the head | lock waiters | load average |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in result["runs"]:
        lines.append(
            f"| {run['writers']} | {run['rate']:.0f} | {_ms(run['tx_median'])} | {_ms(run['tx_p95'])} "
            f"| {_ms(run['head_median'])} | {_ms(run['head_p95'])} | {run['head_share'] * 100:.0f} % "
            f"| {run['lock_waiters']:.1f} | {run['load']} |"
        )
    lines += [
        "",
        f"Afterwards `audit verify` over the {result['verify_events']:,} events: **{result['verify']}** "
        f"({result['verify_seconds']:.1f} s).",
    ]
    return "\n".join(lines)


def _run_child(args: argparse.Namespace) -> None:
    parts = {"record": _child_record, "writers": _child_writers, "drill": _child_drill, "head": _child_head}
    result = parts[args.child](args)
    print("RESULT " + json.dumps(result, default=str), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
