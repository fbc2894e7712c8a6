"""Runs the locust load against `make cluster` and reports the table of docs/benchmarks.md.

    .venv/bin/python -m bench.load.run [--operators=300] [--ward=10] [--supervisors=5]
                                       [--residents=100] [--seconds=600] [--spawn-rate=5]

(as root, on the running cluster; `deploy/cluster/load.sh` wraps it in the heavy-job lock.)
Residents: that many simulated residents, one inquiry per second each (so 100 ≈ 100/s).
After the run: p50/p95/p99 per action, errors, throughput; CPU seconds per request of every
process of the shape (gunicorn on both hosts, PostgreSQL primary and replica, Redis, nginx;
the load generator separately); memory (RSS) per gunicorn worker; and the web inquiries
acknowledged against the database (none lost, none duplicated).
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.load.drills import STATE, primary, sh

ROOT = Path(__file__).resolve().parents[2]
TICKS = os.sysconf("SC_CLK_TCK")


def cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS
    except (OSError, IndexError):
        return 0.0


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def processes() -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {"gunicorn": [], "postgres": [], "redis": [], "nginx": []}
    for ns in ("mdg-app1", "mdg-app2"):
        groups["gunicorn"] += [int(p) for p in sh("ip", "netns", "pids", ns).split()]
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "mdgprimary" in cmd or "mdgreplica" in cmd:
            groups["postgres"].append(int(entry.name))  # backends carry the cluster's name too
        elif "redis-server" in cmd and ":6390" in cmd:
            groups["redis"].append(int(entry.name))
        elif cmd.startswith("nginx") and str(STATE) in cmd:
            groups["nginx"].append(int(entry.name))
            found = subprocess.run(["pgrep", "-P", entry.name], capture_output=True, text=True).stdout
            groups["nginx"] += [int(c) for c in found.split()]
    return groups


def main(argv: list[str]) -> int:
    opts = dict(a[2:].split("=", 1) for a in argv if a.startswith("--") and "=" in a)
    operators, ward = int(opts.get("operators", 300)), int(opts.get("ward", 10))
    supervisors, residents = int(opts.get("supervisors", 5)), int(opts.get("residents", 100))
    seconds, spawn = int(opts.get("seconds", 600)), opts.get("spawn-rate", "5")
    users_file = STATE / "load-users.json"
    env = {**os.environ}
    for line in (STATE / "host.env").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            env[key] = value
    subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.load.users",
            f"--operators={operators}",
            f"--ward={ward}",
            f"--supervisors={supervisors}",
            f"--out={users_file}",
        ],
        check=True,
        env=env,
        cwd=ROOT,
    )
    started = primary("SELECT now()")
    prefix = STATE / "load"
    receipts_file = STATE / "load-receipts.txt"
    env = {
        **os.environ,
        "LOAD_USERS": str(users_file),
        "LOAD_RECEIPTS": str(receipts_file),
        "OPERATORS": str(operators),
        "WARD_STAFF": str(ward),
        "SUPERVISORS": str(supervisors),
        "RESIDENTS": str(residents),
    }
    total = operators + ward + supervisors + residents
    groups = processes()
    before = {name: sum(cpu(p) for p in pids) for name, pids in groups.items()}
    load_before = os.getloadavg()
    t0 = time.time()
    generator = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/locust"),
            "-f",
            str(ROOT / "bench/load/locustfile.py"),
            "--headless",
            "--host",
            "http://127.0.0.1:8088",
            "-u",
            str(total),
            "-r",
            spawn,
            "-t",
            f"{seconds}s",
            "--csv",
            str(prefix),
            "--only-summary",
            "--loglevel",
            "WARNING",
        ],
        env=env,
        cwd=ROOT,
    )
    peak_rss: dict[int, float] = {}
    while generator.poll() is None:
        time.sleep(5)
        for pid in processes()["gunicorn"]:
            peak_rss[pid] = max(peak_rss.get(pid, 0.0), rss_mb(pid))
    elapsed = time.time() - t0
    load_after = os.getloadavg()
    groups_after = processes()
    after = {name: sum(cpu(p) for p in pids) for name, pids in groups_after.items()}
    generator_cpu = cpu_of_children()
    with open(f"{prefix}_stats.csv", encoding="utf-8") as stats:
        rows = list(csv.DictReader(stats))
    total_row = next(r for r in rows if r["Name"] == "Aggregated")
    requests_done = int(total_row["Request Count"])
    print(
        f"\n### Load run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(t0))}: "
        f"{operators} operators, {ward} ward staff, {supervisors} supervisors, {residents} residents; "
        f"{elapsed:.0f} s; load average {load_before[0]:.1f} before, {load_after[0]:.1f} after\n"
    )
    print("| action | requests | failures | p50 ms | p95 ms | p99 ms | req/s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(
            f"| {r['Type']} {r['Name']} | {r['Request Count']} | {r['Failure Count']} | "
            f"{r['50%']} | {r['95%']} | {r['99%']} | {float(r['Requests/s']):.1f} |"
        )
    print()
    for name in before:
        used = after.get(name, 0.0) - before[name]
        print(f"- CPU {name}: {used:.1f} s, {1000 * used / max(requests_done, 1):.2f} ms per request")
    print(f"- CPU load generator (locust): {generator_cpu:.1f} s")
    workers = [v for v in peak_rss.values() if v > 0]
    if workers:
        print(
            f"- gunicorn processes: {len(workers)}, "
            f"peak RSS per process {min(workers):.0f}–{max(workers):.0f} MB"
        )
    acknowledged = [r for r in receipts_file.read_text().split() if r] if receipts_file.exists() else []
    in_db = primary(
        "SELECT count(*), count(DISTINCT receipt_number) FROM cases_case WHERE channel='form' "  # noqa: S608
        f"AND created_at >= '{started}'"
    )
    print(
        f"- web inquiries acknowledged {len(acknowledged)} ({len(acknowledged) / elapsed:.1f}/s), "
        f"in the database (count, distinct): {in_db}"
    )
    failures = Path(f"{prefix}_failures.csv")
    if failures.exists():
        print("\nFailures:\n" + failures.read_text()[:3000])
    return 0


def cpu_of_children() -> float:
    usage = os.times()
    return usage.children_user + usage.children_system


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
