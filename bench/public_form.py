"""Public inquiry form throughput: residents submitting through gunicorn on PostgreSQL.

    .venv/bin/python -m bench public_form [--seconds=60] [--clients=24] [--max=20000]
                                           [--workers=2] [--threads=4] [--warmup=5]

Each submission is what a resident's browser does: GET the form (CSRF cookie and token),
POST it (302 to the confirmation), GET the confirmation (the idempotency token), POST the
confirmation (302 to the completion page). Every simulated resident has its own cookies.
The load generator runs on loopback only (127.0.0.1) with a bounded number of submissions
and a time limit. Afterwards the cases in the database are counted: they must equal the
submissions acknowledged (no loss, no duplicate), and no request may fail.

Database `mdg_bench_public` (dropped and recreated), Redis db 3 for the rate-limit cache
(with the limit raised for the run), mail to the dummy backend.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "mdg_bench_public"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
REDIS_URL = "redis://127.0.0.1:6379/3"
PROGRAM_CODE = "bench-public"
HOST = "127.0.0.1"

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TOKEN_INPUT = re.compile(r'name="token" value="([^"]+)"')
STEPS = ("get_form", "post_form", "get_confirm", "post_send")


def options(argv: list[str]) -> dict[str, int]:
    values = {"seconds": 60, "clients": 24, "max": 20000, "workers": 2, "threads": 4, "warmup": 5}
    for arg in argv:
        name, _, value = arg.lstrip("-").partition("=")
        if name not in values:
            raise SystemExit(f"unknown option --{name}; known: {', '.join(values)}")
        values[name] = int(value)
    return values


def server_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": DATABASE_URL,
            "REDIS_URL": REDIS_URL,
            "PUBLIC_FORM_RATE_LIMIT": "100000000",
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "LOG_LEVEL": "WARNING",
            "MADOGUCHI_ENV": "development",
            "DEBUG": "false",
        }
    )
    return env


def prepare_database() -> None:
    """Recreate the benchmark database, migrate it and add one open program with categories."""
    subprocess.run(
        ["psql", "-h", HOST, "-U", "postgres", "-q", "-c", f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)"],
        check=True,
    )
    subprocess.run(
        ["psql", "-h", HOST, "-U", "postgres", "-q", "-c", f"CREATE DATABASE {DB_NAME}"], check=True
    )
    env = server_env()
    madoguchi = str(ROOT / ".venv" / "bin" / "madoguchi")
    subprocess.run([madoguchi, "migrate", "--noinput", "-v", "0"], check=True, env=env, cwd=ROOT)
    script = f"""
import datetime
from django.utils import timezone
from madoguchi.accounts.models import Organisation
from madoguchi.cases.models import Category
from madoguchi.programs.models import Program
today = timezone.localdate()
ward = Organisation.objects.create(code="bench-ward", name="ベンチ区", kind=Organisation.Kind.WARD)
contractor = Organisation.objects.create(
    code="bench-co", name="ベンチ委託先", kind=Organisation.Kind.CONTRACTOR
)
program = Program.objects.create(
    code="{PROGRAM_CODE}", name="ベンチ支援事業", ward=ward, contractor=contractor,
    recording_start=today - datetime.timedelta(days=10), recording_end=today + datetime.timedelta(days=10),
    child_dob_from=datetime.date(2015, 4, 2), child_dob_to=datetime.date(2024, 4, 1), receipt_prefix="BP",
)
for order, name in enumerate(["申請について", "支給日について", "その他"]):
    Category.objects.create(program=program, name=name, order=order)
"""
    subprocess.run([madoguchi, "shell", "-c", script], check=True, env=env, cwd=ROOT)
    subprocess.run(["redis-cli", "-h", HOST, "-n", "3", "FLUSHDB"], check=True, stdout=subprocess.DEVNULL)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def start_server(port: int, workers: int, threads: int) -> subprocess.Popen[bytes]:
    gunicorn = str(ROOT / ".venv" / "bin" / "gunicorn")
    process = subprocess.Popen(
        [
            gunicorn,
            "madoguchi.wsgi",
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--worker-class",
            "gthread",
            "--log-level",
            "warning",
        ],
        env=server_env(),
        cwd=ROOT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise SystemExit("gunicorn did not answer /healthz within 30 s")


@dataclass
class Tally:
    acknowledged: int = 0
    errors: list[str] = field(default_factory=list)
    latencies: dict[str, list[float]] = field(default_factory=lambda: {step: [] for step in STEPS})
    submissions: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Resident:
    """One browser: its own cookies, one keep-alive connection."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connection = http.client.HTTPConnection(HOST, port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict[str, str] | None = None) -> tuple[int, str, str]:
        headers = {"Host": f"{HOST}:{self.port}", "User-Agent": "madoguchi-bench"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.connection.request(method, path, body=data, headers=headers)
            response = self.connection.getresponse()
        except (http.client.HTTPException, OSError):
            # A dropped keep-alive connection: reconnect once.
            self.connection.close()
            self.connection = http.client.HTTPConnection(HOST, self.port, timeout=30)
            self.connection.request(method, path, body=data, headers=headers)
            response = self.connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, response.getheader("Location") or "", text

    def submit(self, number: int, tally: Tally) -> bool:
        self.cookies = {}
        form_path = f"/inquiry/{PROGRAM_CODE}/"
        timings: dict[str, float] = {}

        started = time.perf_counter()
        status, _, page = self.request("GET", form_path)
        timings["get_form"] = time.perf_counter() - started
        match = CSRF_INPUT.search(page)
        if status != 200 or not match:
            raise RuntimeError(f"GET form: {status}")
        csrf = match.group(1)

        data = {
            "csrfmiddlewaretoken": csrf,
            "guardian_name": f"試験 花子{number % 97}",
            "guardian_kana": "しけん はなこ",
            "child_name": "試験 太郎",
            "child_dob": "令和2年5月3日" if number % 2 else "2020-05-03",
            "phone": "090-1234-5678",
            "email": "bench@example.jp" if number % 3 == 0 else "",
            "category": "",
            "message": f"ベンチマークのお問い合わせ {number}",
            "consent": "on",
            "website": "",
        }
        started = time.perf_counter()
        status, location, _ = self.request("POST", form_path, data)
        timings["post_form"] = time.perf_counter() - started
        if status != 302 or not location.endswith("/confirm/"):
            raise RuntimeError(f"POST form: {status}")

        started = time.perf_counter()
        status, _, page = self.request("GET", location)
        timings["get_confirm"] = time.perf_counter() - started
        token = TOKEN_INPUT.search(page)
        csrf_match = CSRF_INPUT.search(page)
        if status != 200 or not token or not csrf_match:
            raise RuntimeError(f"GET confirm: {status}")

        started = time.perf_counter()
        status, location, _ = self.request(
            "POST",
            f"/inquiry/{PROGRAM_CODE}/send/",
            {"csrfmiddlewaretoken": csrf_match.group(1), "token": token.group(1)},
        )
        timings["post_send"] = time.perf_counter() - started
        if status != 302 or "/done/" not in location:
            raise RuntimeError(f"POST send: {status}")
        with tally.lock:
            for step, seconds in timings.items():
                tally.latencies[step].append(seconds)
        return True


def run_load(port: int, *, clients: int, seconds: float, limit: int, tally: Tally | None) -> Tally:
    tally = tally or Tally()
    deadline = time.monotonic() + seconds
    counter = iter(range(limit))
    counter_lock = threading.Lock()

    def worker() -> None:
        resident = Resident(port)
        while time.monotonic() < deadline:
            with counter_lock:
                number = next(counter, None)
            if number is None:
                return
            try:
                resident.submit(number, tally)
            except Exception as error:
                with tally.lock:
                    tally.errors.append(f"{type(error).__name__}: {error}")
                continue
            with tally.lock:
                tally.acknowledged += 1
                tally.submissions.append(time.monotonic())

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally


def count_cases() -> tuple[int, int]:
    query = (
        "SELECT count(*), count(DISTINCT idempotency_key) FROM cases_case c "
        "JOIN programs_program p ON p.id = c.program_id WHERE p.code = :'code'"
    )
    out = subprocess.run(
        ["psql", "-h", HOST, "-U", "postgres", "-d", DB_NAME, "-At", "-F", " ", "-v", f"code={PROGRAM_CODE}"],
        input=query,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return int(out[0]), int(out[1])


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User+system CPU seconds of each process (all its threads), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    seconds: dict[int, float] = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return seconds


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    # A process that appeared during the run counts from zero; one that ended is not counted.
    return sum(max(0.0, value - before.get(pid, 0.0)) for pid, value in after.items())


def postgres_pids() -> list[int]:
    """The server processes serving the benchmark database (the app keeps its connections)."""
    out = subprocess.run(
        ["psql", "-h", HOST, "-U", "postgres", "-At", "-v", f"db={DB_NAME}"],
        input="SELECT pid FROM pg_stat_activity WHERE datname = :'db' AND pid <> pg_backend_pid()",
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [int(pid) for pid in out.split()]


def redis_pid() -> int | None:
    """The Redis server's process (sessions and rate limits live there during the run)."""
    out = subprocess.run(
        ["redis-cli", "-h", HOST, "INFO", "server"], capture_output=True, text=True, check=False
    ).stdout
    match = re.search(r"^process_id:(\d+)", out, re.M)
    return int(match.group(1)) if match else None


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def ms(values: list[float], q: float) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000:.0f}"


def main(argv: list[str]) -> None:
    opts = options(argv)
    for tool in ("psql", "redis-cli"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is needed for this benchmark")
    print(f"preparing {DB_NAME} ...", flush=True)
    prepare_database()
    port = free_port()
    server = start_server(port, opts["workers"], opts["threads"])
    try:
        workers = children(server.pid)
        print(f"gunicorn on {HOST}:{port}, {opts['workers']} workers x {opts['threads']} threads", flush=True)
        if opts["warmup"]:
            warm = run_load(
                port, clients=opts["clients"], seconds=opts["warmup"], limit=opts["max"], tally=None
            )
            print(f"warm-up: {warm.acknowledged} submissions, {len(warm.errors)} errors", flush=True)
            warmed = warm.acknowledged
            warm_errors = len(warm.errors)
        else:
            warmed = warm_errors = 0
        app_pids = [server.pid, *workers]
        pg_pids = postgres_pids()
        redis_pids = [pid for pid in [redis_pid()] if pid]
        cpu_app_before, cpu_pg_before = cpu_seconds(app_pids), cpu_seconds(pg_pids)
        cpu_redis_before = cpu_seconds(redis_pids)
        cpu_self_before = time.process_time()
        load_before = os.getloadavg()[0]
        started = time.monotonic()
        tally = run_load(
            port, clients=opts["clients"], seconds=opts["seconds"], limit=opts["max"] - warmed, tally=None
        )
        elapsed = time.monotonic() - started
        cpu_app = cpu_used(cpu_app_before, cpu_seconds(app_pids))
        cpu_pg = cpu_used(cpu_pg_before, cpu_seconds(sorted(set(pg_pids) | set(postgres_pids()))))
        cpu_client = time.process_time() - cpu_self_before
        cpu_redis = cpu_used(cpu_redis_before, cpu_seconds(redis_pids))
        load_after = os.getloadavg()[0]
    finally:
        server.terminate()
        server.wait(timeout=30)

    cases, distinct = count_cases()
    expected = warmed + tally.acknowledged
    rate = tally.acknowledged / elapsed if elapsed else 0.0
    # Throughput per 10-second slice, to show it is sustained and not a burst.
    slices: list[int] = []
    if tally.submissions:
        first = started
        for index in range(int(elapsed // 10) + 1):
            low, high = first + index * 10, first + (index + 1) * 10
            slices.append(sum(1 for moment in tally.submissions if low <= moment < high))
    slice_rates = [n / 10 for n in slices[: int(elapsed // 10)]] or [rate]
    total_cpu = cpu_app + cpu_pg + cpu_redis + cpu_client
    per_submission = total_cpu / tally.acknowledged * 1000 if tally.acknowledged else 0.0
    ok = not tally.errors and not warm_errors and cases == expected and distinct == cases

    lines = [
        f"**{rate:.1f} submissions/s** sustained for {elapsed:.0f} s "
        f"({tally.acknowledged} acknowledged, each = 4 HTTP requests, so {rate * 4:.0f} requests/s), "
        f"{len(tally.errors)} errors; cases in the database after the run: {cases} "
        f"= {expected} acknowledged (warm-up included), {distinct} distinct idempotency keys "
        f"→ {'no loss, no duplicate' if ok else 'MISMATCH OR ERRORS'}.",
        "",
        f"Set-up: gunicorn {opts['workers']} workers × {opts['threads']} threads (gthread), PostgreSQL 15 "
        f"(`{DB_NAME}`), rate-limit counter in Redis db 3 (limit raised for the run), dummy mail "
        f"backend (one in three residents gives an e-mail address), DB sessions, "
        f"{opts['clients']} simulated residents on 127.0.0.1 (Python threads, keep-alive, own cookies), "
        f"{opts['warmup']} s warm-up not counted.",
        "",
        "| per 10 s slice | " + " | ".join(f"{r:.0f}/s" for r in slice_rates) + " |",
        "|---|" + "---|" * len(slice_rates),
        "",
        "| step | p50 ms | p95 ms | p99 ms |",
        "|---|---|---|---|",
    ]
    for step in STEPS:
        values = tally.latencies[step]
        lines.append(f"| {step} | {ms(values, 0.5)} | {ms(values, 0.95)} | {ms(values, 0.99)} |")
    lines += [
        "",
        f"Where the time goes (CPU seconds during the measured run, on {os.cpu_count()} cores shared "
        "by all three; PostgreSQL: the backends of the benchmark database alive at the end): "
        f"Django/gunicorn {cpu_app:.1f} s, PostgreSQL {cpu_pg:.1f} s, Redis {cpu_redis:.1f} s, the load "
        f"generator {cpu_client:.1f} s; {per_submission:.1f} ms of CPU per submission in total "
        f"(a ceiling of {1000 / per_submission * (os.cpu_count() or 1) if per_submission else 0:.0f} "
        "submissions/s if the cores did nothing else).",
        "",
        f"Machine load average (1 min) before/after the run: {load_before:.1f} / {load_after:.1f} "
        f"on {os.cpu_count()} cores (other work on the machine shares them).",
    ]
    if tally.errors:
        lines += ["", "First errors: " + "; ".join(sorted(set(tally.errors))[:5])]
    if statistics.mean(slice_rates) < 100:
        lines += ["", "Below the 100/s target on this machine: see docs/public-form.md (Performance)."]
    body = "\n".join(lines)
    print(body)
    from bench.report import write_section

    write_section("public_form", body)
    if not ok:
        sys.exit(1)
