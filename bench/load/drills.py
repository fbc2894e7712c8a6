"""The fault drills of docs/operations.md, on the cluster of `make cluster` (as root).

    .venv/bin/python -m bench.load.drills [primary-restart|redis-stop|app-kill|replica|all]
                                          [--residents=8] [--seconds=30]

Each drill runs residents sending web inquiries (each retrying a step that failed, as the
503 page asks) and a signed-in ward manager and operator reading pages, both through nginx,
injects the fault a few seconds in, lifts it, and then checks:
- every status seen (503 counts as a clean failure; a 500 or a lost connection is reported);
- every inquiry acknowledged to a resident is in the database exactly once, and the database
  holds no case of the run that nobody was told about (none lost, none duplicated);
- the staff sessions still work without logging in again.
The result is printed as a Markdown block for docs/operations.md.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from bench.load.client import StepFailed, staff_login, submit_inquiry

warnings.filterwarnings("ignore", message="Unverified HTTPS request")

ROOT = Path(__file__).resolve().parents[2]
STATE = Path(os.environ.get("MDG_CLUSTER_DIR", ROOT / "var" / "cluster"))
BASE = "http://127.0.0.1:8088"
PROGRAM = "setagaya-kaji-2023"
PG_VERSION = sorted(os.listdir("/usr/lib/postgresql"), key=int)[-1]
PSQL = ["runuser", "-u", "postgres", "--", "psql", "-X", "-qtA", "-h", "127.0.0.1", "-U", "postgres"]


def sh(*command: str) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()


def primary(sql: str) -> str:
    return sh(*PSQL, "-p", "5442", "-d", "madoguchi", "-c", sql)


def replica(sql: str) -> str:
    return sh(*PSQL, "-p", "5443", "-d", "madoguchi", "-c", sql)


def demo_users() -> dict[str, tuple[str, str]]:
    users: dict[str, tuple[str, str]] = {}
    for line in (STATE / "demo-logins.txt").read_text(encoding="utf-8").splitlines():
        match = re.match(r"\s+(\w+)\s+(\S+)\s+([A-Z2-7]{16,})\s", line)
        if match:
            users[match.group(1)] = (match.group(2), match.group(3))
    return users


def login(name: str) -> requests.Session:
    password, secret = demo_users()[name]
    session = requests.Session()
    for attempt in range(3):
        try:
            staff_login(session, BASE, name, password, secret)
            return session
        except StepFailed:
            if attempt == 2:
                raise
            time.sleep(31)  # the code of this window was used already: wait for the next one
    return session


@dataclass
class Tally:
    receipts: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    staff: Counter[str] = field(default_factory=Counter)
    retries: int = 0
    restarted: int = 0
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def residents(tally: Tally, stop: threading.Event, count: int, first: int) -> list[threading.Thread]:
    def run(index: int) -> None:
        number = first + index * 100_000
        while not stop.is_set():
            number += 1
            try:
                outcome = submit_inquiry(BASE, PROGRAM, number, attempts=90, pause=1.0)
            except StepFailed as error:
                # The draft itself was lost (its store went away): the resident starts over.
                with tally.lock:
                    tally.restarted += 1
                    tally.failures.append(str(error))
                continue
            with tally.lock:
                tally.receipts.append(outcome.receipt)
                tally.retries += outcome.retries
                tally.statuses.update(outcome.statuses)

    return [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]


def staff_reader(
    tally: Tally, stop: threading.Event, session: requests.Session, path: str
) -> threading.Thread:
    def run() -> None:
        while not stop.is_set():
            try:
                response = session.get(f"{BASE}{path}", timeout=30, allow_redirects=False)
                key = f"{path} {response.status_code}"
            except requests.RequestException as error:
                key = f"{path} {type(error).__name__}"
            with tally.lock:
                tally.staff[key] += 1
            time.sleep(0.5)

    return threading.Thread(target=run, daemon=True)


def run_drill(name: str, fault: Any, lift: Any, *, count: int, seconds: float) -> dict[str, Any]:
    started = primary("SELECT now()")
    tally = Tally()
    stop = threading.Event()
    manager, operator = login("manager"), login("operator")
    threads = residents(tally, stop, count, first=int(time.time()) % 100_000 * 10)
    threads.append(staff_reader(tally, stop, manager, "/audit/events"))
    threads.append(staff_reader(tally, stop, operator, "/cases/"))
    for thread in threads:
        thread.start()
    time.sleep(5)
    t0 = time.time()
    fault_note = fault()
    time.sleep(seconds)
    lift_note = lift()
    recovered = time.time() - t0
    time.sleep(8)
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    time.sleep(1)
    # The database's count of the run's web inquiries against what residents were told.
    rows = primary(
        "SELECT receipt_number FROM cases_case WHERE channel='form' "  # noqa: S608 (our own values)
        f"AND created_at >= '{started}' AND inquiry LIKE '%負荷試験のお問い合わせ %'"
    ).split()
    acknowledged = set(tally.receipts)
    in_db = Counter(rows)
    # Sessions survive: the same sessions answer afterwards without a new login.
    after = {
        "manager": manager.get(f"{BASE}/audit/events", allow_redirects=False).status_code,
        "operator": operator.get(f"{BASE}/cases/", allow_redirects=False).status_code,
    }
    return {
        "drill": name,
        "fault": fault_note,
        "lifted": lift_note,
        "fault_seconds": round(recovered, 1),
        "inquiries_acknowledged": len(tally.receipts),
        "distinct_receipts": len(acknowledged),
        "in_database": len(rows),
        "lost": len(acknowledged - set(in_db)),
        "duplicated": sum(1 for n in in_db.values() if n > 1) + (len(tally.receipts) - len(acknowledged)),
        "unacknowledged_in_db": len(set(in_db) - acknowledged),
        "resident_retries": tally.retries,
        "resident_restarts": tally.restarted,
        "resident_statuses": dict(sorted(tally.statuses.items())),
        "staff_requests": dict(sorted(tally.staff.items())),
        "staff_sessions_after": after,
    }


def app_log_lines(pattern: str) -> int:
    total = 0
    for log in STATE.glob("log/app*.error.log"):
        total += sum(1 for line in log.read_text(errors="replace").splitlines() if pattern in line)
    return total


# --- the drills --------------------------------------------------------------------------------


def primary_restart(count: int, seconds: float) -> dict[str, Any]:
    def fault() -> str:
        sh("pg_ctlcluster", PG_VERSION, "mdgprimary", "restart", "-m", "fast")
        return "pg_ctlcluster restart -m fast (primary)"

    return run_drill("primary-restart", fault, lambda: "restarted at once", count=count, seconds=seconds)


def redis_stop(count: int, seconds: float) -> dict[str, Any]:
    before = app_log_lines("cache unavailable")

    def fault() -> str:
        subprocess.run(["redis-cli", "-p", "6390", "shutdown", "nosave"], capture_output=True)
        return "redis-cli shutdown nosave"

    def lift() -> str:
        # A fresh login while Redis is down (the allowlist is read from the database).
        password, secret = demo_users()["ward"]
        fresh = requests.Session()
        try:
            staff_login(fresh, BASE, "ward", password, secret)
            fresh_login = fresh.get(f"{BASE}/cases/", allow_redirects=False).status_code
        except StepFailed as error:
            fresh_login = str(error)
        sh(str(STATE / "redis-start.sh"))
        return f"redis restarted; a new login during the outage: /cases/ {fresh_login}"

    result = run_drill("redis-stop", fault, lift, count=count, seconds=seconds)
    result["log_lines_cache_unavailable"] = app_log_lines("cache unavailable") - before
    return result


def app_kill(count: int, seconds: float) -> dict[str, Any]:
    def fault() -> str:
        pids = sh("ip", "netns", "pids", "mdg-app1").split()
        subprocess.run(["kill", "-KILL", *pids], check=False)
        return f"SIGKILL to every process of app host 1 ({len(pids)} processes)"

    def lift() -> str:
        # Both pools of the host died with it; the start script clears their pid files.
        sh(str(STATE / "app1-start.sh"))
        return "app host 1 started again (both pools)"

    return run_drill("app-kill", fault, lift, count=count, seconds=seconds)


def replica_drill(count: int, seconds: float) -> dict[str, Any]:
    notes: dict[str, Any] = {}
    manager = login("manager")
    seq = re.compile(r"#(\d+)")

    def newest_shown() -> tuple[int, int]:
        expected = int(primary("SELECT max(seq) FROM audit_auditevent"))
        page = manager.get(f"{BASE}/audit/events", allow_redirects=False)
        match = seq.search(page.text)
        return expected, int(match.group(1)) if match else -1

    logged_in = time.time()

    def fault() -> str:
        # The login was a write: this user reads from the primary for REPLICA_PIN_SECONDS (30).
        expected, shown = newest_shown()
        notes["just_logged_in"] = {"primary_newest_seq": expected, "page_newest_seq": shown}
        time.sleep(max(0.0, logged_in + 32 - time.time()))
        replica("SELECT pg_wal_replay_pause()")
        time.sleep(8)  # residents keep writing: the replica falls behind
        lag = replica("SELECT round(EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp()))")
        expected, shown = newest_shown()
        notes["paused"] = {"replica_lag_s": lag, "primary_newest_seq": expected, "page_newest_seq": shown}
        replica("SELECT pg_wal_replay_resume()")
        sh("pg_ctlcluster", PG_VERSION, "mdgreplica", "stop", "-m", "fast")
        time.sleep(3)
        expected, shown = newest_shown()
        notes["stopped"] = {"primary_newest_seq": expected, "page_newest_seq": shown}
        return "replay paused 8 s (lag), then the replica stopped"

    def lift() -> str:
        sh("pg_ctlcluster", PG_VERSION, "mdgreplica", "start")
        time.sleep(4)
        expected, shown = newest_shown()
        notes["back"] = {"primary_newest_seq": expected, "page_newest_seq": shown}
        return "replica started again"

    before_lag, before_down = app_log_lines("lagging"), app_log_lines("reads go to the primary")
    result = run_drill("replica", fault, lift, count=count, seconds=seconds)
    result["newest_event_on_the_audit_screen"] = notes
    result["log_lines_replica_lagging"] = app_log_lines("lagging") - before_lag
    result["log_lines_reads_to_primary"] = app_log_lines("reads go to the primary") - before_down
    return result


DRILLS = {
    "primary-restart": primary_restart,
    "redis-stop": redis_stop,
    "app-kill": app_kill,
    "replica": replica_drill,
}


def main(argv: list[str]) -> int:
    names = [a for a in argv if not a.startswith("--")] or ["all"]
    opts = dict(a[2:].split("=", 1) for a in argv if a.startswith("--") and "=" in a)
    count, seconds = int(opts.get("residents", 8)), float(opts.get("seconds", 15))
    chosen = list(DRILLS) if names == ["all"] else names
    load = os.getloadavg()
    print(f"# drills {' '.join(chosen)}: residents={count} fault={seconds}s load average {load[0]:.2f}")
    failed = False
    for name in chosen:
        result = DRILLS[name](count, seconds)
        ok = result["lost"] == 0 and result["duplicated"] == 0 and result["unacknowledged_in_db"] == 0
        ok = ok and 500 not in result["resident_statuses"]
        ok = ok and all(code == 200 for code in result["staff_sessions_after"].values())
        failed |= not ok
        print(f"\n## {name}: {'OK' if ok else 'FAILED'}")
        for key, value in result.items():
            print(f"- {key}: {value}")
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
