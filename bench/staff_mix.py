"""The staff's requests of the load run, one at a time in one process: CPU per action.

`python -m bench staff_mix [--runs=N] [--tag=NAME] [--users=load]` on PostgreSQL (database `mdg_bench_staff`,
created, migrated and seeded with the demo when missing; DATABASE_URL overrides, e.g. the
cluster's primary with its million households). REDIS_URL defaults to the local Redis (db 5):
the allowlist is read from the cache on every staff request, as in the cluster.

Each round replays every staff action of `bench/load/locustfile.py` through Django's test
client (the settings' whole middleware: session, user and TOTP device, allowlist, CSRF checked,
audit event, CSP) as the demo's operator, ward staff and supervisor: identify page and search
(htmx), a household's cases, the case form and its POST (one in five escalated), the saved
case's page and a note, the case list; the ward's queue, a case from it and its answer; the
supervisor's home page and list. Before each request the connections are checked as a
request's start does in gunicorn (`close_old_connections`: the health check's `SELECT 1`).

Per action: CPU of this process (`time.process_time`), CPU of the PostgreSQL backend serving
it (`/proc/<pid>/schedstat`, nanoseconds; `/proc/<pid>/stat` counts 10 ms ticks, too coarse for
one request: its total over the run is printed beside it), queries, wall p50/p95. The mix line
weights the actions as the locust tasks do (300 operators, 10 ward staff, 5 supervisors).
"""

from __future__ import annotations

import os
import random
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DB_NAME = "mdg_bench_staff"
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
IDEMPOTENCY = re.compile(r'name="idempotency_key" value="([^"]*)"')
CASE_LINK = re.compile(r'href="/cases/([0-9a-f-]{36})/"')
ANSWER_VERSION = re.compile(r'id="answer-form".*?name="version" value="(\d+)"', re.S)
# Requests per second of each action in the load run (locustfile: users / 10 s × task weight
# ÷ the operator's 11 task weights; the ward's task and the supervisor's are one each).
OPERATOR_ACTIONS = 300 / 10 / 11
MIX: dict[str, float] = {
    "identify page": 3 * OPERATOR_ACTIONS,
    "identify search": 3 * OPERATOR_ACTIONS,
    "household cases": 3 * OPERATOR_ACTIONS,
    "case form": 2 * OPERATOR_ACTIONS,
    "case save": 2 * OPERATOR_ACTIONS,
    "case page": 2 * OPERATOR_ACTIONS,
    "case note": 2 * OPERATOR_ACTIONS,
    "case list": 1 * OPERATOR_ACTIONS,
    "ward queue": 10 / 10,
    "case page (ward)": 10 / 10,
    "ward answer": 10 / 10,
    "home (dashboard)": 5 / 10,
    "case list (supervisor)": 5 / 10,
}
TICK_NS = 1e9 / os.sysconf("SC_CLK_TCK")


@dataclass
class Figures:
    cpu: list[float] = field(default_factory=list)
    pg: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    queries: set[int] = field(default_factory=set)
    statuses: set[int] = field(default_factory=set)
    pg_ticks: float = 0.0


def _setup_django() -> None:
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/5")
    os.environ.setdefault("MADOGUCHI_DEMO", "1")
    from bench import cases as case_bench

    case_bench._setup_django(DB_NAME)


def _world() -> Any:
    from django.core.management import call_command

    from madoguchi.demo.services import DEMO_PROGRAM_CODE
    from madoguchi.programs.models import Program

    if "programs_program" not in _tables() or not Program.objects.filter(code=DEMO_PROGRAM_CODE).exists():
        call_command("migrate", verbosity=0)
        call_command("seed_demo", targets=2000, verbosity=0)
        call_command("identify_reindex", stale=True, verbosity=0)
        from django.db import connection

        # Development servers run without autovacuum: without statistics the planner joins
        # the profiles to the households by a nested loop over the whole list.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return Program.objects.get(code=DEMO_PROGRAM_CODE)


def _tables() -> list[str]:
    from django.db import connection

    return connection.introspection.table_names()


def _escalated(program: Any, wanted: int, household: str) -> None:
    """Enough cases waiting for the ward that its queue never runs dry during the run (the
    demo's history has a few; the load run's data has tens of thousands)."""
    from madoguchi.accounts.models import User
    from madoguchi.cases import services
    from madoguchi.cases.models import Case, Status
    from madoguchi.registry.models import Household

    have = Case.objects.filter(program=program, status=Status.ESCALATED).count()
    operator = User.objects.get(username="operator")
    for _ in range(max(0, wanted - have)):
        case = services.create_case(
            program=program,
            channel="phone",
            actor=operator,
            inquiry="ベンチマーク: 区への確認",
            household=Household.objects.get(public_id=household),
        )
        services.escalate(
            case=case, actor=operator, question="確認してください。", expected_version=case.version
        )


def _households(program: Any, count: int = 400) -> list[dict[str, str]]:
    """Callers drawn from the whole list, as bench/load/users.py draws them."""
    from django.db.models import Max, Min

    from madoguchi.registry.models import Guardian, Household

    ids = Household.objects.filter(program=program).aggregate(low=Min("pk"), high=Max("pk"))
    rng = random.Random(15)
    picks = [rng.randint(ids["low"], ids["high"]) for _ in range(count * 2)]
    sample = Guardian.objects.filter(household__program=program, household_id__in=picks).exclude(phone="")
    return [
        {"kana": kana, "phone": phone, "household": str(public_id)}
        for kana, phone, public_id in sample.values_list("kana", "phone", "household__public_id")[:count]
    ]


class Backend:
    """CPU of the PostgreSQL backend behind Django's default connection."""

    def __init__(self) -> None:
        from django.db import connection

        self.connection = connection

    def pid(self) -> int:
        self.connection.ensure_connection()
        return int(self.connection.connection.info.backend_pid)

    @staticmethod
    def read(pid: int) -> tuple[int, int]:
        """(on-CPU nanoseconds from schedstat, utime + stime in ticks from stat)."""
        ns = int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return ns, int(stat[11]) + int(stat[12])


class Mix:
    """The clients, the callers and what the earlier steps left (saved cases, the queue)."""

    def __init__(self, program: Any, households: list[dict[str, str]], usernames: dict[str, str]) -> None:
        from django.test import Client

        from madoguchi.accounts.models import User
        from madoguchi.accounts.testing import login

        self.program = program.code
        self.households = households
        self.rng = random.Random(7)
        self.clients = {}
        for role, username in usernames.items():
            client = Client(REMOTE_ADDR="127.0.0.1", enforce_csrf_checks=True)
            login(client, User.objects.get(username=username))
            self.clients[role] = client
        self.saved: list[str] = []
        self.saves = 0
        self.page_text = ""
        self.queue_ids: list[str] = []
        self.ward_case = ""
        self.identify_text = ""
        self.form_text = ""

    def household(self) -> dict[str, str]:
        return self.rng.choice(self.households)

    # Each step: (name, role, callable making the request). Steps that depend on an earlier one
    # return None when there is nothing to do (as the locust tasks return).
    def steps(self) -> list[tuple[str, str, Any]]:
        return [
            ("identify page", "operator", self.identify_page),
            ("identify search", "operator", self.identify_search),
            ("household cases", "operator", self.household_cases),
            ("case form", "operator", self.case_form),
            ("case save", "operator", self.case_save),
            ("case page", "operator", self.case_page),
            ("case note", "operator", self.case_note),
            ("case list", "operator", lambda c: c.get("/cases/")),
            ("ward queue", "ward", self.ward_queue),
            ("case page (ward)", "ward", self.ward_page),
            ("ward answer", "ward", self.ward_answer),
            ("home (dashboard)", "supervisor", lambda c: c.get("/")),
            ("case list (supervisor)", "supervisor", lambda c: c.get("/cases/")),
        ]

    def identify_page(self, client: Any) -> Any:
        response = client.get("/identify/")
        self.identify_text = response.content.decode()
        return response

    def identify_search(self, client: Any) -> Any:
        who = self.household()
        return client.post(
            "/identify/search/",
            {
                "csrfmiddlewaretoken": _csrf(self.identify_text),
                "program": self.program,
                "guardian_kana": who["kana"],
                "phone": who["phone"],
            },
            HTTP_HX_REQUEST="true",
        )

    def household_cases(self, client: Any) -> Any:
        return client.get(f"/cases/households/{self.household()['household']}/cases/")

    def case_form(self, client: Any) -> Any:
        response = client.get(f"/cases/new/{self.program}/")
        self.form_text = response.content.decode()
        return response

    def case_save(self, client: Any) -> Any:
        self.saves += 1
        then = "escalate" if self.saves % 5 == 0 else "in_progress"
        key = IDEMPOTENCY.search(self.form_text)
        response = client.post(
            f"/cases/new/{self.program}/",
            {
                "csrfmiddlewaretoken": _csrf(self.form_text),
                "idempotency_key": key.group(1) if key else "",
                "household": self.household()["household"],
                "channel": "phone",
                "caller_relation": "guardian",
                "inquiry": "負荷試験: 申請の状況についての問い合わせ",
                "response": "状況を説明しました。",
                "priority": "normal",
                "then": then,
                "question": "申請書の受付状況を確認してください。" if then == "escalate" else "",
            },
        )
        location = response.get("Location", "")
        if response.status_code == 302 and "/cases/" in location:
            self.saved = [*self.saved[-9:], location.rstrip("/").split("/")[-1]]
        return response

    def case_page(self, client: Any) -> Any:
        if not self.saved:
            return None
        response = client.get(f"/cases/{self.rng.choice(self.saved)}/")
        self.page_text = response.content.decode()
        self.page_case = response.request["PATH_INFO"].rstrip("/").split("/")[-1]
        return response

    def case_note(self, client: Any) -> Any:
        if not self.page_text:
            return None
        return client.post(
            f"/cases/{self.page_case}/note/",
            {
                "csrfmiddlewaretoken": _csrf(self.page_text),
                "body": "折り返しの電話で追加の説明をしました。",
                "kind": "call_note",
            },
        )

    def ward_queue(self, client: Any) -> Any:
        response = client.get("/cases/queue/escalated/")
        self.queue_ids = CASE_LINK.findall(response.content.decode())
        return response

    def ward_page(self, client: Any) -> Any:
        self.ward_case = ""
        if not self.queue_ids:
            return None
        self.ward_case = self.rng.choice(self.queue_ids[:20])
        response = client.get(f"/cases/{self.ward_case}/")
        self.ward_text = response.content.decode()
        return response

    def ward_answer(self, client: Any) -> Any:
        if not self.ward_case:
            return None
        version = ANSWER_VERSION.search(self.ward_text)
        if not version:
            return None
        return client.post(
            f"/cases/{self.ward_case}/answer/",
            {
                "csrfmiddlewaretoken": _csrf(self.ward_text),
                "version": version.group(1),
                "body": "受付済みです。審査中とお伝えください。",
            },
        )


def _csrf(text: str) -> str:
    match = CSRF_INPUT.search(text)
    if not match:
        raise SystemExit("no CSRF token on the page")
    return match.group(1)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def run(mix: Mix, rounds: int, figures: dict[str, Figures] | None) -> None:
    from django.db import close_old_connections, connection

    backend = Backend()
    count = [0]

    def counter(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        count[0] += 1
        return execute(sql, params, many, context)

    for _ in range(rounds):
        for name, role, step in mix.steps():
            client = mix.clients[role]
            pid = backend.pid()
            ns_before, ticks_before = backend.read(pid)
            count[0] = 0
            with connection.execute_wrapper(counter):
                started, cpu_started = time.perf_counter(), time.process_time()
                close_old_connections()
                response = step(client)
                cpu = time.process_time() - cpu_started
                wall = time.perf_counter() - started
            if response is None:
                continue
            if backend.pid() != pid:
                raise SystemExit("the database connection changed during a request")
            ns_after, ticks_after = backend.read(pid)
            if response.status_code >= 400:
                raise SystemExit(f"{name}: HTTP {response.status_code}")
            if figures is None:
                continue
            row = figures.setdefault(name, Figures())
            row.cpu.append(cpu * 1000)
            row.wall.append(wall * 1000)
            row.pg.append((ns_after - ns_before) / 1e6)
            row.pg_ticks += (ticks_after - ticks_before) * TICK_NS / 1e6
            row.queries.add(count[0])
            row.statuses.add(response.status_code)


def _span(values: set[int]) -> str:
    return str(min(values)) if len(values) == 1 else f"{min(values)}–{max(values)}"


def main(argv: list[str]) -> None:
    options = dict(arg.lstrip("-").split("=", 1) if "=" in arg else (arg.lstrip("-"), "1") for arg in argv)
    rounds = int(options.get("runs", 40))
    tag = options.get("tag", "")
    _setup_django()
    from django.conf import settings
    from django.db import connection

    settings.ALLOWED_HOSTS = ["testserver"]
    # gunicorn keeps its connections (CONN_MAX_AGE); kept here for the whole run, so that one
    # backend serves every request and its CPU can be read.
    connection.settings_dict["CONN_MAX_AGE"] = None
    from madoguchi.accounts.testing import allow_loopback
    from madoguchi.cases.models import Case

    program = _world()
    for organisation in {program.ward, program.contractor}:
        if organisation is not None:
            allow_loopback(organisation)
    households = _households(program)
    _escalated(program, rounds + 25, households[0]["household"])
    # The demo's operator and ward staff work on two programs (2022 and 2023), the load run's
    # accounts on one: `--users=load` replays the mix as load-op-001, load-ward-01, load-sv-01.
    usernames = {"operator": "operator", "ward": "ward", "supervisor": "supervisor"}
    if options.get("users") == "load":
        usernames = {"operator": "load-op-001", "ward": "load-ward-01", "supervisor": "load-sv-01"}
    mix = Mix(program, households, usernames)
    cases = Case.objects.filter(program=program).count()
    run(mix, 2, None)  # warm-up: templates compiled, caches filled
    figures: dict[str, Figures] = {}
    load_before = os.getloadavg()
    started = time.perf_counter()
    run(mix, rounds, figures)
    elapsed = time.perf_counter() - started
    load_after = os.getloadavg()

    rows = []
    weighted = {"cpu": 0.0, "pg": 0.0, "weight": 0.0}
    for name, row in figures.items():
        cpu, pg = statistics.mean(row.cpu), statistics.mean(row.pg)
        weighted["cpu"] += MIX[name] * cpu
        weighted["pg"] += MIX[name] * pg
        weighted["weight"] += MIX[name]
        rows.append(
            f"| {name} | {len(row.cpu)} | {cpu:.1f} | {statistics.median(row.cpu):.1f} | {pg:.1f} "
            f"| {row.pg_ticks / len(row.cpu):.1f} | {cpu + pg:.1f} | {_span(row.queries)} "
            f"| {statistics.median(row.wall):.1f} | {_p95(row.wall):.1f} | {_span(row.statuses)} |"
        )
        print(
            f"{name:24s} app {cpu:6.1f} ms (median {statistics.median(row.cpu):5.1f})  "
            f"pg {pg:5.1f} ms (ticks {row.pg_ticks / len(row.cpu):5.1f})  queries {_span(row.queries):>6}  "
            f"wall p50 {statistics.median(row.wall):6.1f} p95 {_p95(row.wall):6.1f}",
            flush=True,
        )
    mix_cpu = weighted["cpu"] / weighted["weight"]
    mix_pg = weighted["pg"] / weighted["weight"]
    print(f"{'staff mix (weighted)':24s} app {mix_cpu:6.1f} ms  pg {mix_pg:5.1f} ms", flush=True)
    database = os.environ["DATABASE_URL"].rsplit("@", 1)[-1]
    who = ", ".join(usernames.values())
    users = " --users=load" if options.get("users") == "load" else ""
    header = (
        "| action | requests | app CPU ms (mean) | app CPU ms (median) | PostgreSQL CPU ms (mean) "
        "| PostgreSQL, 10 ms ticks (mean) | app + PG ms | queries | wall p50 ms | wall p95 ms | HTTP |"
    )
    total = (
        f"| **staff mix, weighted as the load run** | | **{mix_cpu:.1f}** | | **{mix_pg:.1f}** | "
        f"| **{mix_cpu + mix_pg:.1f}** | | | | |"
    )
    body = f"""
`make bench BENCH="staff_mix --runs={rounds}{f" --tag={tag}" if tag else ""}{users}"` with
`DATABASE_URL=postgres://…@{database}`, {cases:,} cases in the demo program; Redis cache
(`{os.environ["REDIS_URL"].rsplit("@", 1)[-1]}`), as {who}. {rounds} rounds of the staff's actions of
the load run through Django's test client, after two rounds of warm-up, in {elapsed:.0f} s. Load average
(1, 5, 15 minutes) {" / ".join(f"{v:.1f}" for v in load_before)} before and
{" / ".join(f"{v:.1f}" for v in load_after)} after, on {os.cpu_count()} cores.

{header}
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
{chr(10).join(rows)}
{total}

The weights are the locust tasks' rates (300 operators, 10 ward staff and 5 supervisors, one
action every 10 s each): identify page, search and household cases 8.2/s each, case form, save,
page and note 5.5/s each, list 2.7/s, the ward's three 1/s each, the supervisor's two 0.5/s.
"""
    from bench.report import write_section

    write_section("staff_mix" + (f"-{tag}" if tag else ""), body)
    print("written to docs/benchmarks.md", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
