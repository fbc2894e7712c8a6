"""Target-list import: wall time and peak memory, on SQLite and PostgreSQL.

`python -m bench import_targets [--rows N] [--no-postgres] [--no-write]`

Generates a synthetic list of N child rows (default 100,000) in CP932 and the 2,000-household
demo list, then imports each into a fresh database, every run in its own process so that the
peak RSS (VmHWM) is the import's own. Targets (issue 2): 100,000 rows in at most 30 s with a
peak under 300 MB on both databases; 2,000 households in under 3 s.

Then, in the same process, the identification index is built in full and a second version
that moves 1 % of the households (a new address) is imported: identification's hook updates
the index of those households inside the import (issue 3), timed apart.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
PG_DB = "mdg_bench_registry"
TARGET_SECONDS = {"large": 30.0, "small": 3.0}
TARGET_MB = 300.0


def peak_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


UPDATE_SHARE = 0.01


def moved_version(source: Path, target: Path, encoding: str) -> int:
    """`source` with every 100th household at a new address; returns how many moved."""
    import csv

    with source.open(encoding=encoding, newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    number, address = header.index("世帯番号"), header.index("住所")
    numbers = sorted({row[number] for row in body})
    moved = set(numbers[:: int(1 / UPDATE_SHARE)])
    with target.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header)
        for row in body:
            if row[number] in moved:
                row[address] = row[address] + " 別館"
            writer.writerow(row)
    return len(moved)


def child(database_url: str, path: str, with_hooks: bool = True, update_path: str = "") -> None:
    """One import in this process, into an empty database; prints a JSON line."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
    import django

    django.setup()
    import datetime

    from django.core.management import call_command

    from madoguchi.accounts.models import Organisation
    from madoguchi.programs.models import Program
    from madoguchi.registry import hooks
    from madoguchi.registry.models import Child, Household
    from madoguchi.registry.services import import_target_list

    # Other apps' callbacks (identification rebuilds its index) run inside the import's
    # transaction; their share is timed apart so that each app can read its own figure.
    hook_seconds = [0.0]
    if not with_hooks:
        hooks._callbacks.clear()
    original_list_applied = hooks.list_applied

    def timed_list_applied(*args: object) -> None:
        started = time.perf_counter()
        original_list_applied(*args)  # type: ignore[arg-type]
        hook_seconds[0] += time.perf_counter() - started

    hooks.list_applied = timed_list_applied  # type: ignore[assignment]

    call_command("migrate", verbosity=0)
    ward = Organisation.objects.create(code="bench-ward", name="ベンチ区", kind=Organisation.Kind.WARD)
    program = Program.objects.create(
        code="bench",
        name="ベンチ",
        ward=ward,
        recording_start=datetime.date(2023, 2, 3),
        recording_end=datetime.date(2023, 5, 10),
        child_dob_from=datetime.date(2019, 4, 2),
        child_dob_to=datetime.date(2022, 4, 1),
    )
    before = peak_rss_mb()
    started = time.perf_counter()
    cpu_started = time.process_time()
    report = import_target_list(program=program, path=Path(path), file_name=Path(path).name)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    again_started = time.perf_counter()
    again = import_target_list(program=program, path=Path(path), file_name=Path(path).name)
    again_seconds = time.perf_counter() - again_started
    import_peak = peak_rss_mb()
    import_hook_seconds = hook_seconds[0]
    import_load = os.getloadavg()[0]
    update: dict[str, object] = {}
    if update_path and with_hooks:
        from madoguchi.identify.indexer import reindex_program
        from madoguchi.identify.models import IdentIndexState

        index_started = time.perf_counter()
        reindex_program(program.pk)
        index_seconds = time.perf_counter() - index_started
        hook_seconds[0] = 0.0
        update_started = time.perf_counter()
        moved = import_target_list(program=program, path=Path(update_path), file_name=Path(update_path).name)
        update_seconds = time.perf_counter() - update_started
        state = IdentIndexState.objects.get(program=program)
        assert moved.target_import is not None
        update = {
            "index_seconds": index_seconds,
            "update_seconds": update_seconds,
            "update_hook_seconds": hook_seconds[0],
            "update_changed": moved.changed,
            "update_mode": (
                "incremental" if state.source_import_id == moved.target_import.pk else "left to a rebuild"
            ),
        }
    print(
        json.dumps(
            {
                **update,
                "seconds": seconds,
                "cpu_seconds": cpu_seconds,
                "hook_seconds": import_hook_seconds,
                "load": import_load,
                "peak_mb": import_peak,
                "baseline_mb": before,
                "status": str(report.status),
                "problems": report.problem_count,
                "rows": report.row_count,
                "households": Household.objects.count(),
                "children": Child.objects.count(),
                "again_status": str(again.status),
                "again_seconds": again_seconds,
            }
        )
    )


def reset_postgres() -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{PG_DB}"')
        connection.execute(f"CREATE DATABASE \"{PG_DB}\" ENCODING 'UTF8' TEMPLATE template0")


def drop_postgres() -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{PG_DB}"')


def run_one(
    database_url: str, path: Path, with_hooks: bool, update_path: Path | None = None
) -> dict[str, object]:
    command = [sys.executable, "-m", "bench.import_targets", "--child", database_url, str(path)]
    if not with_hooks:
        command.append("--no-hooks")
    if update_path is not None:
        command += ["--update", str(update_path)]
    result = subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"import failed:\n{result.stderr[-3000:]}")
    data: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return data


def generate(directory: Path, rows: int) -> dict[str, Path]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
    import django

    django.setup()
    from madoguchi.registry.demo_data import write_csv

    large = directory / f"targets-{rows}-cp932.csv"
    small = directory / "targets-2000-households.csv"
    started = time.perf_counter()
    count = write_csv(large, child_rows=rows, seed=7, encoding="cp932")
    took = time.perf_counter() - started
    print(f"generated {count:,} rows ({large.stat().st_size / 1e6:.1f} MB) in {took:.1f} s")
    write_csv(small, households=2000, seed=2023, encoding="utf-8-sig")
    files = {"large": large, "small": small}
    for size, encoding in (("large", "cp932"), ("small", "utf-8-sig")):
        moved = directory / f"{files[size].stem}-moved.csv"
        moved_version(files[size], moved, encoding)
        files[f"{size}-moved"] = moved
    return files


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench import_targets")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md")
    parser.add_argument(
        "--no-hooks", action="store_true", help="without other apps' callbacks (the registry's own cost)"
    )
    parser.add_argument("--child", nargs=2, metavar=("DATABASE_URL", "FILE"), help=argparse.SUPPRESS)
    parser.add_argument("--update", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child, with_hooks=not args.no_hooks, update_path=args.update)
        return
    results: list[tuple[str, str, dict[str, object]]] = []
    with tempfile.TemporaryDirectory(prefix="mdg-bench-import-") as directory:
        files = generate(Path(directory), args.rows)
        databases = [("SQLite", "sqlite")]
        if not args.no_postgres:
            databases.append(("PostgreSQL", "postgres"))
        for label, kind in databases:
            for size in ("small", "large"):
                if kind == "sqlite":
                    url = f"sqlite:///{directory}/bench-{size}.sqlite3"
                else:
                    reset_postgres()
                    url = f"{PG_SERVER}/{PG_DB}"
                data = run_one(
                    url, files[size], with_hooks=not args.no_hooks, update_path=files[f"{size}-moved"]
                )
                print(f"{label:<10} {size:<5} {json.dumps(data)}", flush=True)
                results.append((label, size, data))
        if not args.no_postgres:
            drop_postgres()
    lines = [
        f"Import of a synthetic CP932 list of {args.rows:,} child rows and of the 2,000-household demo "
        "list (UTF-8), each into an empty database in its own process (`python -m bench import_targets`). "
        "Peak is the process's VmHWM (Django and the database driver included). "
        "The re-import of the same file (no change) is timed too. "
        + (
            "Run with `--no-hooks`: the registry's own work, without other apps' callbacks."
            if args.no_hooks
            else "Other apps' callbacks (identification's index: left to a full rebuild after a first "
            "import) run inside the import and are included; their share is the 'of which hooks' column."
        ),
        "",
        "| database | list | rows | households | wall time | of which hooks | CPU (import process) "
        "| load avg | target | peak RSS | re-import |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    failed = []
    for label, size, data in results:
        seconds = float(data["seconds"])  # type: ignore[arg-type]
        peak = float(data["peak_mb"])  # type: ignore[arg-type]
        target = TARGET_SECONDS[size]
        ok = seconds <= target and peak < TARGET_MB
        if not ok:
            failed.append(f"{label} {size}")
        name = f"{args.rows:,} rows CP932" if size == "large" else "2,000 households"
        lines.append(
            f"| {label} | {name} | {data['rows']:,} | {data['households']:,} | {seconds:.1f} s | "
            f"{float(data['hook_seconds']):.1f} s | {float(data['cpu_seconds']):.1f} s | "  # type: ignore[arg-type]
            f"{float(data['load']):.1f} | "  # type: ignore[arg-type]
            f"≤ {target:.0f} s {'✓' if ok else '✗'} | {peak:.0f} MB | "
            f"{float(data['again_seconds']):.1f} s ({data['again_status']}) |"  # type: ignore[arg-type]
        )
    lines.append("")
    lines.append("All targets met." if not failed else "Targets missed: " + ", ".join(failed) + ".")
    updates = [(label, size, data) for label, size, data in results if "update_seconds" in data]
    if updates:
        lines += [
            "",
            "Then, in the same process: identification's index built in full, and a second version "
            f"that gives {UPDATE_SHARE:.0%} of the households a new address imported; identification's "
            "hook updates the index of those households inside the import (docs/identification.md).",
            "",
            "| database | list | full index build | households changed | import of the change "
            "| of which index update | index |",
            "| --- | --- | ---: | ---: | ---: | ---: | --- |",
        ]
        for label, size, data in updates:
            name = f"{args.rows:,} rows CP932" if size == "large" else "2,000 households"
            lines.append(
                f"| {label} | {name} | {float(data['index_seconds']):.1f} s | {data['update_changed']:,} | "  # type: ignore[arg-type]
                f"{float(data['update_seconds']):.1f} s | {float(data['update_hook_seconds']):.1f} s | "  # type: ignore[arg-type]
                f"{data['update_mode']} |"
            )
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        from bench.report import write_section

        write_section("import_targets", body)


if __name__ == "__main__":
    main(sys.argv[1:])
