"""What a gunicorn worker's start costs: the import of Django and the app, then its first requests.

    .venv/bin/python -m bench worker_start [--rounds=3] [--submissions=600] [--batch=50]

gunicorn runs with deploy/gunicorn.conf.py as the cluster runs it (one worker, one thread, no
recycling), on the public form's benchmark database (`bench/public_form.py` sets it up). A
`post_worker_init` hook added to the configuration records the worker's CPU time once the
app is imported (a process's CPU times start at zero at its fork). Then one resident submits
the form again and again (the three requests of `bench/public_form.py`, on one keep-alive
connection), and the worker's CPU is read after each batch: the first batches carry the
warm-up (templates compiled, per-process caches filled, the first database and Redis
connections), the last ones are the steady state. The worker is then stopped and a fresh one
measured, `--rounds` times.

A worker recycled after `max_requests` pays the start-up and the warm-up's excess again; the
cost per request of recycling is that sum divided by `max_requests`. The figures are printed
(nothing is written to docs/benchmarks.md).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench.options import parse_options
from bench.public_form import (
    HOST,
    ROOT,
    Browser,
    Tally,
    config_env,
    cpu_seconds,
    free_port,
    prepare_database,
    server_env,
    submit,
    write_config_with_worker_hook,
)

HOOK = """
import os
import time

with open(os.path.join({state!r}, f"ready.{{os.getpid()}}"), "w") as ready:
    ready.write(repr(time.process_time()))
"""


def options(argv: list[str]) -> dict[str, int]:
    # --pyc=1: the app's modules compiled beforehand (`python -m compileall madoguchi`), as a
    # deploy should leave them; 0: no bytecode cache (every worker compiles the app's sources,
    # as on a read-only checkout that was never compiled, or with PYTHONDONTWRITEBYTECODE).
    values = {"rounds": 3, "submissions": 600, "batch": 50, "pyc": 1}
    values = parse_options(argv, values)
    return values


def one_worker(state: Path, submissions: int, batch: int, first: int, pyc: bool) -> dict[str, object]:
    port = free_port()
    conf = state / "gunicorn.conf.py"
    write_config_with_worker_hook(conf, HOOK.format(state=str(state)))
    env = {
        **server_env(),
        **config_env({"accesslog": 1, "max_requests": 0}, state),
        "GUNICORN_BIND": f"{HOST}:{port}",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_THREADS": "1",
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if not pyc:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        for cache in (ROOT / "madoguchi").rglob("__pycache__"):
            shutil.rmtree(cache)
    for old in state.glob("ready.*"):
        old.unlink()
    started = time.monotonic()
    master = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "--config", str(conf), "madoguchi.wsgi"], env=env, cwd=ROOT
    )
    try:
        while not list(state.glob("ready.*")):
            if time.monotonic() - started > 60 or master.poll() is not None:
                raise SystemExit(f"no worker started; see {state / 'error.log'}")
            time.sleep(0.05)
        ready = next(state.glob("ready.*"))
        time.sleep(0.05)
        worker = int(ready.name.split(".", 1)[1])
        import_cpu = float(ready.read_text())
        ready_wall = time.monotonic() - started
        browser, tally = Browser(port), Tally()
        batches: list[float] = []
        before = cpu_seconds([worker])[worker]
        for number in range(submissions):
            submit(browser, first + number, tally)
            if (number + 1) % batch == 0:
                now = cpu_seconds([worker])[worker]
                batches.append((now - before) / batch * 1000)
                before = now
        browser.close()
        master_cpu = sum(cpu_seconds([master.pid]).values())
    finally:
        master.send_signal(signal.SIGTERM)
        master.wait(timeout=30)
    return {
        "import_cpu_s": round(import_cpu, 3),
        "ready_wall_s": round(ready_wall, 2),
        "master_cpu_s": round(master_cpu, 3),
        "batches_ms_per_submission": [round(value, 2) for value in batches],
    }


def main(argv: list[str]) -> None:
    opts = options(argv)
    prepare_database()
    if opts["pyc"]:
        subprocess.run(
            [str(ROOT / ".venv" / "bin" / "python"), "-m", "compileall", "-q", "madoguchi"], cwd=ROOT
        )
    state = Path(tempfile.mkdtemp(prefix="mdg-bench-start-"))
    rounds = []
    try:
        for round_ in range(opts["rounds"]):
            result = one_worker(
                state,
                opts["submissions"],
                opts["batch"],
                first=round_ * opts["submissions"],
                pyc=bool(opts["pyc"]),
            )
            print(json.dumps(result), flush=True)
            rounds.append(result)
    finally:
        shutil.rmtree(state, ignore_errors=True)
    batch = opts["batch"]
    steady = statistics.median(
        value
        for result in rounds
        for value in result["batches_ms_per_submission"][len(result["batches_ms_per_submission"]) // 2 :]  # type: ignore[index]
    )
    first = statistics.median(result["batches_ms_per_submission"][0] for result in rounds)  # type: ignore[index]
    excess = statistics.median(
        sum(max(0.0, value - steady) * batch for value in result["batches_ms_per_submission"]) / 1000  # type: ignore[attr-defined]
        for result in rounds
    )
    start = statistics.median(float(result["import_cpu_s"]) for result in rounds)  # type: ignore[arg-type]
    print(
        f"worker start-up (fork to app imported): {start:.2f} s of CPU (median of {len(rounds)}); "
        f"first {batch} submissions {first:.2f} ms each against {steady:.2f} ms in the steady state "
        f"(second half of each run): a warm-up excess of {excess:.2f} s. A recycle costs about "
        f"{start + excess:.2f} s of CPU; per request at max_requests=5000: "
        f"{(start + excess) / 5000 * 1000:.3f} ms."
    )
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
