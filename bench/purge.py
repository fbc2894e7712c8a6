"""The purge of a program with 100,000 households and 1,000,000 cases on PostgreSQL (issue 10).

`python -m bench purge [--households=N] [--cases=N] [--entries=N] [--changes=N]` (database
`mdg_bench_purge`, DATABASE_URL overrides). Builds the program fresh every run, bulk-loaded
with `INSERT … SELECT generate_series` in the manner of bench/cases.py: N households (one
guardian, one or two children, five identification keys and a profile each), the list
version and its changes, N cases (half linked to a household) with `entries` timeline
entries each, notifications, and `changes` audit events with before/after values (a real
hash chain, so `audit verify` runs after). Then it requests, approves and purges the
program through the same services as the command and reports each phase: the steps, the
rewrite (VACUUM FULL), the scan and the certificate. Target: under 5 minutes in all.
"""

from __future__ import annotations

import datetime
import os
import time
from typing import Any

# The SQL here is built from this module's constants and integer ids, never from input.
# ruff: noqa: S608, E501

DB_NAME = "mdg_bench_purge"
FAMILY = ["佐藤", "鈴木", "髙橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "𠮷田", "山田"]
FAMILY_KANA = [
    "サトウ",
    "スズキ",
    "タカハシ",
    "タナカ",
    "イトウ",
    "ワタナベ",
    "ヤマモト",
    "ナカムラ",
    "コバヤシ",
    "カトウ",
    "ヨシダ",
    "ヤマダ",
]
GIVEN = ["一郎", "花子", "陽葵", "蒼", "凛", "湊", "結菜", "蓮", "美咲", "大翔", "澄子", "健太"]
GIVEN_KANA = [
    "イチロウ",
    "ハナコ",
    "ヒマリ",
    "アオイ",
    "リン",
    "ミナト",
    "ユイナ",
    "レン",
    "ミサキ",
    "ヒロト",
    "スミコ",
    "ケンタ",
]
TOWNS = ["太子堂", "弦巻", "池尻", "瀬田", "三軒茶屋", "下馬", "上馬", "野沢", "若林", "世田谷"]


def _setup_django() -> None:
    os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{DB_NAME}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
    import psycopg

    url = os.environ["DATABASE_URL"]
    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    import django

    django.setup()


def _arr(values: list[str]) -> str:
    return "ARRAY[" + ",".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def _pick(array: str, expr: str, size: int) -> str:
    return f"({array})[1 + (({expr}) % {size})]"


def load(program: Any, manager: Any, operator: Any, households: int, cases: int, entries: int) -> None:
    from django.db import connection

    from madoguchi.cases.models import Category

    fam, famk, giv, givk, towns = _arr(FAMILY), _arr(FAMILY_KANA), _arr(GIVEN), _arr(GIVEN_KANA), _arr(TOWNS)
    nf, ng, nt = len(FAMILY), len(GIVEN), len(TOWNS)
    family = _pick(fam, "i", nf)
    family_kana = _pick(famk, "i", nf)
    given = _pick(giv, "i / 12", ng)
    given_kana = _pick(givk, "i / 12", ng)
    child = _pick(giv, "i / 7 + c", ng)
    child_kana = _pick(givk, "i / 7 + c", ng)
    town = _pick(towns, "i / 144", nt)
    categories = list(Category.objects.filter(program=program).values_list("id", flat=True))
    cats = ",".join(str(pk) for pk in categories)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '256MB'")
        cursor.execute(
            "INSERT INTO registry_targetlistimport (program_id, version, uploaded_by_id, created_at, finished_at, "
            "file_name, sha256, size_bytes, encoding, row_count, household_count, added, changed, removed, "
            "unchanged, ineligible, status, problems) VALUES "
            f"({program.pk}, 1, {manager.pk}, now(), now(), 'targets.csv', repeat('a', 64), 0, 'utf-8', "
            f"{households}, {households}, {households}, 0, 0, 0, 0, 'applied', '[]') RETURNING id"
        )
        import_id = cursor.fetchone()[0]
        cursor.execute(
            f"""
            INSERT INTO registry_household (public_id, program_id, number, postal_code, address, address_key,
                address_block_key, content_hash, first_import_id, last_import_id, created_at, updated_at)
            SELECT gen_random_uuid(), {program.pk}, 'B' || lpad(i::text, 8, '0'), '154-' || lpad((i % 10000)::text, 4, '0'),
                   '東京都世田谷区' || {town} || (1 + i % 5) || '丁目' || (1 + i % 40) || '番' || (1 + i % 30) || '号 ハイツ' || i || '号室',
                   '東京都世田谷区' || {town} || (1 + i % 5) || '-' || (1 + i % 40) || '-' || (1 + i % 30) || '-' || i,
                   {town} || (1 + i % 5) || '-' || (1 + i % 40) || '-' || (1 + i % 30),
                   md5(i::text) || md5((i + 1)::text), {import_id}, {import_id}, now(), now()
            FROM generate_series(1, {households}) AS i
            """
        )
        cursor.execute(f"SELECT min(id) FROM registry_household WHERE program_id = {program.pk}")
        first = cursor.fetchone()[0]
        cursor.execute(
            f"""
            INSERT INTO registry_guardian (household_id, name, name_key, family_name_key, kana, kana_key,
                kana_loose_key, family_kana_loose_key, dob, phone, phone_digits, email, email_key)
            SELECT h.id, {family} || '　' || {given} || i, {family} || {given} || i, {family},
                   {family_kana} || '　' || {given_kana}, {family_kana} || {given_kana}, {family_kana} || {given_kana},
                   {family_kana}, date '1970-01-01' + (i % 9000)::int,
                   '090-' || lpad((i % 10000)::text, 4, '0') || '-' || lpad((i / 10000)::text, 4, '0'),
                   '090' || lpad((i % 10000)::text, 4, '0') || lpad((i / 10000)::text, 4, '0'),
                   'parent' || i || '@example.jp', 'parent' || i || '@example.jp'
            FROM (SELECT id, id - {first} + 1 AS i FROM registry_household WHERE program_id = {program.pk}) h
            """
        )
        cursor.execute(
            f"""
            INSERT INTO registry_child (household_id, name, name_key, given_name_key, kana, kana_key,
                kana_loose_key, given_kana_loose_key, dob)
            SELECT h.id, {family} || '　' || {child} || i || c, {family} || {child} || i || c, {child},
                   {family_kana} || '　' || {child_kana}, {family_kana} || {child_kana},
                   {family_kana} || {child_kana}, {child_kana}, date '2019-04-02' + ((i * 3 + c) % 1090)::int
            FROM (SELECT id, id - {first} + 1 AS i FROM registry_household WHERE program_id = {program.pk}) h,
                 generate_series(1, 2) AS c
            WHERE c = 1 OR i % 2 = 0
            """
        )
        cursor.execute(
            f"INSERT INTO registry_targetlistchange (target_import_id, household_id, kind, fields) "
            f"SELECT {import_id}, id, 'added', '[]' FROM registry_household WHERE program_id = {program.pk}"
        )
        cursor.execute(
            f"""
            INSERT INTO identify_identkey (program_id, household_id, key)
            SELECT {program.pk}, h.id, k || ':' || {family} || i
            FROM (SELECT id, id - {first} + 1 AS i FROM registry_household WHERE program_id = {program.pk}) h,
                 unnest(ARRAY['f', 'g', 'c', 't', 'a']) AS k
            """
        )
        cursor.execute(
            f"""
            INSERT INTO identify_identprofile (program_id, household_id, data)
            SELECT {program.pk}, h.id, jsonb_build_object('g', {family} || '　' || {given} || i, 'n', 'B' || lpad(i::text, 8, '0'))
            FROM (SELECT id, id - {first} + 1 AS i FROM registry_household WHERE program_id = {program.pk}) h
            """
        )
        print(
            f"list of {households:,} households loaded at {time.perf_counter() - started:.0f} s", flush=True
        )
        cursor.execute(
            f"""
            INSERT INTO cases_case (public_id, program_id, receipt_number, channel, received_at, household_id,
                caller_relation, caller_name, caller_kana, child_name, contact_phone, contact_email,
                verification, verified_items, category_id, inquiry, response, status, priority, version,
                escalated_at, ward_due_on, ward_answered_at, created_by_id, created_at, updated_at, search_text)
            SELECT gen_random_uuid(), {program.pk}, 'PG-' || lpad(i::text, 7, '0'),
                   (ARRAY['phone','phone','phone','form','email','counter'])[1 + i % 6],
                   timestamptz '2023-02-03 09:00+09' + (i % 96) * interval '1 day' + (i % 480) * interval '1 minute',
                   CASE WHEN i % 2 = 0 THEN {first} + (i / 2) % {households} END,
                   'guardian', {family} || '　' || {given} || (i % {households}), {family_kana},
                   '', '080-' || lpad((i % 10000)::text, 4, '0') || '-' || lpad((i / 10000 % 10000)::text, 4, '0'),
                   'caller' || i || '@example.jp', 'verified', '[]'::jsonb,
                   (ARRAY[{cats}]::bigint[])[1 + i % {len(categories)}],
                   {family} || '様より。カタログが届かないとの問い合わせ ' || i, '配送業者に確認すると伝えた',
                   CASE WHEN i % 100 < 80 THEN 'closed' WHEN i % 100 < 92 THEN 'callback' ELSE 'escalated' END,
                   'normal', 1,
                   CASE WHEN i % 100 >= 80 THEN timestamptz '2023-02-03 10:00+09' + (i % 96) * interval '1 day' END,
                   CASE WHEN i % 100 >= 80 THEN date '2023-02-05' + (i % 96) END,
                   CASE WHEN i % 100 BETWEEN 80 AND 91 THEN timestamptz '2023-02-04 10:00+09' + (i % 96) * interval '1 day' END,
                   {operator.pk}, now(), now(), lower({family} || '様より。カタログが届かないとの問い合わせ ' || i)
            FROM generate_series(1, {cases}) AS i
            """
        )
        print(f"{cases:,} cases loaded at {time.perf_counter() - started:.0f} s", flush=True)
        cursor.execute(
            f"""
            INSERT INTO cases_timelineentry (case_id, kind, body, from_status, to_status, author_id, author_name,
                author_organisation, created_at)
            SELECT c.id, (ARRAY['created','call_note','escalation','ward_answer','response'])[1 + (n - 1) % 5],
                   CASE WHEN n = 1 THEN '' ELSE '通話記録 ' || c.caller_name || ' 様 ' || c.id END,
                   '', CASE WHEN n = 1 THEN 'new' ELSE '' END, {operator.pk}, 'テスト operator', 'テスト委託先',
                   c.received_at + n * interval '1 minute'
            FROM cases_case c, generate_series(1, {entries}) AS n
            WHERE c.program_id = {program.pk}
            """
        )
        cursor.execute(
            f"INSERT INTO cases_notification (user_id, case_id, kind, created_at) "
            f"SELECT {manager.pk}, id, 'escalated', now() FROM cases_case "
            f"WHERE program_id = {program.pk} AND status = 'escalated'"
        )
        print(f"timeline ({entries} a case) loaded at {time.perf_counter() - started:.0f} s", flush=True)
        for table in (
            "registry_household",
            "registry_guardian",
            "registry_child",
            "cases_case",
            "cases_timelineentry",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")
    print(f"loaded in {time.perf_counter() - started:.0f} s", flush=True)


def load_audit(program: Any, operator: Any, changes: int) -> None:
    """`changes` events with before/after values on a real chain (bulk, hashes computed here)."""
    from django.db import connection
    from django.db.models import Max
    from django.utils import timezone

    from madoguchi.audit.chain import change_digest, event_hash
    from madoguchi.audit.models import AuditChange, AuditEvent, ChainHead
    from madoguchi.audit.services import record

    started = time.perf_counter()
    record(action="view", actor=operator, program_id=program.pk, object_type="program", object_id=program.pk)
    # Appended to chain 1 (where that one event went): positions follow its head, and `seq`
    # (unique across chains) follows the highest so far.
    head = ChainHead.objects.get(pk=1)
    position, prev = head.seq, head.hash
    seq = AuditEvent.objects.aggregate(top=Max("seq"))["top"] or 0
    now = timezone.now()
    batch: list[AuditEvent] = []
    pending: list[tuple[AuditEvent, dict[str, Any], dict[str, Any]]] = []
    for i in range(changes):
        seq += 1
        position += 1
        before = {
            "case.contact_phone": f"080-{i % 10000:04d}-{i // 10000:04d}",
            "case.caller_name": f"佐藤　一郎{i}",
        }
        after = {
            "case.contact_phone": f"070-{i % 10000:04d}-{i // 10000:04d}",
            "case.caller_name": f"佐藤　一朗{i}",
        }
        event = AuditEvent(
            seq=seq,
            chain=1,
            chain_seq=position,
            at=now + datetime.timedelta(microseconds=i),
            actor_id=operator.pk,
            actor_username=operator.username,
            actor_name=operator.display_name,
            actor_organisation="テスト委託先",
            actor_role=operator.role,
            client_ip="127.0.0.1",
            request_id="",
            action="update",
            program_id=program.pk,
            object_type="case",
            object_id=str(i),
            outcome="ok",
            details={"fields": ["case.caller_name", "case.contact_phone"]},
            change_digest=change_digest(before, after),
            prev_hash=prev,
        )
        event.hash = event_hash(event)
        prev = event.hash
        batch.append(event)
        pending.append((event, before, after))
        if len(batch) == 5000 or i == changes - 1:
            AuditEvent.objects.bulk_create(batch)
            AuditChange.objects.bulk_create(
                [AuditChange(event=event, before=b, after=a) for event, b, a in pending]
            )
            batch, pending = [], []
    ChainHead.objects.filter(pk=1).update(seq=position, hash=prev)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT setval('audit_event_seq', %s)", [seq])
        cursor.execute("VACUUM ANALYZE audit_auditchange")
    print(f"{changes:,} audit changes loaded in {time.perf_counter() - started:.0f} s", flush=True)


def main(argv: list[str]) -> None:
    options = dict(arg.lstrip("-").split("=", 1) if "=" in arg else (arg.lstrip("-"), "1") for arg in argv)
    households = int(options.get("households", 100_000))
    cases = int(options.get("cases", 1_000_000))
    entries = int(options.get("entries", 3))
    changes = int(options.get("changes", 100_000))
    _setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from madoguchi.audit.verify import verify_chain
    from madoguchi.cases.models import Case, TimelineEntry
    from madoguchi.cases.testing import seed_categories
    from madoguchi.conftest import build_world
    from madoguchi.lifecycle import services
    from madoguchi.lifecycle.erasure import STEPS
    from madoguchi.programs.models import Program

    world = build_world()
    program = world.program
    seed_categories(program)
    from django.db import connection

    from madoguchi.dashboards import counting

    with counting.triggers_off(connection):
        load(program, world.ward_manager, world.operator, households, cases, entries)
    load_audit(program, world.operator, changes)
    Program.objects.filter(pk=program.pk).update(
        recording_start=datetime.date(2023, 2, 3), recording_end=datetime.date(2023, 5, 10)
    )
    program.refresh_from_db()
    services.request_purge(program=program, actor=world.ward_manager, reason="bench", waive_return=True)
    services.approve_purge(program=program, actor=world.auditor)
    n_cases, n_entries = Case.objects.count(), TimelineEntry.objects.count()

    step_times: dict[str, float] = {}
    original_run_step = services._run_step

    def timed(erasure: Any, step: Any) -> int:
        began = time.perf_counter()
        count = original_run_step(erasure, step)
        step_times[step.name] = time.perf_counter() - began
        print(f"  step {step.name:16s} {count:>10,} rows {step_times[step.name]:6.1f} s", flush=True)
        return count

    services._run_step = timed  # type: ignore[assignment]
    phases: dict[str, float] = {}
    original_rewrite, original_scan = services.rewrite_database, services.scan

    def rewrite() -> dict[str, Any]:
        began = time.perf_counter()
        result = original_rewrite()
        phases["rewrite"] = time.perf_counter() - began
        return result

    def scan(values: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        result = original_scan(values, **kwargs)
        phases["scan"] = time.perf_counter() - began
        return result

    services.rewrite_database = rewrite  # type: ignore[assignment]
    services.scan = scan  # type: ignore[assignment]
    load_before = os.getloadavg()
    started = time.perf_counter()
    report = services.purge(program=program, actor=world.ward_manager)
    total = time.perf_counter() - started
    load_after = os.getloadavg()
    steps_total = sum(step_times.values())
    certificate = total - steps_total - phases.get("rewrite", 0) - phases.get("scan", 0)
    verified = time.perf_counter()
    chain = verify_chain()
    verify_seconds = time.perf_counter() - verified
    print(
        f"purge: {total:.1f} s (steps {steps_total:.1f}, rewrite {phases.get('rewrite', 0):.1f}, "
        f"scan {phases.get('scan', 0):.1f}); scan clean: {report.scan.get('clean')}; "
        f"audit verify {'ok' if chain.ok else chain.problem} in {verify_seconds:.1f} s",
        flush=True,
    )

    from bench.report import write_section

    rows = "\n".join(
        f"| {step.name} (`{step.table}`) | {int(report.counts.get(step.name, 0)):,} | {step_times.get(step.name, 0):.1f} s |"
        for step in STEPS
    )
    body = f"""
## Purge of a program (issue 10)

`make bench BENCH=purge` on PostgreSQL: {households:,} households, {cases:,} cases ({n_cases:,} in the
database), {n_entries:,} timeline entries, {changes:,} audit events with before/after values; the whole
`services.purge` (what `madoguchi lifecycle purge` runs) after request and approval.
Load average {load_before[0]:.1f} before, {load_after[0]:.1f} after (the machine is shared).

**Total: {total:.0f} s** (target: under 300 s). Steps {steps_total:.0f} s, rewrite (VACUUM FULL of the
touched tables) {phases.get("rewrite", 0):.0f} s, scan of every text column for
{report.scan.get("values", 0):,} values {phases.get("scan", 0):.0f} s (clean: {report.scan.get("clean")}),
seal and certificate {certificate:.0f} s. `audit verify` afterwards: {"passes" if chain.ok else "FAILS"}
({chain.checked:,} events, {verify_seconds:.0f} s).

| step (table) | rows | time |
| --- | ---: | ---: |
{rows}
"""
    write_section("purge", body)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
