"""Case search on SQLite with 100,000 cases: a rare, a medium and a common word.

`python -m bench cases_sqlite [--cases=N] [--runs=N] [--reload]` on the SQLite file
`var/bench_cases.sqlite3` (DATABASE_URL overrides; it must name a SQLite file). The cases carry
the same texts as `bench.cases` (PostgreSQL) and are kept between runs. Loading goes around
the index's triggers (their SQL cuts the bigrams one character at a time: minutes for 100,000
cases): the cases are inserted without them, the index is filled from `piece_tokens` (the
Python twin of the triggers' SQL, tested equal in test_sqlite_search) and the triggers are
created again.

Two things are measured: the server time of the case list with a saved search through the
real view (Django's test client, p50/p95 after one warm-up, as `bench.cases`), and the list's
statement alone in each of its forms (`sqlite_search`), from which the cost per hit and per
walked row of the crossover rule are read.
"""

from __future__ import annotations

import datetime
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from bench.cases import NOTES, PHRASES, RARE_EVERY, RARE_WORD

# The SQL here is built from this module's constants, never from input.
# ruff: noqa: S608

ROOT = Path(__file__).resolve().parent.parent
DB_PATH = ROOT / "var" / "bench_cases.sqlite3"
# A medium word: one pair of phrases (1 case in 400).
MEDIUM_WORD = "申請期限はいつまでか。上の子"


def _setup_django() -> None:
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{DB_PATH}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
    DB_PATH.parent.mkdir(parents=True, exist_ok=True)
    import django

    django.setup()


def texts(i: int) -> tuple[str, str, str]:
    """Inquiry, response and search_text of case i, as `bench.cases` writes them in SQL."""
    n_phr, n_notes = len(PHRASES), len(NOTES)
    inquiry = PHRASES[i % n_phr] + "。" + PHRASES[(i // n_phr) % n_phr]
    if i % RARE_EVERY == 0:
        inquiry += "。" + RARE_WORD
    response = NOTES[i % n_notes]
    timeline = "\n".join(NOTES[(i * 7 + n * 3) % n_notes] for n in range(1, 6))
    return inquiry, response, f"{inquiry}\n{response}\n{timeline}".lower()


def load(program: Any, operator: Any, total: int, *, reload: bool) -> None:
    from django.db import connection, transaction

    from madoguchi.cases import sqlite_search
    from madoguchi.cases.models import Case, Category

    have = Case.objects.count()
    if have >= total and not reload:
        print(f"data present: {have:,} cases", flush=True)
        return
    started = time.perf_counter()
    categories = list(Category.objects.filter(program=program).values_list("id", flat=True))
    statuses = ["closed"] * 80 + ["in_progress"] * 8 + ["callback"] * 4 + ["escalated"] * 3 + ["new"] * 5
    channels = ["phone", "phone", "phone", "form", "email", "counter"]
    now = datetime.datetime.now(datetime.UTC)
    with transaction.atomic(), connection.cursor() as cursor:
        for trigger in sqlite_search.TRIGGERS:
            cursor.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        cursor.execute("DELETE FROM cases_timelineentry")
        cursor.execute("DELETE FROM cases_notification")
        cursor.execute("DELETE FROM cases_case")
        cursor.execute(f"INSERT INTO {sqlite_search.TABLE}({sqlite_search.TABLE}) VALUES ('delete-all')")
        batch: list[Case] = []
        for i in range(1, total + 1):
            inquiry, response, search_text = texts(i)
            status = statuses[i % 100]
            received = now - datetime.timedelta(seconds=20 * (total - i))
            escalated = received if status == "escalated" else None
            batch.append(
                Case(
                    public_id=uuid.uuid4(),
                    program=program,
                    receipt_number=f"{program.receipt_prefix}-{i:06d}",
                    channel=channels[i % 6],
                    received_at=received,
                    caller_relation="guardian",
                    caller_name="試験 花子",
                    caller_kana="シケン ハナコ",
                    contact_phone="090-0000-0000",
                    verification="verified",
                    category_id=categories[i % len(categories)],
                    inquiry=inquiry,
                    response=response,
                    status=status,
                    escalated_at=escalated,
                    ward_due_on=(received.date() + datetime.timedelta(days=2)) if escalated else None,
                    created_by=operator,
                    search_text=search_text,
                )
            )
            if len(batch) == 5000:
                Case.objects.bulk_create(batch)
                batch = []
        Case.objects.bulk_create(batch)
        print(f"cases inserted in {time.perf_counter() - started:.0f} s", flush=True)
        cursor.execute("SELECT id, search_text FROM cases_case")
        rows = [(pk, " ".join(sqlite_search.piece_tokens(text))) for pk, text in cursor.fetchall()]
        cursor.executemany(f"INSERT INTO {sqlite_search.TABLE}(rowid, grams) VALUES (%s, %s)", rows)
        cursor.execute(f"INSERT INTO {sqlite_search.TABLE}({sqlite_search.TABLE}) VALUES ('optimize')")
        sqlite_search.create_triggers(connection)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"loaded {total:,} cases in {time.perf_counter() - started:.0f} s", flush=True)


def timed(run: Any, runs: int) -> tuple[float, float, float]:
    """p50 and p95 wall time and the median CPU time of this process, in ms. SQLite runs in
    this process, so the CPU time is the whole cost of a request, whatever else the machine
    is doing; the wall times include waiting for a core."""
    run()
    times, cpu = [], []
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        run()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, round(0.95 * len(times)) - 1)], statistics.median(cpu)


def main(argv: list[str]) -> None:
    options = dict(arg.lstrip("-").split("=", 1) if "=" in arg else (arg.lstrip("-"), "1") for arg in argv)
    total = int(options.get("cases", 100_000))
    runs = int(options.get("runs", 20))
    _setup_django()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "sqlite":
        raise SystemExit("DATABASE_URL must name a SQLite file")
    settings.ALLOWED_HOSTS = ["testserver"]
    call_command("migrate", verbosity=0)
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.cases import _world, saved_search
    from madoguchi.accounts.testing import login
    from madoguchi.cases import selectors, sqlite_search
    from madoguchi.cases.models import Case
    from madoguchi.cases.services import search_key

    program, operator, _ward = _world()
    load(program, operator, total, reload="reload" in options)
    n_cases = Case.objects.count()
    client = Client(REMOTE_ADDR="127.0.0.1")
    login(client, operator)
    words = [
        ("rare", RARE_WORD),
        ("medium", MEDIUM_WORD),
        ("medium", "型番"),
        ("common", "配送"),
        ("common", "確認"),
        ("none", "該当なしの語句"),
    ]
    rows = []
    forms = []
    base = selectors.cases_for(operator)
    table_rows = sqlite_search.table_size(connection)
    for kind, word in words:
        key = search_key(word)
        match = sqlite_search.match_expression(key)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*) FROM {sqlite_search.TABLE} WHERE {sqlite_search.TABLE} MATCH %s", [match]
            )
            hits = cursor.fetchone()[0]
        url = saved_search(client, word)
        client.get(url)
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        queries = len(captured)  # now: the next request clears the log
        p50, p95, cpu = timed(lambda url=url: client.get(url), runs)
        chosen = sqlite_search.choose_form(connection, key, selectors.PAGE_SIZE + 1)
        estimate = sqlite_search.costs(
            hits=min(hits, sqlite_search.HIT_CAP),
            tokens=sqlite_search.tokens(key),
            wanted=selectors.PAGE_SIZE + 1,
            table_rows=table_rows,
        )
        rows.append((kind, word, hits, p50, p95, cpu, queries, chosen))
        print(
            f"{kind:7s} {word:20s} {hits:7,} hits  list p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  "
            f"CPU {cpu:6.1f} ms  {queries} queries  form {chosen}",
            flush=True,
        )
        # The list's statement alone, in each form.
        for form in sqlite_search.FORMS:
            if estimate[form] > 100 * max(estimate[chosen], 1):
                # A probe of every row for a rare phrase: seconds per run, not worth the lock.
                forms.append((word, hits, form, float("nan"), float("nan")))
                print(f"        form {form:8s} not run (estimated {estimate[form]:,.0f} units)", flush=True)
                continue

            def run(form: str = form, word: str = word) -> None:
                listed = selectors.text_search(base, word, form=form)
                list(listed.defer("search_text").order_by("-received_at", "-id")[:51])

            f50, _f95, fcpu = timed(run, max(3, runs // 4))
            forms.append((word, hits, form, f50, fcpu))
            print(f"        form {form:8s} {f50:7.1f} ms  CPU {fcpu:7.1f} ms", flush=True)

    load_average = os.getloadavg()
    table = "\n".join(
        f"| {kind} | 「{word}」 | {hits:,} ({hits / n_cases:.1%}) | {p50:.1f} | {p95:.1f} | {cpu:.1f} "
        f"| {queries} | {form} |"
        for kind, word, hits, p50, p95, cpu, queries, form in rows
    )
    form_table = "\n".join(
        f"| 「{word}」 | {hits:,} | {form} | {f50:.1f} | {fcpu:.1f} |"
        for word, hits, form, f50, fcpu in forms
    )
    body = f"""
Data: {n_cases:,} cases in one program on SQLite (`{os.environ["DATABASE_URL"]}`), the texts of
`bench.cases`. Server time of the case list with a saved text search through the real view
(Django's test client, logged in as the operator), {runs} requests per row after one warm-up;
the request includes its audit event and the navigation badges. SQLite runs inside the Django
process, so "CPU ms" is the request's whole cost without the waits for a core. Load average
{load_average[0]:.1f} / {load_average[1]:.1f} on {os.cpu_count()} cores during the run.

| word | text | cases containing it | p50 ms | p95 ms | CPU ms (median) | queries | form chosen |
| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |
{table}

The list's statement alone (first 51 rows, newest first), in each form of `sqlite_search`
(`in`: the index's hits are fetched and sorted; `walk`: the list's index is walked and each
row looked up in the hits, gathered once; `probe`: the list's index is walked with a phrase
query per row), median of {max(3, runs // 4)} runs; "nan": not run, its estimated cost is over
100 times the chosen plan's (a probe of every one of the {table_rows:,} rows for a rare phrase).
The unit costs of `sqlite_search.costs` are read from this table (docs/notes.md).

| text | hits | form | ms (wall, median) | CPU ms (median) |
| --- | ---: | --- | ---: | ---: |
{form_table}
"""
    from bench.report import write_section

    write_section("cases_sqlite", body)
    print("written to docs/benchmarks.md", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
