"""Public inquiry form throughput: residents submitting through gunicorn on PostgreSQL.

    .venv/bin/python -m bench public_form [--seconds=60] [--clients=16] [--max=20000]
                                           [--workers=2] [--threads=1] [--warmup=15]
                                           [--profile=300] [--config=0] [--nginx=0]
                                           [--max_requests=-1] [--accesslog=1]

`--config=1` runs gunicorn with deploy/gunicorn.conf.py as `make cluster` does (logs to files,
the app's logging at INFO, worker recycling; `--max_requests`, `--accesslog` override it) and
`--nginx=1` puts the cluster's nginx in front (deploy/cluster/nginx.conf.in, on a port of
18000-18999): what the load run's residents go through. gunicorn's CPU is its master's, its
workers' and that of the workers it recycled during the run.

Each submission is what a resident's browser does, request by request: GET the form (the
CSRF cookie and token), POST it (200: the confirmation page itself, with its CSRF token and
the idempotency token of the draft just stored), POST the confirmation (200: the receipt page
with the receipt number, shown only after the case is committed). Three requests; until the
tenth session the form's POST was redirected to GET `confirm/`, a fourth (the page a reload,
the back button and the language switch still use). Every simulated resident has its
own cookies and its own keep-alive connection; the load generator is a small HTTP/1.1 client
on raw sockets (the tokens found with a regular expression), so that the CPU it takes from
the two cores stays small next to the server's. It runs on loopback only (127.0.0.1), with a
bounded number of submissions and a time limit.

Afterwards the cases in the database are counted: they must equal the submissions
acknowledged, with distinct idempotency keys, and the receipt numbers the residents saw
must be exactly the database's (no loss, no duplicate); no request may fail.

CPU is measured for every process taking part (gunicorn's, the PostgreSQL backends of the
benchmark database, the Redis server, the load generator) and divided by the submissions:
the figure that does not depend on how busy the shared machine is. Then `--profile`
submissions (300 by default; 0 to skip) run in-process through Django's WSGI handler, which
gives the CPU time and the SQL statements of each of the three requests.

Database `mdg_bench_public` (dropped and recreated), Redis db 3 for the residents' sessions
and the rate-limit counter (with the limit raised for the run), mail to the dummy backend.
Two people running it at once on one machine give each run its own database and Redis db:
`MDG_BENCH_PUBLIC_DB=hf_bench_public MDG_BENCH_PUBLIC_REDIS_DB=5`.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.options import parse_options

ROOT = Path(__file__).resolve().parent.parent
DEPLOY_CONFIG = ROOT / "deploy" / "gunicorn.conf.py"


def write_config_with_worker_hook(path: Path, body: str) -> Path:
    """A gunicorn config at `path`: the deploy's (deploy/gunicorn.conf.py, executed as is) plus
    a `post_worker_init(worker)` hook whose body is `body` (indented here)."""
    deploy = str(DEPLOY_CONFIG)
    hook = "".join(f"    {line}\n" if line else "\n" for line in body.strip("\n").splitlines())
    path.write_text(
        f'exec(compile(open({deploy!r}).read(), {deploy!r}, "exec"))\n\n\n'
        f"def post_worker_init(worker):\n{hook}"
    )
    return path


DB_NAME = os.environ.get("MDG_BENCH_PUBLIC_DB", "mdg_bench_public")
if not re.fullmatch(r"[a-z_][a-z0-9_]*", DB_NAME):
    raise SystemExit(f"MDG_BENCH_PUBLIC_DB={DB_NAME!r}: lower-case letters, digits and _ only")
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
REDIS_DB = int(os.environ.get("MDG_BENCH_PUBLIC_REDIS_DB", "3"))
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"
PROGRAM_CODE = "bench-public"
HOST = "127.0.0.1"
FORM = f"/inquiry/{PROGRAM_CODE}/"
SEND = f"/inquiry/{PROGRAM_CODE}/send/"

CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
TOKEN_INPUT = re.compile(rb'name="token" value="([^"]+)"')
RECEIPT = re.compile(rb'id="receipt-number">([^<]+)<')
# The form's POST is answered with the confirmation (named so that its figures are not taken
# for those of the old redirecting POST, "post_form").
STEPS = ("get_form", "post_form_confirm", "post_send")


def options(argv: list[str]) -> dict[str, int]:
    values = {
        "seconds": 60,
        "clients": 16,
        "max": 20000,
        "workers": 2,
        # One thread per worker: measured against 2, 3 and 4 threads (three alternating runs
        # each), it takes 10-20 % less CPU per submission (no two threads of one process
        # contend for the GIL) and the two workers still overlap each other's database waits.
        "threads": 1,
        # The first ten seconds or so after a fresh database and server run about a fifth
        # slower (measured); a service in production is warm.
        "warmup": 15,
        "profile": 300,
        # --config=1: gunicorn with deploy/gunicorn.conf.py as the cluster runs it (access and
        # error log to files, the app's logging at INFO, max_requests); 0: the bare command line.
        "config": 0,
        # With --config=1: GUNICORN_MAX_REQUESTS (-1: the file's default; 0: never recycle) and
        # the access log (1: to a file, as in the cluster; 0: off).
        "max_requests": -1,
        "accesslog": 1,
        # --nginx=1: the cluster's nginx (deploy/cluster/nginx.conf.in) in front, on a port of
        # 18000-18999; the residents talk to it and it keeps upstream connections alive.
        "nginx": 0,
    }
    values = parse_options(argv, values)
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
    subprocess.run([madoguchi, "shell", "-v", "0", "-c", script], check=True, env=env, cwd=ROOT)
    subprocess.run(
        ["redis-cli", "-h", HOST, "-n", str(REDIS_DB), "FLUSHDB"], check=True, stdout=subprocess.DEVNULL
    )
    # The set-up's writes (a whole migration) go to disk now, not during the measured minute.
    subprocess.run(["psql", "-h", HOST, "-U", "postgres", "-q", "-c", "CHECKPOINT"], check=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def gunicorn_command(
    port: int, workers: int, threads: int, *, config: bool = False, conf: Path | None = None
) -> list[str]:
    # The command line overrides the file's values (bind, workers, worker class, threads).
    conf = conf or ROOT / "deploy" / "gunicorn.conf.py"
    return [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        *(["--config", str(conf)] if config else []),
        "madoguchi.wsgi",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        *(  # --threads=0: the sync worker (no keep-alive)
            ["--worker-class", "sync"]
            if threads == 0
            else ["--worker-class", "gthread", "--threads", str(threads)]
        ),
        *([] if config else ["--log-level", "warning"]),
    ]


def config_env(opts: dict[str, int], logs: Path) -> dict[str, str]:
    """The environment the cluster gives gunicorn.conf.py (deploy/cluster/up.sh): logs to files,
    the app's logging at INFO."""
    env = {
        "GUNICORN_ERROR_LOG": str(logs / "error.log"),
        "GUNICORN_ACCESS_LOG": str(logs / "access.log") if opts["accesslog"] else "",
        "LOG_LEVEL": "INFO",
    }
    if opts["max_requests"] >= 0:
        env["GUNICORN_MAX_REQUESTS"] = str(opts["max_requests"])
    return env


def start_server(
    port: int,
    workers: int,
    threads: int,
    *,
    config: bool = False,
    conf: Path | None = None,
    extra_env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    env = {**server_env(), **(extra_env or {})}
    command = gunicorn_command(port, workers, threads, config=config, conf=conf)
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            browser = Browser(port)
            if browser.request("GET", "/healthz")[0] == 200:
                browser.close()
                return process
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise SystemExit("gunicorn did not answer /healthz within 30 s")


class Browser:
    """One resident's browser: its own cookies and one keep-alive HTTP/1.1 connection.

    A minimal client on a raw socket (Content-Length and chunked bodies, Set-Cookie,
    Location): what a browser sends and reads, at a fraction of http.client's CPU time.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.host = f"{HOST}:{port}".encode()
        self.sock: socket.socket | None = None
        self.buffer = b""
        self.cookies: dict[bytes, bytes] = {}

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = None
        self.buffer = b""

    def _connect(self) -> socket.socket:
        sock = socket.create_connection((HOST, self.port), timeout=30)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock, self.buffer = sock, b""
        return sock

    def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes, bytes]:
        """Send one request; returns (status, Location, body). Reconnects once if the server
        closed the keep-alive connection before this request was read."""
        head = [f"{method} {path} HTTP/1.1".encode(), b"Host: " + self.host, b"User-Agent: madoguchi-bench"]
        if self.cookies:
            head.append(b"Cookie: " + b"; ".join(k + b"=" + v for k, v in self.cookies.items()))
        if method == "POST":
            head.append(b"Content-Type: application/x-www-form-urlencoded")
            head.append(b"Content-Length: " + str(len(body)).encode())
        message = b"\r\n".join(head) + b"\r\n\r\n" + body
        fresh = self.sock is None
        sock = self.sock or self._connect()
        try:
            sock.sendall(message)
            return self._response(sock)
        except (ConnectionError, EOFError):
            if fresh:
                raise
            # A keep-alive connection the server had closed: the request never reached Django
            # (a reset) or it did and the answer was lost; both are safe to send again (the
            # steps are idempotent: the same draft, the same token).
            self.close()
            sock = self._connect()
            sock.sendall(message)
            return self._response(sock)

    def _read(self, sock: socket.socket) -> None:
        chunk = sock.recv(262144)
        if not chunk:
            raise EOFError("connection closed by the server")
        self.buffer += chunk

    def _response(self, sock: socket.socket) -> tuple[int, bytes, bytes]:
        while b"\r\n\r\n" not in self.buffer:
            self._read(sock)
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length, chunked, location, close = 0, False, b"", False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name, value = name.strip().lower(), value.strip()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"set-cookie":
                cookie, _, attributes = value.partition(b";")
                key, _, content = cookie.partition(b"=")
                if b"max-age=0" in attributes.lower():
                    self.cookies.pop(key.strip(), None)
                else:
                    self.cookies[key.strip()] = content.strip().strip(b'"')
            elif name == b"location":
                location = value
            elif name == b"connection":
                close = value.lower() == b"close"
        if chunked:
            body = self._chunked(sock)
        else:
            while len(self.buffer) < length:
                self._read(sock)
            body, self.buffer = self.buffer[:length], self.buffer[length:]
        if close:
            self.close()
        return status, location, body

    def _chunked(self, sock: socket.socket) -> bytes:
        parts = []
        while True:
            while b"\r\n" not in self.buffer:
                self._read(sock)
            size_line, _, self.buffer = self.buffer.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            while len(self.buffer) < size + 2:
                self._read(sock)
            parts.append(self.buffer[:size])
            self.buffer = self.buffer[size + 2 :]
            if size == 0:
                return b"".join(parts)


def form_body(number: int, csrf: bytes) -> bytes:
    data = {
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
    return b"csrfmiddlewaretoken=" + csrf + b"&" + urllib.parse.urlencode(data).encode()


@dataclass
class Tally:
    acknowledged: int = 0
    errors: list[str] = field(default_factory=list)
    latencies: dict[str, list[float]] = field(default_factory=lambda: {step: [] for step in STEPS})
    submissions: list[float] = field(default_factory=list)
    receipts: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def submit(browser: Browser, number: int, tally: Tally) -> str:
    """One resident's submission, as their browser makes it; returns the receipt number."""
    browser.cookies = {}  # a new resident on the same connection
    clock = time.perf_counter
    t0 = clock()
    status, _, page = browser.request("GET", FORM)
    t1 = clock()
    match = CSRF_INPUT.search(page)
    if status != 200 or not match:
        raise RuntimeError(f"GET form: {status}")
    status, location, page = browser.request("POST", FORM, form_body(number, match.group(1)))
    t2 = clock()
    token, csrf = TOKEN_INPUT.search(page), CSRF_INPUT.search(page)
    if status != 200 or not token or not csrf:
        raise RuntimeError(f"POST form (the confirmation): {status} {location!r}")
    body = b"csrfmiddlewaretoken=" + csrf.group(1) + b"&token=" + token.group(1)
    status, _, page = browser.request("POST", SEND, body)
    t3 = clock()
    receipt = RECEIPT.search(page)
    if status != 200 or not receipt:
        raise RuntimeError(f"POST send: {status}")
    with tally.lock:
        for step, seconds in zip(STEPS, (t1 - t0, t2 - t1, t3 - t2), strict=True):
            tally.latencies[step].append(seconds)
    return receipt.group(1).decode()


def run_load(port: int, *, clients: int, seconds: float, limit: int, first: int = 0) -> Tally:
    tally = Tally()
    deadline = time.monotonic() + seconds
    counter = iter(range(first, first + limit))
    counter_lock = threading.Lock()

    def worker() -> None:
        browser = Browser(port)
        while time.monotonic() < deadline:
            with counter_lock:
                number = next(counter, None)
            if number is None:
                break
            try:
                receipt = submit(browser, number, tally)
            except Exception as error:
                browser.close()
                with tally.lock:
                    tally.errors.append(f"{type(error).__name__}: {error}")
                continue
            with tally.lock:
                tally.acknowledged += 1
                tally.receipts.append(receipt)
                tally.submissions.append(time.monotonic())
        browser.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally


def psql(query: str) -> str:
    return subprocess.run(
        ["psql", "-h", HOST, "-U", "postgres", "-d", DB_NAME, "-At", "-F", " ", "-v", f"code={PROGRAM_CODE}"],
        input=query,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def database_cases() -> tuple[int, int, set[str]]:
    """Cases of the benchmark program: how many, how many distinct idempotency keys, numbers."""
    where = "FROM cases_case c JOIN programs_program p ON p.id = c.program_id WHERE p.code = :'code'"
    count, distinct = psql(f"SELECT count(*), count(DISTINCT idempotency_key) {where}").split()
    numbers = set(psql(f"SELECT receipt_number {where}").split())
    return int(count), int(distinct), numbers


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


def tree_cpu(pid: int) -> float:
    """CPU seconds of a master process and all its workers, past and present: its own time, the
    time of the children it has reaped (gunicorn's recycled workers, which exit mid-run) and
    the time of the children alive now."""
    ticks = os.sysconf("SC_CLK_TCK")
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    own = sum(int(value) for value in fields[11:15]) / ticks  # utime, stime, cutime, cstime
    return own + sum(cpu_seconds(children(pid)).values())


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    # A process that appeared during the run counts from zero; one that ended is not counted.
    return sum(max(0.0, value - before.get(pid, 0.0)) for pid, value in after.items())


class PostgresSampler(threading.Thread):
    """CPU of the benchmark database's backends, sampled every half second.

    The app closes and reopens its connections during a run (CONN_MAX_AGE), so a backend may
    end before the run does: its CPU is what it had used when last seen (at most half a
    second of one backend is missed). The server's own processes are counted too.
    """

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.start_cpu: dict[int, float] = {}
        self.last_cpu: dict[int, float] = {}
        self.stopping = threading.Event()
        self.sample(first=True)

    def sample(self, *, first: bool = False) -> None:
        for pid, seconds in cpu_seconds(postgres_processes()).items():
            if first:
                self.start_cpu[pid] = seconds
            self.start_cpu.setdefault(pid, 0.0)
            self.last_cpu[pid] = seconds

    def run(self) -> None:
        while not self.stopping.wait(0.5):
            self.sample()

    def used(self) -> float:
        self.stopping.set()
        self.join()
        self.sample()
        return sum(max(0.0, self.last_cpu[pid] - self.start_cpu[pid]) for pid in self.last_cpu)


AUX = (
    "background writer",
    "walwriter",
    "checkpointer",
    "autovacuum launcher",
    "logical replication launcher",
)


def postgres_processes() -> list[int]:
    """The backends serving the benchmark database and PostgreSQL's own processes (WAL writer,
    checkpointer, …: they work for every commit), found by their process titles in /proc (no
    connection to the server, which would add work of its own)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if not title.startswith("postgres: "):
            continue
        role = title.split(":", 2)[-1].strip()
        if f" {DB_NAME} " in f" {role} " or role.startswith(AUX):
            found.append(int(entry.name))
    return found


def redis_pid() -> int | None:
    """The Redis server's process (the residents' sessions and the rate limits live there)."""
    out = subprocess.run(
        ["redis-cli", "-h", HOST, "INFO", "server"], capture_output=True, text=True, check=False
    ).stdout
    match = re.search(r"^process_id:(\d+)", out, re.M)
    return int(match.group(1)) if match else None


def log_count(path: Path, text: str) -> int:
    try:
        return path.read_text(errors="replace").count(text)
    except OSError:
        return 0


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def ms(values: list[float], q: float) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000:.0f}"


# --- nginx in front (--nginx=1) --------------------------------------------------------------------


def start_nginx(state: Path, upstream_port: int, *, port: int = 0) -> tuple[int, subprocess.Popen[bytes]]:
    """The cluster's nginx configuration (deploy/cluster/nginx.conf.in) with this gunicorn as
    its one upstream, on two ports of 18000-18999 (http, https); returns (port, the master)."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    port = port or 18000 + os.getpid() % 300 * 2
    tls = state / "nginx" / "tls"
    for folder in ("nginx/tmp", "nginx/tls", "log", "var/static"):
        (state / folder).mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-keyout", str(tls / "key.pem"), "-out", str(tls / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    template = (ROOT / "deploy" / "cluster" / "nginx.conf.in").read_text()
    replacements = {
        "@STATE@": str(state),
        "@HTTP_PORT@": str(port),
        "@HTTPS_PORT@": str(port + 1),
        "@PUBLIC_HOST@": "inquiry.localhost",
        "@REPO@": str(ROOT),
        "@UPSTREAMS@": f"        server {HOST}:{upstream_port} max_fails=1 fail_timeout=10s;",
    }
    for key, value in replacements.items():
        template = template.replace(key, value)
    conf = state / "nginx" / "nginx.conf"
    conf.write_text(template)
    process = subprocess.Popen([nginx, "-c", str(conf), "-p", str(state / "nginx"), "-g", "daemon off;"])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            browser = Browser(port)
            if browser.request("GET", "/healthz")[0] == 200:
                browser.close()
                return port, process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("nginx did not answer /healthz within 10 s")


# --- in-process profile: the three requests through Django's WSGI handler -----------------------


def profile_inprocess(submissions: int) -> dict[str, Any]:
    """CPU ms (median) and SQL statements of each step, measured in this process.

    Runs in a child process (`python -m bench.public_form --inprocess N`) with the server's
    environment, so the figures are those of one app process with nothing else in it.
    """
    out = subprocess.run(
        [sys.executable, "-m", "bench.public_form", "--inprocess", str(submissions)],
        env=server_env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _inprocess_main(submissions: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection, reset_queries

    handler = WSGIHandler()

    class WsgiBrowser(Browser):
        def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes, bytes]:
            environ = {
                "REQUEST_METHOD": method,
                "PATH_INFO": path,
                "QUERY_STRING": "",
                "SERVER_NAME": HOST,
                "SERVER_PORT": "8000",
                "SERVER_PROTOCOL": "HTTP/1.1",
                "HTTP_HOST": f"{HOST}:8000",
                "REMOTE_ADDR": HOST,
                "HTTP_USER_AGENT": "madoguchi-bench",
                "CONTENT_LENGTH": str(len(body)),
                "wsgi.input": io.BytesIO(body),
                "wsgi.url_scheme": "http",
                "wsgi.errors": sys.stderr,
            }
            if method == "POST":
                environ["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
            if self.cookies:
                cookies = [f"{k.decode()}={v.decode()}" for k, v in self.cookies.items()]
                environ["HTTP_COOKIE"] = "; ".join(cookies)
            answer: dict[str, Any] = {}

            def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
                answer["status"], answer["headers"] = int(status.split()[0]), headers

            reset_queries()
            started = time.process_time()
            page = b"".join(handler(environ, start_response))
            cpu[path_step(method, path)].append(time.process_time() - started)
            if connection.force_debug_cursor:
                queries[path_step(method, path)].append(len(connection.queries))
            location = b""
            for name, value in answer["headers"]:
                if name.lower() == "set-cookie":
                    cookie = value.split(";", 1)[0]
                    key, _, content = cookie.partition("=")
                    self.cookies[key.encode()] = content.encode()
                elif name.lower() == "location":
                    location = value.encode()
            return answer["status"], location, page

    def path_step(method: str, path: str) -> str:
        return {("GET", FORM): "get_form", ("POST", FORM): "post_form_confirm", ("POST", SEND): "post_send"}[
            (method, path)
        ]

    cpu: dict[str, list[float]] = {step: [] for step in STEPS}
    queries: dict[str, list[int]] = {step: [] for step in STEPS}
    browser, tally = WsgiBrowser(0), Tally()
    for number in range(50):  # warm-up: imports, template and URL caches, connections
        submit(browser, 900_000 + number, tally)
    for values in cpu.values():
        values.clear()
    for number in range(submissions):
        submit(browser, 950_000 + number, tally)
    timed = {step: list(values) for step, values in cpu.items()}
    # A few more with the statements logged (logging them costs CPU: not in the timed pass).
    connection.force_debug_cursor = True
    for number in range(20):
        submit(browser, 990_000 + number, tally)
    connection.force_debug_cursor = False
    cpu = timed
    result = {
        step: {
            "cpu_ms": statistics.median(cpu[step]) * 1000,
            "queries": sorted(set(queries[step])),
        }
        for step in STEPS
    }
    result["total_ms"] = sum(statistics.median(cpu[step]) * 1000 for step in STEPS)
    print(json.dumps(result))


# --- the run ------------------------------------------------------------------------------------


def main(argv: list[str]) -> None:
    opts = options(argv)
    for tool in ("psql", "redis-cli"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is needed for this benchmark")
    print(f"preparing {DB_NAME} ...", flush=True)
    prepare_database()
    port = free_port()
    state = Path(tempfile.mkdtemp(prefix="mdg-bench-public-"))
    server = start_server(
        port,
        opts["workers"],
        opts["threads"],
        config=bool(opts["config"]),
        extra_env=config_env(opts, state) if opts["config"] else None,
    )
    proxy: subprocess.Popen[bytes] | None = None
    warmed = warm_errors = 0
    try:
        target = port
        if opts["nginx"]:
            target, proxy = start_nginx(state, port)
        print(
            f"gunicorn on {HOST}:{port}, {opts['workers']} workers, {opts['threads']} thread(s)"
            + (f", nginx on {HOST}:{target}" if proxy else ""),
            flush=True,
        )
        if opts["warmup"]:
            warm = run_load(target, clients=opts["clients"], seconds=opts["warmup"], limit=opts["max"])
            print(f"warm-up: {warm.acknowledged} submissions, {len(warm.errors)} errors", flush=True)
            warmed, warm_errors = warm.acknowledged, len(warm.errors)
            warm_receipts = warm.receipts
        else:
            warm_receipts = []
        redis_pids = [pid for pid in [redis_pid()] if pid]
        postgres = PostgresSampler()
        postgres.start()
        # gunicorn and nginx as trees: a worker recycled during the run (max_requests) counts.
        cpu_app_before, cpu_redis_before = tree_cpu(server.pid), cpu_seconds(redis_pids)
        cpu_nginx_before = tree_cpu(proxy.pid) if proxy else 0.0
        cpu_self_before = time.process_time()
        load_before = os.getloadavg()
        started = time.monotonic()
        tally = run_load(
            target, clients=opts["clients"], seconds=opts["seconds"], limit=opts["max"] - warmed, first=warmed
        )
        elapsed = time.monotonic() - started
        cpu_app = tree_cpu(server.pid) - cpu_app_before
        cpu_nginx = tree_cpu(proxy.pid) - cpu_nginx_before if proxy else 0.0
        cpu_pg = postgres.used()
        cpu_redis = cpu_used(cpu_redis_before, cpu_seconds(redis_pids))
        cpu_client = time.process_time() - cpu_self_before
        load_after = os.getloadavg()
        recycled = log_count(state / "error.log", "Autorestarting worker")
    finally:
        if proxy:
            proxy.terminate()
            proxy.wait(timeout=30)
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(state, ignore_errors=True)

    cases, distinct, numbers = database_cases()
    expected = warmed + tally.acknowledged
    seen = warm_receipts + tally.receipts
    receipts_match = len(seen) == len(set(seen)) and set(seen) == numbers
    rate = tally.acknowledged / elapsed if elapsed else 0.0
    # Throughput per 10-second slice, to show it is sustained and not a burst.
    slices = [
        sum(1 for moment in tally.submissions if started + i * 10 <= moment < started + (i + 1) * 10) / 10
        for i in range(int(elapsed // 10))
    ] or [rate]
    total_cpu = cpu_app + cpu_nginx + cpu_pg + cpu_redis + cpu_client
    n = tally.acknowledged or 1
    per_submission = total_cpu / n * 1000
    ok = not tally.errors and not warm_errors and cases == expected and distinct == cases and receipts_match
    cores = os.cpu_count() or 1
    profile = profile_inprocess(opts["profile"]) if opts["profile"] else None
    shape = f"× {opts['threads']} thread(s) (gthread, keep-alive)" if opts["threads"] else "(sync)"
    if opts["config"]:
        shape += (
            " with deploy/gunicorn.conf.py (error log to a file, app logging at INFO, access log "
            + ("to a file" if opts["accesslog"] else "off")
            + ", max_requests "
            + (str(opts["max_requests"]) if opts["max_requests"] >= 0 else "as the file says")
            + f"; {recycled} worker(s) recycled during the measured run)"
        )
    if opts["nginx"]:
        shape += ", behind the cluster's nginx (deploy/cluster/nginx.conf.in, upstream keep-alive)"

    lines = [
        f"**{rate:.1f} submissions/s** sustained for {elapsed:.0f} s ({tally.acknowledged} acknowledged, "
        f"each = {len(STEPS)} HTTP requests, so {rate * len(STEPS):.0f} requests/s), "
        f"{len(tally.errors)} errors. "
        f"**{per_submission:.1f} ms of CPU per submission** in total (app + "
        f"{'nginx + ' if opts['nginx'] else ''}PostgreSQL + Redis + load generator): a ceiling of "
        f"{1000 / per_submission * cores:.0f} submissions/s on {cores} cores doing nothing else.",
        "",
        f"After the run: {cases} cases in the database = {expected} acknowledged (warm-up included), "
        f"{distinct} distinct idempotency keys, the receipt numbers the residents saw "
        f"{'are exactly' if receipts_match else 'DIFFER FROM'} the database's "
        f"→ {'no loss, no duplicate' if ok else 'MISMATCH OR ERRORS'}.",
        "",
        "Machine load average (1 / 5 / 15 min) before the run: "
        f"{load_before[0]:.1f} / {load_before[1]:.1f} / {load_before[2]:.1f}, "
        f"after: {load_after[0]:.1f} / {load_after[1]:.1f} / {load_after[2]:.1f} on "
        f"{cores} cores (2.0 = both cores busy; the machine is shared with other work, and the "
        "throughput is what was left for this benchmark: the CPU per submission is the figure to compare).",
        "",
        f"Set-up: gunicorn {opts['workers']} workers {shape}, PostgreSQL 15 "
        f"(`{DB_NAME}`), residents' sessions and the rate-limit counter in Redis db {REDIS_DB} "
        "(limit raised for the run), dummy mail backend (one in three residents gives an e-mail address), "
        f"{opts['clients']} simulated residents on 127.0.0.1 (threads of one process, each with its own "
        f"cookies and keep-alive connection), {opts['warmup']} s warm-up not counted.",
        "",
        "| per 10 s slice | " + " | ".join(f"{r:.0f}/s" for r in slices) + " |",
        "|---|" + "---|" * len(slices),
        "",
        "| step | p50 ms | p95 ms | p99 ms |",
        "|---|---|---|---|",
    ]
    for step in STEPS:
        values = tally.latencies[step]
        lines.append(f"| {step} | {ms(values, 0.5)} | {ms(values, 0.95)} | {ms(values, 0.99)} |")
    lines += [
        "",
        "Where the CPU goes during the measured run (seconds; PostgreSQL: the backends of the benchmark "
        "database, sampled every half second, and the server's own processes; Redis: the whole server, "
        "which other work on the machine "
        f"may use too): Django/gunicorn {cpu_app:.1f} s ({cpu_app / n * 1000:.1f} ms per submission, "
        "recycled workers included), "
        + (f"nginx {cpu_nginx:.1f} s ({cpu_nginx / n * 1000:.1f} ms), " if opts["nginx"] else "")
        + f"PostgreSQL {cpu_pg:.1f} s ({cpu_pg / n * 1000:.1f} ms), Redis {cpu_redis:.1f} s "
        f"({cpu_redis / n * 1000:.1f} ms), the load generator {cpu_client:.1f} s "
        f"({cpu_client / n * 1000:.1f} ms).",
    ]
    if profile:
        lines += [
            "",
            "One app process alone (in-process through Django's WSGI handler, "
            f"{opts['profile']} submissions, median CPU per request; gunicorn's HTTP handling, "
            "thread switches and the other processes "
            "come on top):",
            "",
            "| request | CPU ms | SQL statements |",
            "|---|---:|---:|",
        ]
        for step in STEPS:
            counts = profile[step]["queries"]
            shown = str(counts[0]) if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"
            lines.append(f"| {step} | {profile[step]['cpu_ms']:.2f} | {shown} |")
        lines.append(f"| **submission** | **{profile['total_ms']:.1f}** | |")
    if tally.errors:
        lines += ["", "First errors: " + "; ".join(sorted(set(tally.errors))[:5])]
    if statistics.mean(slices) < 100:
        lines += ["", "Below the 100/s target in this run: see docs/public-form.md (Performance)."]
    body = "\n".join(lines)
    print(body)
    # One line for scripts that alternate runs (bench/...): the figures per submission.
    summary = {
        "rate": round(rate, 1),
        "submissions": tally.acknowledged,
        "errors": len(tally.errors),
        "ok": ok,
        "recycled": recycled,
        **{
            f"{name}_ms": round(value / n * 1000, 3)
            for name, value in (
                ("total", total_cpu),
                ("app", cpu_app),
                ("nginx", cpu_nginx),
                ("postgres", cpu_pg),
                ("redis", cpu_redis),
                ("client", cpu_client),
            )
        },
        "load": [round(load_before[0], 2), round(load_after[0], 2)],
    }
    print("SUMMARY " + json.dumps(summary), flush=True)
    from bench.report import write_section

    write_section("public_form", body)
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--inprocess"]:
        _inprocess_main(int(sys.argv[2]))
    else:
        main(sys.argv[1:])
