"""Caller identification: accuracy on the shared development set, latency at scale.

    python -m bench identify                         # dev accuracy + 100k on SQLite
    python -m bench identify --dev-only
    python -m bench identify --postgres --households 1000000
    python -m bench identify --dev-only --dev=../shared/data/dev50k --record-decisions=before.jsonl
    python -m bench identify --dev-only --dev=../shared/data/dev50k --check-decisions=before.jsonl

Accuracy: the dev target list is loaded into a fresh database, every dev inquiry goes through
the engine as the CLI runs it, and `score.py` scores the output. Latency: synthetic households
(same notations and noise kinds as callers use) are bulk-inserted, indexed, and a few thousand
noisy inquiries are timed one by one (p50/p95/p99, milliseconds).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
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


def decision_line(query_id: Any, result: Any) -> str:
    """Everything `identify()` decided for one inquiry, as one JSON line: every candidate with
    its score and evidence (also when it abstained), the decision, its confidence and features
    (not the public id: a fresh load draws new ones). Two engines that write the same lines
    decide the same (`--record-decisions`)."""
    return json.dumps(
        {
            "query_id": query_id,
            "abstained": result.abstained,
            "in_list": result.in_list,
            "confidence": result.confidence,
            "listed": result.listed,
            "fields_used": result.fields_used,
            "features": result.features,
            "candidates": [
                {
                    "household": c.number,
                    "score": c.score,
                    "evidence": [[e.field, e.how, e.weight] for e in c.evidence],
                }
                for c in result.candidates
            ],
        },
        ensure_ascii=False,
        sort_keys=True,
    )


def compare_decisions(recorded: Path, written: Path) -> int:
    """Print the inquiries whose decision lines differ; return how many."""
    before = recorded.read_text(encoding="utf-8").splitlines()
    after = written.read_text(encoding="utf-8").splitlines()
    differ = [i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b]
    differ += list(range(min(len(before), len(after)), max(len(before), len(after))))
    for index in differ[:10]:
        print(f"  differs: line {index + 1}")
    print(f"decisions: {len(after)} lines, {len(differ)} differ from {recorded}")
    return len(differ)


def run_dev(program: Any, dev: Path = DEV, decisions: Path | None = None) -> dict[str, Any]:
    """Score the development set `dev`; with `decisions`, also write every result in full
    there (`decision_line`)."""
    from madoguchi.identify.engine import Query, identify
    from madoguchi.identify.indexer import reindex_program

    load_csv(program, dev / "targets.csv")
    reindex_program(program.pk)
    out = Path(tempfile.mkdtemp()) / "pred.jsonl"
    timings: list[float] = []
    full = decisions.open("w", encoding="utf-8") if decisions else None
    with (dev / "queries.jsonl").open(encoding="utf-8") as src, out.open("w", encoding="utf-8") as dst:
        for line in src:
            data = json.loads(line)
            started = time.perf_counter()
            result = identify(program.pk, Query.from_mapping(data))
            timings.append((time.perf_counter() - started) * 1000)
            if full is not None:
                full.write(decision_line(data["query_id"], result) + "\n")
            dst.write(
                json.dumps(
                    {
                        "query_id": data["query_id"],
                        "candidates": [{"household": c.number, "score": c.score} for c in result.answer],
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
    if full is not None:
        full.close()
    summary = Path(tempfile.mkdtemp()) / "summary.json"
    report = subprocess.run(
        [
            sys.executable,
            str(dev / "score.py"),
            "--truth",
            str(dev / "truth.jsonl"),
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


# --- synthetic lists at scale ------------------------------------------------------------

HIRA = {chr(cp + 0x60): chr(cp) for cp in range(0x3041, 0x3097)}


def to_hiragana(text: str) -> str:
    return "".join(HIRA.get(ch, ch) for ch in text)


# Family and given names built from parts, so a million households have a realistic spread of
# names (the Faker ja_JP lists hold only 50 family names: at a million, every name would be
# shared by thousands and the benchmark would measure nothing real).
FAMILY_HEADS = (
    ("田", "タ"),
    ("中", "ナカ"),
    ("山", "ヤマ"),
    ("川", "カワ"),
    ("小", "コ"),
    ("大", "オオ"),
    ("高", "タカ"),
    ("石", "イシ"),
    ("松", "マツ"),
    ("吉", "ヨシ"),
    ("長", "ナガ"),
    ("福", "フク"),
    ("竹", "タケ"),
    ("森", "モリ"),
    ("池", "イケ"),
    ("岡", "オカ"),
    ("西", "ニシ"),
    ("東", "ヒガシ"),
    ("北", "キタ"),
    ("南", "ミナミ"),
    ("上", "カミ"),
    ("宮", "ミヤ"),
    ("藤", "フジ"),
    ("平", "ヒラ"),
    ("金", "カネ"),
    ("桑", "クワ"),
    ("寺", "テラ"),
    ("新", "ニイ"),
    ("稲", "イナ"),
    ("村", "ムラ"),
    ("今", "イマ"),
    ("岩", "イワ"),
    ("菅", "スガ"),
    ("野", "ノ"),
    ("市", "イチ"),
    ("青", "アオ"),
    ("赤", "アカ"),
    ("白", "シラ"),
    ("黒", "クロ"),
    ("秋", "アキ"),
    ("春", "ハル"),
    ("浅", "アサ"),
)
FAMILY_TAILS = (
    ("田", "ダ"),
    ("山", "ヤマ"),
    ("川", "カワ"),
    ("木", "キ"),
    ("村", "ムラ"),
    ("本", "モト"),
    ("井", "イ"),
    ("野", "ノ"),
    ("原", "ハラ"),
    ("島", "ジマ"),
    ("橋", "ハシ"),
    ("沢", "サワ"),
    ("谷", "タニ"),
    ("岡", "オカ"),
    ("崎", "サキ"),
    ("塚", "ツカ"),
    ("部", "ベ"),
    ("辺", "ナベ"),
    ("内", "ウチ"),
    ("口", "グチ"),
    ("瀬", "セ"),
    ("浦", "ウラ"),
    ("尾", "オ"),
    ("森", "モリ"),
    ("林", "バヤシ"),
    ("池", "イケ"),
    ("宮", "ミヤ"),
    ("永", "ナガ"),
)
GIVEN_HEADS = (
    ("陽", "ハル"),
    ("蒼", "アオ"),
    ("結", "ユ"),
    ("悠", "ユウ"),
    ("美", "ミ"),
    ("大", "ダイ"),
    ("健", "ケン"),
    ("翔", "ショウ"),
    ("花", "ハナ"),
    ("真", "マ"),
    ("優", "ユウ"),
    ("和", "カズ"),
    ("愛", "アイ"),
    ("彩", "アヤ"),
    ("奈", "ナ"),
    ("莉", "リ"),
    ("颯", "ハヤ"),
    ("湊", "ミナ"),
    ("凛", "リン"),
    ("千", "チ"),
    ("恵", "メグ"),
    ("直", "ナオ"),
    ("智", "トモ"),
    ("裕", "ユウ"),
    ("拓", "タク"),
    ("亮", "リョウ"),
    ("沙", "サ"),
    ("由", "ユ"),
)
GIVEN_TAILS = (
    ("斗", "ト"),
    ("太", "タ"),
    ("人", "ト"),
    ("菜", "ナ"),
    ("子", "コ"),
    ("美", "ミ"),
    ("香", "カ"),
    ("也", "ヤ"),
    ("希", "キ"),
    ("輝", "キ"),
    ("介", "スケ"),
    ("樹", "キ"),
    ("奈", "ナ"),
    ("乃", "ノ"),
    ("葉", "ハ"),
    ("真", "マ"),
    ("里", "リ"),
    ("彦", "ヒコ"),
    ("央", "オ"),
    ("紀", "キ"),
)


class SyntheticList:
    """Households as rows of the shared CSV format (one row per child), fast and seeded."""

    def __init__(self, seed: int) -> None:
        from madoguchi.registry.demo_data import TOWNS

        self.rng = random.Random(seed)
        self.towns = TOWNS

    def _pick(
        self, heads: tuple[tuple[str, str], ...], tails: tuple[tuple[str, str], ...]
    ) -> tuple[str, str]:
        # Zipf-like: the first parts of each table are much more common, as real names are.
        head = heads[min(int(self.rng.paretovariate(1.2)) - 1, len(heads) - 1)]
        tail = tails[min(int(self.rng.paretovariate(1.0)) - 1, len(tails) - 1)]
        if self.rng.random() < 0.6:
            head = self.rng.choice(heads)
        if self.rng.random() < 0.6:
            tail = self.rng.choice(tails)
        return head[0] + tail[0], head[1] + tail[1]

    def household(self, index: int) -> list[list[str]]:
        rng = self.rng
        family, family_kana = self._pick(FAMILY_HEADS, FAMILY_TAILS)
        given, given_kana = self._pick(GIVEN_HEADS, GIVEN_TAILS)
        guardian_dob = datetime.date(1975, 1, 1) + datetime.timedelta(days=rng.randint(0, 20 * 365))
        town, chomes = rng.choice(self.towns)
        address = (
            f"東京都世田谷区{town}{rng.randint(1, chomes)}丁目{rng.randint(1, 40)}番{rng.randint(1, 30)}号"
        )
        if rng.random() < 0.45:
            building = rng.choice(("コーポ", "ハイツ", "メゾン"))
            address += f"　{building}{town}{rng.choice((101, 202, 305, 410, 1203))}号室"
        phone = (
            f"0{rng.choice('789')}0-{rng.randint(1000, 9999)}-{rng.randint(0, 9999):04d}"
            if rng.random() < 0.9
            else ""
        )
        email = f"u{index}@example.jp" if rng.random() < 0.5 else ""
        count = rng.choices((1, 2, 3), weights=(65, 27, 8))[0]
        rows = []
        twins = count >= 2 and rng.random() < 0.05
        dob = None
        for position in range(count):
            child, child_kana = self._pick(GIVEN_HEADS, GIVEN_TAILS)
            if not (twins and position == 1):
                dob = datetime.date(2019, 4, 2) + datetime.timedelta(days=rng.randint(0, 1095))
            assert dob is not None
            rows.append(
                [
                    f"H{index:08d}",
                    f"{family}　{child}",
                    f"{family_kana}　{child_kana}",
                    dob.isoformat(),
                    f"{family}　{given}",
                    f"{family_kana}　{given_kana}",
                    guardian_dob.isoformat(),
                    "",
                    address,
                    phone,
                    email,
                ]
            )
        return rows


def synthetic_households(
    households: int, *, seed: int, sample: int
) -> Iterator[tuple[int, list[list[str]], bool]]:
    """(index, CSV rows, kept for the inquiries?) for each synthetic household, deterministic."""
    generator = SyntheticList(seed)
    rng = random.Random(seed)
    keep = set(rng.sample(range(households), min(sample, households)))
    for index in range(households):
        yield index, generator.household(index), index in keep


def kept_sample(households: int, *, seed: int, sample: int) -> list[dict[str, Any]]:
    """The households `load_synthetic` kept, regenerated without inserting (for --reuse)."""
    return [
        {"number": rows[0][0], "rows": rows}
        for _, rows, kept in synthetic_households(households, seed=seed, sample=sample)
        if kept
    ]


def load_synthetic(program: Any, households: int, *, seed: int, sample: int) -> list[dict[str, Any]]:
    """Generate and insert `households` households; return a sample of them as dicts.

    PostgreSQL gets COPY and SQLite multi-row inserts with explicit ids: the ORM's bulk_create
    would take most of an hour for a million households and is not what is measured here.
    """
    import uuid

    from django.db import connection, transaction
    from django.utils import timezone

    from madoguchi.registry.importing.versions import GUARDIAN_FIELDS, RawInsert
    from madoguchi.registry.models import Child, Guardian, Household, TargetListImport

    # The next version of the program's list (the load run adds to the demo program's list).
    version = TargetListImport.objects.filter(program=program).order_by("-version").first()
    target_import = TargetListImport.objects.create(
        program=program,
        version=version.version + 1 if version else 1,
        file_name="synthetic.csv",
        sha256="0" * 64,
        status="applied",
    )
    kept: list[dict[str, Any]] = []
    now = timezone.now().isoformat()
    next_household = (Household.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    batch = 10_000
    started = time.perf_counter()
    h_cols = [
        "id",
        "public_id",
        "program",
        "number",
        "postal_code",
        "address",
        "address_key",
        "address_block_key",
        "content_hash",
        "first_import",
        "last_import",
        "created_at",
        "updated_at",
    ]
    # The same column order as the registry's own write path.
    g_cols = ["household", *GUARDIAN_FIELDS]
    c_cols = [
        "household",
        "name",
        "name_key",
        "given_name_key",
        "kana",
        "kana_key",
        "kana_loose_key",
        "given_kana_loose_key",
        "dob",
    ]
    stream = synthetic_households(households, seed=seed, sample=sample)
    for offset in range(0, households, batch):
        h_rows, g_rows, c_rows = [], [], []
        for index, rows, keep in itertools.islice(stream, batch):
            pk = next_household + index
            first = rows[0]
            h_rows.append(
                (
                    pk,
                    str(uuid.uuid4()),
                    program.pk,
                    first[0],
                    "",
                    first[8],
                    "",
                    "",
                    "",
                    target_import.pk,
                    target_import.pk,
                    now,
                    now,
                )
            )
            g_rows.append((pk, first[4], "", "", first[5], "", "", "", first[6], first[9], "", first[10], ""))
            for row in rows:
                c_rows.append((pk, row[1], "", "", row[2], "", "", "", row[3]))
            if keep:
                kept.append({"number": first[0], "rows": rows})
        with transaction.atomic():
            RawInsert(Household, h_cols).insert(h_rows)
            RawInsert(Guardian, g_cols).insert(g_rows)
            RawInsert(Child, c_cols).insert(c_rows)
        if (offset // batch) % 10 == 0:
            print(
                f"  loaded {offset + len(h_rows):,} households ({time.perf_counter() - started:.0f}s)",
                flush=True,
            )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{Household._meta.db_table}', 'id'), %s)",
                [next_household + households],
            )
            cursor.execute("ANALYZE")
    return kept


def prewarm_postgres() -> None:
    """Read the identification tables and indexes into memory, as a server in use has them.

    A freshly built index of a million households (about 3 GB) is partly on disk only; an
    operator's first searches of the day would touch it. The benchmark measures the steady
    state, so it loads it first (pg_prewarm, the PostgreSQL contrib module for this).
    """
    from django.db import connection

    from madoguchi.identify.models import IdentKey, IdentKeyStat, IdentProfile, IdentReading

    tables = [m._meta.db_table for m in (IdentKey, IdentKeyStat, IdentProfile, IdentReading)]
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        for table in tables:
            cursor.execute(
                "SELECT pg_prewarm(c.oid::regclass, 'read') FROM pg_class c WHERE c.oid = %s::regclass "
                "OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = %s::regclass)",
                [table, table],
            )


def _name_said(rng: random.Random, name: str, kana: str) -> tuple[str, str]:
    """(name field, kana field) as a caller or an operator might type them."""
    style = rng.random()
    plain = name.replace("\u3000", " ")
    if style < 0.35:
        said = plain
    elif style < 0.6:
        said = plain.replace(" ", "")
    elif style < 0.8 and kana:
        said = to_hiragana(kana.replace("\u3000", " "))
    else:
        said = plain
    kana_said = ""
    if kana and rng.random() < 0.3:
        kana_said = rng.choice((kana, to_hiragana(kana), kana.replace("\u3000", "")))
    return said, kana_said


def _date_said(rng: random.Random, value: datetime.date) -> str:
    from madoguchi.lib.dates import format_wareki, to_wareki

    era, year = to_wareki(value)
    return rng.choice(
        (
            format_wareki(value),
            f"{era.letter}{year}.{value.month}.{value.day}",
            f"{value.year}/{value.month}/{value.day}",
            f"{value.year}{value.month:02d}{value.day:02d}",
            value.isoformat(),
        )
    )


def _address_said(rng: random.Random, address: str) -> str:
    text = address.replace("\u3000", " ")
    if rng.random() < 0.5:
        text = text.split(" ")[0]
    for prefix in ("東京都", "世田谷区"):
        if text.startswith(prefix) and rng.random() < 0.5:
            text = text[len(prefix) :]
    return text


def make_queries(rng: random.Random, kept: list[dict[str, Any]], negatives: int) -> list[dict[str, Any]]:
    """Noisy inquiries from the sampled households, and callers who are not in the list."""
    from madoguchi.lib.dates import parse_date

    queries: list[dict[str, Any]] = []
    for index, item in enumerate(kept):
        rows = item["rows"]
        first = rows[0]
        child = rng.choice(rows)
        fields: dict[str, str] = {}
        name, kana = _name_said(rng, first[4], first[5])
        options = ["guardian_name", "child", "child_dob", "address", "phone", "guardian_dob"]
        chosen = set(rng.sample(options, rng.randint(2, 4)))
        if "guardian_name" in chosen or rng.random() < 0.5:
            fields["guardian_name"] = name
            if kana:
                fields["guardian_kana"] = kana
        if "child" in chosen:
            given = child[1].replace("\u3000", " ").split(" ")[-1]
            fields["child_name"] = given if rng.random() < 0.5 else child[1]
        if "child_dob" in chosen:
            fields["child_dob"] = _date_said(rng, parse_date(child[3]))
        if "address" in chosen:
            fields["address"] = _address_said(rng, first[8])
        if "phone" in chosen and first[9]:
            fields["phone"] = first[9].replace("-", rng.choice(("", "-", " ")))
        if "guardian_dob" in chosen:
            fields["guardian_dob"] = _date_said(rng, parse_date(first[6]))
        queries.append({"query_id": f"P{index}", "truth": item["number"], **fields})
    for index in range(negatives):
        synthetic = SyntheticList(rng.randint(0, 10**6))
        family, _fk = synthetic._pick(FAMILY_HEADS, FAMILY_TAILS)
        given, _gk = synthetic._pick(GIVEN_HEADS, GIVEN_TAILS)
        child, _ck = synthetic._pick(GIVEN_HEADS, GIVEN_TAILS)
        dob = datetime.date(2019, 4, 2) + datetime.timedelta(days=rng.randint(0, 1000))
        fields = {
            "guardian_name": f"{family} {given}",
            "child_name": child,
            "child_dob": _date_said(rng, dob),
        }
        if rng.random() < 0.5:
            fields["phone"] = f"090{rng.randint(10**7, 10**8 - 1)}"
        queries.append({"query_id": f"N{index}", "truth": None, **fields})
    rng.shuffle(queries)
    return queries


def run_scale(
    households: int, queries: int, *, database_url: str | None, reuse: bool = False
) -> dict[str, Any]:
    """One configuration in this process: load, index, time `queries` inquiries.

    With `reuse`, a PostgreSQL database left by an earlier run with the same list size is
    measured again without rebuilding it (the list and its sample are deterministic).
    """
    setup(database_url)
    from madoguchi.identify.engine import Query, identify
    from madoguchi.identify.indexer import ensure_index, reindex_program
    from madoguchi.identify.models import IdentIndexState
    from madoguchi.registry.models import Household

    program = make_program("bench-scale")
    rng = random.Random(7)
    sample = int(queries * 0.85)
    state = IdentIndexState.objects.filter(program=program).first()
    build_record = _build_record(households)
    reused = bool(
        reuse
        and build_record.exists()
        and state is not None
        and state.household_count == households
        and Household.objects.filter(program=program).count() == households
    )
    load_seconds = index_seconds = 0.0
    if reused:
        kept = kept_sample(households, seed=11, sample=sample)
        index_seconds = json.loads(build_record.read_text())["index_seconds"]
    else:
        build_record.unlink(missing_ok=True)
        started = time.perf_counter()
        kept = load_synthetic(program, households, seed=11, sample=sample)
        load_seconds = time.perf_counter() - started
        started = time.perf_counter()
        reindex_program(program.pk)
        index_seconds = time.perf_counter() - started
        if reuse:
            build_record.write_text(json.dumps({"index_seconds": index_seconds}))
    ensure_index(program.pk)
    if database_url:
        prewarm_postgres()
    inquiries = make_queries(rng, kept, queries - len(kept))
    for warm in inquiries[:20]:
        identify(program.pk, Query.from_mapping(warm))
    timings: list[float] = []
    # This process's CPU time per search as well: on a busy machine wall time mostly measures
    # the others (SQLite runs in this process; PostgreSQL's share is not in it).
    cpu: list[float] = []
    load_start = os.getloadavg()[0]
    hits = misses = false_matches = negatives = 0
    for inquiry in inquiries:
        begun, begun_cpu = time.perf_counter(), time.process_time()
        result = identify(program.pk, Query.from_mapping(inquiry))
        timings.append((time.perf_counter() - begun) * 1000)
        cpu.append((time.process_time() - begun_cpu) * 1000)
        top = result.answer[0].number if result.answer else None
        if inquiry["truth"] is None:
            negatives += 1
            false_matches += top is not None
        elif top == inquiry["truth"]:
            hits += 1
        else:
            misses += 1
    return {
        "load_start": load_start,
        "load_average": os.getloadavg()[0],
        "households": households,
        "database": "PostgreSQL" if database_url else "SQLite",
        "load_seconds": load_seconds,
        "index_seconds": index_seconds,
        "reused": reused,
        "queries": len(inquiries),
        "latency": _percentiles(timings),
        "cpu": _percentiles(cpu),
        "top1": hits / max(1, hits + misses),
        "fmr": false_matches / max(1, negatives),
    }


def _build_record(households: int) -> Path:
    """Where a kept index's build time is remembered (beside the database, outside it), one
    file per benchmark database: checkouts that share /tmp keep their own."""
    return Path(tempfile.gettempdir()) / f"mdg-bench-identify-{PG_DB}-{households}.json"


PG_SERVER = "postgres://postgres@127.0.0.1:5432"
# Another name when several checkouts benchmark on one server (MADOGUCHI_BENCH_PG_DB=hA_bench_identify).
PG_DB = os.environ.get("MADOGUCHI_BENCH_PG_DB", "mdg_bench_identify")


def fresh_postgres(*, keep: bool = False) -> str:
    """The benchmark database, recreated empty unless `keep` (and it exists)."""
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [PG_DB]).fetchone()
        if not (keep and exists):
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DB}")
            conn.execute(f"CREATE DATABASE {PG_DB}")
    return f"{PG_SERVER}/{PG_DB}"


def _in_child(args: list[str]) -> dict[str, Any]:
    """Run one configuration in a fresh process (Django is set up once per process)."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.identify", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
    )
    sys.stdout.write(out.stdout[-4000:])
    if out.returncode != 0:
        sys.stderr.write(out.stderr[-4000:])
        raise SystemExit(f"benchmark child failed: {args}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _row(r: dict[str, Any]) -> str:
    lat = r["latency"]
    return (
        f"| {r['households']:,} | {r['database']} | {lat['p50']:.1f} | {lat['p95']:.1f} | {lat['p99']:.1f} | "
        f"{100 * r['top1']:.1f} % | {100 * r['fmr']:.1f} % | {r['index_seconds']:.0f} s | "
        f"{r.get('load_start', 0):.1f}–{r.get('load_average', 0):.1f} |"
    )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench identify")
    parser.add_argument("--dev-only", action="store_true")
    parser.add_argument("--dev", type=Path, default=DEV, help="development set folder (dev, dev50k)")
    parser.add_argument("--households", type=int, default=100_000, help="SQLite list size")
    parser.add_argument("--pg-households", type=int, default=1_000_000, help="PostgreSQL list size")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--queries", type=int, default=3000)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the PostgreSQL benchmark database and its index between runs (rebuilt if absent)",
    )
    parser.add_argument(
        "--record-decisions",
        type=Path,
        metavar="FILE",
        help="with --dev-only: write every result of the development set in full to FILE",
    )
    parser.add_argument(
        "--check-decisions",
        type=Path,
        metavar="FILE",
        help="with --dev-only: compare every result with FILE (--record-decisions); exit 1 if any differs",
    )
    parser.add_argument("--child", nargs=2, metavar=("DATABASE", "HOUSEHOLDS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        database, households = args.child
        keep = args.reuse and _build_record(int(households)).exists()
        url = fresh_postgres(keep=keep) if database == "postgres" else None
        print(json.dumps(run_scale(int(households), args.queries, database_url=url, reuse=args.reuse)))
        return
    if args.dev_only:
        setup(None)
        written = args.record_decisions
        if args.check_decisions:
            written = Path(tempfile.mkdtemp()) / "decisions.jsonl"
        figures = run_dev(make_program("bench-dev"), args.dev, written)
        overall = figures["overall"]
        lat = figures["latency"]
        print(f"dev: top1={overall['top1']:.4f} fmr={overall['fmr']:.4f}")
        print(f"latency: p50 {lat['p50']:.1f} ms, p95 {lat['p95']:.1f} ms, load {os.getloadavg()[0]:.1f}")
        if args.check_decisions and written and compare_decisions(args.check_decisions, written):
            raise SystemExit(1)
        return
    dev = _in_child_dev()
    runs = [_in_child(["--child", "sqlite", str(args.households), "--queries", str(args.queries)])]
    if not args.no_postgres:
        runs.append(
            _in_child(
                ["--child", "postgres", str(args.pg_households), "--queries", str(args.queries)]
                + (["--reuse"] if args.reuse else [])
            )
        )
    overall = dev["overall"]
    ops = dev.get("operating_points", {})
    body = [
        "Caller identification (`python -m bench identify`; engine: `madoguchi/identify/`).",
        "",
        f"**Shared development set** (`shared/data/dev`, 2,000 households, 1,000 inquiries, scored by "
        f"`score.py`): top-1 on callers in the list **{100 * overall['top1']:.2f} %** (target ≥ 98 %), "
        f"recall@5 {100 * overall['recall@5']:.2f} %, abstained on callers in the list "
        f"{100 * overall['abstain_pos']:.2f} %, callers not in the list matched (FMR) "
        f"**{100 * overall['fmr']:.2f} %** (target ≤ 1 %). "
        f"Top-1 at FMR ≤ 1 % by score threshold: {100 * ops.get('top1_at_fmr_1pct', 0):.2f} %. "
        f"Latency on that list: p50 {dev['latency']['p50']:.1f} ms, p95 {dev['latency']['p95']:.1f} ms.",
        "",
        "**Latency at scale**: synthetic lists (`SyntheticList` in `bench/identify.py`: names from "
        f"tables of name parts, real Setagaya towns), {args.queries:,} noisy inquiries "
        "each (85 % from the list: names with or without the space or in hiragana, given names only, "
        "era dates, addresses without prefecture or building, phones in several notations; 15 % "
        "callers who are not in the list), one at a time through `identify()` as the CLI and the panel "
        "call it. Accuracy on these synthetic inquiries is shown for sanity only; the held-out "
        "figures of the calibrated decision are in docs/identification.md (`bench/identify_calibration.py`).",
        "",
        "| households | database | p50 ms | p95 ms | p99 ms | top-1 | FMR | index build | load avg |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *(_row(r) for r in runs),
        "",
        "Targets: p95 ≤ 10 ms at 50,000 households on SQLite and ≤ 20 ms at 1,000,000 on PostgreSQL "
        "(issue 13; issue 3 asked ≤ 50 ms). The machine has 2 cores shared with other sessions: the "
        "last column is the 1-minute load average at the start and the end of the timed searches "
        "(2.0 = both cores busy); wall-clock latencies scale roughly with it. CPU time of the "
        "benchmark process per search (with SQLite the whole search, with PostgreSQL the client's "
        "share only), which the load changes much less: "
        + "; ".join(
            f"{r['households']:,} {r['database']} p50 {r['cpu']['p50']:.1f} ms, p95 {r['cpu']['p95']:.1f} ms"
            for r in runs
            if "cpu" in r
        )
        + ".",
        "",
        "How the PostgreSQL figure is taken: the index is built by `reindex_program` as an import or "
        "`identify-reindex` builds it, which ends with a VACUUM (ANALYZE) of the index tables (without "
        "it, index-only scans of a freshly written key table visit the table for every row and p95 was "
        "about 55 ms). Before timing, the index tables are read into the page cache with pg_prewarm, "
        "as on a server in use. With `--reuse` the benchmark database is kept between runs and the "
        "index-build column shows the build time of the run that built it.",
        "",
        "With names drawn from small tables of name parts, many callers' names are shared by dozens of "
        "households in a million, which is why top-1 on the synthetic inquiries falls there: "
        "the engine abstains rather than guesses, and FMR stays below 1 %.",
    ]
    from bench.report import write_section

    write_section("identify", "\n".join(body))
    print("\n".join(body))


def _in_child_dev() -> dict[str, Any]:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import bench.identify as b, json; b.setup(None); "
            "f = b.run_dev(b.make_program('bench-dev')); f.pop('report'); print(json.dumps(f))",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main(sys.argv[1:])
