"""Two gunicorn set-ups side by side, under the same load at the same time: CPU per submission.

    .venv/bin/python -m bench gunicorn_pair --a=2x4 --b=4x1 [--seconds=40] [--clients=16]
                                             [--warmup=10] [--rounds=2]

On a shared machine the CPU a request costs moves with how busy the cores are (twice as much
from one minute to the next here), so two set-ups measured one after the other compare the
machine's moods as much as the set-ups. This runs both at once: two gunicorn instances with
deploy/gunicorn.conf.py (as `bench/public_form.py --config=1`), each behind its own copy of
the cluster's nginx, the residents split evenly between them, on the public form's benchmark
database; each instance's CPU (master, workers and recycled workers, and its nginx) is divided
by the submissions it acknowledged. Both see the same contention. `--rounds` swaps which
instance starts first; the figures are printed (not written to docs/benchmarks.md).

A set-up is WORKERSxTHREADS (threads 0: the sync worker), optionally `:max_requests=N`,
`:accesslog=0` or `:switch=SECONDS` (Python's thread switch interval in the workers), e.g.
`--a=2x4:max_requests=500 --b=2x4:max_requests=0`.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import tempfile
import threading
from pathlib import Path

from bench.options import parse_options
from bench.public_form import (
    Tally,
    config_env,
    free_port,
    log_count,
    prepare_database,
    run_load,
    start_nginx,
    start_server,
    tree_cpu,
    write_config_with_worker_hook,
)

SWITCH_HOOK = """
import sys

sys.setswitchinterval({switch!r})
"""


def parse(spec: str) -> dict[str, float]:
    shape, *extras = spec.split(":")
    workers, _, threads = shape.partition("x")
    result: dict[str, float] = {
        "workers": int(workers),
        "threads": int(threads),
        "max_requests": 0,
        "accesslog": 1,
    }
    for extra in extras:
        name, _, value = extra.partition("=")
        if name not in {"max_requests", "accesslog", "switch"}:
            raise SystemExit(f"unknown setting {name!r} in {spec!r}")
        result[name] = float(value)
    return result


class Instance:
    def __init__(self, spec: str, state: Path, nginx_port: int) -> None:
        self.spec = spec
        self.settings = parse(spec)
        self.state = state
        state.mkdir(parents=True, exist_ok=True)
        env = config_env(
            {
                "accesslog": int(self.settings["accesslog"]),
                "max_requests": int(self.settings["max_requests"]),
            },
            state,
        )
        self.port = free_port()
        conf = None
        if "switch" in self.settings:
            conf = write_config_with_worker_hook(
                state / "gunicorn.conf.py", SWITCH_HOOK.format(switch=self.settings["switch"])
            )
        self.server = start_server(
            self.port,
            int(self.settings["workers"]),
            int(self.settings["threads"]),
            config=True,
            conf=conf,
            extra_env=env,
        )
        self.nginx_port, self.nginx = start_nginx(state, self.port, port=nginx_port)

    def cpu(self) -> float:
        return tree_cpu(self.server.pid) + tree_cpu(self.nginx.pid)

    def stop(self) -> None:
        for process in (self.nginx, self.server):
            process.terminate()
            process.wait(timeout=30)


def one_round(specs: list[str], opts: dict[str, str], first: int) -> list[dict[str, object]]:
    clients, seconds, warmup = int(opts["clients"]), float(opts["seconds"]), float(opts["warmup"])
    root = Path(tempfile.mkdtemp(prefix="mdg-bench-pair-"))
    instances: list[Instance] = []
    try:
        for number, spec in enumerate(specs):
            instances.append(Instance(spec, root / f"i{number}", nginx_port=18600 + 10 * number))

        def load(seconds: float, offset: int) -> list[Tally]:
            tallies: list[Tally] = [Tally() for _ in instances]

            def drive(index: int) -> None:
                tallies[index] = run_load(
                    instances[index].nginx_port,
                    clients=clients // len(instances),
                    seconds=seconds,
                    limit=1_000_000,
                    first=offset + index * 1_000_000,
                )

            threads = [threading.Thread(target=drive, args=(index,)) for index in range(len(instances))]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            return tallies

        load(warmup, first)
        before = [instance.cpu() for instance in instances]
        load_before = os.getloadavg()[0]
        tallies = load(seconds, first + 100_000)
        after = [instance.cpu() for instance in instances]
        results = []
        for instance, tally, start, end in zip(instances, tallies, before, after, strict=True):
            results.append(
                {
                    "setup": instance.spec,
                    "submissions": tally.acknowledged,
                    "errors": len(tally.errors),
                    "cpu_ms_per_submission": round((end - start) / max(1, tally.acknowledged) * 1000, 2),
                    "recycled": log_count(instance.state / "error.log", "Autorestarting worker"),
                    "load": [round(load_before, 1), round(os.getloadavg()[0], 1)],
                }
            )
        return results
    finally:
        for instance in instances:
            instance.stop()
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str]) -> None:
    opts = {"a": "2x4", "b": "4x1", "seconds": "40", "clients": "16", "warmup": "10", "rounds": "2"}
    opts = parse_options(argv, opts)
    prepare_database()
    ratios = []
    for round_ in range(int(opts["rounds"])):
        specs = [opts["a"], opts["b"]] if round_ % 2 == 0 else [opts["b"], opts["a"]]
        results = one_round(specs, opts, first=round_ * 10_000_000)
        for result in results:
            print(json.dumps(result), flush=True)
        by_setup = {str(result["setup"]): float(result["cpu_ms_per_submission"]) for result in results}  # type: ignore[arg-type]
        ratios.append(by_setup[opts["b"]] / by_setup[opts["a"]])
    print(
        f"{opts['b']} / {opts['a']} CPU per submission (gunicorn + its nginx): "
        f"{', '.join(f'{r:.3f}' for r in ratios)} (median {statistics.median(ratios):.3f})"
    )


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
