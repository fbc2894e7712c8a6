"""Caller identification: accuracy on the shared development set, latency at scale.

    python -m bench identify                         # dev accuracy + 100k on SQLite
    python -m bench identify --dev-only
    python -m bench identify --postgres --households 1000000

Accuracy: the dev target list is loaded into a fresh database, every dev inquiry goes through
the engine as the CLI runs it, and `score.py` scores the output. Latency: synthetic households
(same notations and noise kinds as callers use) are bulk-inserted, indexed, and a few thousand
noisy inquiries are timed one by one (p50/p95/p99, milliseconds).
"""

from __future__ import annotations

import csv
import datetime
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DEV = Path(os.environ.get("MADOGUCHI_DEV_DATA", "/work/shared/data/dev"))
if not DEV.exists():
    DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "dev"


def setup(database_url: str | None) -> None:
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
        os.environ["MADOGUCHI_VAR_DIR"] = tempfile.mkdtemp(prefix="mdg-bench-identify-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_program(code: str) -> Any:
    from madoguchi.accounts.models import Organisation
    from madoguchi.programs.models import Program

    ward, _ = Organisation.objects.get_or_create(code="bench-ward", defaults={"name": "区", "kind": "ward"})
    Program.objects.filter(code=code).delete() if not Program.objects.filter(code=code).exists() else None
    program, _ = Program.objects.get_or_create(
        code=code,
        defaults={
            "name": code,
            "ward": ward,
            "recording_start": datetime.date(2020, 1, 1),
            "recording_end": datetime.date(2030, 1, 1),
        },
    )
    return program


def _date(value: str) -> datetime.date:
    from madoguchi.lib.dates import parse_date

    return parse_date(value)


def load_csv(program: Any, path: Path) -> int:
    """A minimal loader for the shared CSV format (the registry's import does the real work)."""
    from django.db import transaction

    with transaction.atomic():
        return _load_csv(program, path)


def _load_csv(program: Any, path: Path) -> int:
    from madoguchi.lib.text import name_key
    from madoguchi.registry.models import Child, Guardian, Household, TargetListImport

    target_import = TargetListImport.objects.create(
        program=program, version=1, file_name=path.name, sha256="0" * 64, status="applied"
    )
    households: dict[str, list[dict[str, str]]] = {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            households.setdefault(row["世帯番号"], []).append(row)
    for number, rows in households.items():
        first = rows[0]
        household = Household.objects.create(
            program=program,
            number=number,
            address=first["住所"],
            address_key=name_key(first["住所"])[:300],
            content_hash="",
            first_import=target_import,
            last_import=target_import,
        )
        Guardian.objects.create(
            household=household,
            name=first["保護者氏名"],
            name_key=name_key(first["保護者氏名"]),
            kana=first.get("保護者氏名カナ", ""),
            dob=_date(first["保護者生年月日"]),
            phone=first.get("電話番号", ""),
            email=first.get("メールアドレス", ""),
        )
        for row in rows:
            Child.objects.create(
                household=household,
                name=row["児童氏名"],
                name_key=name_key(row["児童氏名"]),
                kana=row.get("児童氏名カナ", ""),
                dob=_date(row["児童生年月日"]),
            )
    return len(households)


def run_dev(program: Any) -> dict[str, Any]:
    from madoguchi.identify.engine import Query, identify
    from madoguchi.identify.indexer import reindex_program

    load_csv(program, DEV / "targets.csv")
    reindex_program(program.pk)
    out = Path(tempfile.mkdtemp()) / "pred.jsonl"
    timings: list[float] = []
    with (DEV / "queries.jsonl").open(encoding="utf-8") as src, out.open("w", encoding="utf-8") as dst:
        for line in src:
            data = json.loads(line)
            started = time.perf_counter()
            result = identify(program.pk, Query.from_mapping(data))
            timings.append((time.perf_counter() - started) * 1000)
            cands = [] if result.abstained else result.candidates
            dst.write(
                json.dumps(
                    {
                        "query_id": data["query_id"],
                        "candidates": [{"household": c.number, "score": c.score} for c in cands],
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
    summary = Path(tempfile.mkdtemp()) / "summary.json"
    report = subprocess.run(
        [
            sys.executable,
            str(DEV / "score.py"),
            "--truth",
            str(DEV / "truth.jsonl"),
            "--pred",
            str(out),
            "--json",
            str(summary),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    print(report)
    print(f"predictions: {out}")
    figures = json.loads(summary.read_text())
    figures["report"] = report
    figures["latency"] = _percentiles(timings)
    return figures


def _percentiles(timings: list[float]) -> dict[str, float]:
    ordered = sorted(timings)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))]

    return {"p50": pct(0.50), "p95": pct(0.95), "p99": pct(0.99), "mean": statistics.fmean(ordered)}


def main(argv: list[str]) -> None:
    dev_only = "--dev-only" in argv
    setup(None)
    program = make_program("bench-dev")
    figures = run_dev(program)
    overall = figures["overall"]
    print(
        f"dev: top1={overall['top1']:.4f} fmr={overall['fmr']:.4f} "
        f"latency p50={figures['latency']['p50']:.1f}ms p95={figures['latency']['p95']:.1f}ms"
    )
    if dev_only:
        return
    random.seed(1)
