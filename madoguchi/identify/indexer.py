"""Build identification's index of a program's target list from the registry.

For each household still in the list: its blocking keys (IdentKey), how common each key is
(IdentKeyStat) and its comparison profile (IdentProfile). The whole program is rebuilt at
once: a list version is applied rarely, and a rebuild cannot leave half-old keys behind.
"""

from __future__ import annotations

import datetime
import io
import json
import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from madoguchi.identify.models import IdentIndexState, IdentKey, IdentKeyStat, IdentProfile, IdentReading
from madoguchi.identify.normalize import (
    PersonKeys,
    address_block_keys,
    email_key,
    infer_family_split,
    loose_key,
    parse_address,
    person_keys,
    spoken_phone,
)
from madoguchi.programs.models import Program
from madoguchi.registry.models import Child, Guardian, Household, TargetListImport

logger = logging.getLogger(__name__)

BATCH = 5000


def person_index_keys(person: PersonKeys) -> list[str]:
    # The whole name is always a key too: a caller's full name then hits a handful of
    # households directly, where family and given name alone may each be shared by thousands.
    keys: list[str] = []
    if person.whole:
        keys.append(f"w:{person.whole}")
    if person.family and person.given:
        keys += [f"f:{person.family}", f"g:{person.given}"]
    if person.whole_kana:
        keys.append(f"wk:{loose_key(person.whole_kana)}")
    if person.family_kana and person.given_kana:
        keys += [f"fk:{loose_key(person.family_kana)}", f"gk:{loose_key(person.given_kana)}"]
    if person.dob:
        keys.append(f"{'gd' if person.role == 'g' else 'cd'}:{person.dob}")
    return keys


def household_profile(
    *,
    number: str,
    public_id: str,
    address: str,
    guardians: Iterable[Any],
    children: Iterable[Any],
) -> tuple[dict[str, Any], list[str]]:
    """The profile (comparison forms) and the blocking keys of one household."""
    people = [person_keys("g", g.name, g.kana, g.dob) for g in guardians]
    people += [person_keys("c", c.name, c.kana, c.dob) for c in children]
    infer_family_split(people)
    addr = parse_address(address)
    guardians = list(guardians)
    phones = sorted({p for p in (spoken_phone(g.phone) for g in guardians) if p})
    emails = sorted({e for e in (email_key(g.email) for g in guardians) if e})
    keys: list[str] = []
    for person in people:
        keys += person_index_keys(person)
    keys += address_block_keys(addr)
    keys += [f"t:{p}" for p in phones] + [f"e:{e}" for e in emails]
    unique_keys = list(dict.fromkeys(k for k in keys if len(k) <= 160))
    profile = {
        "no": number,
        "pid": public_id,
        "p": [
            {
                "r": p.role,
                "f": p.family,
                "g": p.given,
                "w": p.whole,
                "fk": p.family_kana,
                "gk": p.given_kana,
                "wk": p.whole_kana,
                "d": p.dob,
            }
            for p in people
        ],
        "a": {
            "t": addr.town,
            "tk": addr.town_kana,
            "n": addr.numbers,
            "b": addr.building,
            "r": addr.room,
        },
        "t": phones,
        "e": emails,
        # Its keys, so a search can look up how common each is (IdentKeyStat) in one query.
        "k": unique_keys,
    }
    return profile, unique_keys


CHUNK = 5000


@dataclass
class _Person:
    name: str
    kana: str
    dob: datetime.date | None
    phone: str = ""
    email: str = ""


def _chunks(program_id: int) -> Iterator[list[tuple[int, dict[str, Any], list[str]]]]:
    """(household id, profile, keys) of the program's current households, CHUNK at a time.

    Plain rows, not model instances: a million households must index in minutes.
    """
    households = Household.objects.filter(program_id=program_id, removed_by_import__isnull=True)
    last = 0
    while True:
        rows = list(
            households.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "number", "public_id", "address")[:CHUNK]
        )
        if not rows:
            return
        ids = [row[0] for row in rows]
        last = ids[-1]
        guardians: dict[int, list[_Person]] = defaultdict(list)
        for hid, name, kana, dob, phone, email in (
            Guardian.objects.filter(household_id__in=ids)
            .order_by("pk")
            .values_list("household_id", "name", "kana", "dob", "phone", "email")
        ):
            guardians[hid].append(_Person(name, kana, dob, phone, email))
        children: dict[int, list[_Person]] = defaultdict(list)
        for hid, name, kana, dob in (
            Child.objects.filter(household_id__in=ids)
            .order_by("dob", "pk")
            .values_list("household_id", "name", "kana", "dob")
        ):
            children[hid].append(_Person(name, kana, dob))
        chunk = []
        for pk, number, public_id, address in rows:
            profile, keys = household_profile(
                number=number,
                public_id=str(public_id),
                address=address,
                guardians=guardians[pk],
                children=children[pk],
            )
            chunk.append((pk, profile, keys))
        yield chunk


def latest_import_id(program_id: int) -> int | None:
    return (
        TargetListImport.objects.filter(program_id=program_id, status=TargetListImport.Status.APPLIED)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )


def _copy_rows(table: str, columns: list[str], rows: Iterable[tuple[Any, ...]]) -> None:
    """PostgreSQL COPY: a million households' keys load in minutes instead of an hour."""
    with connection.cursor() as cursor:
        raw: Any = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            buffer = io.StringIO()
            for count, row in enumerate(rows, start=1):
                buffer.write("\t".join(_copy_value(v) for v in row) + "\n")
                if count % BATCH == 0:
                    copy.write(buffer.getvalue())
                    buffer = io.StringIO()
            copy.write(buffer.getvalue())


def _copy_value(value: Any) -> str:
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _insert_rows(table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    if connection.vendor == "postgresql":
        _copy_rows(table, columns, rows)
        return
    marks = ", ".join(["%s"] * len(columns))
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)  # noqa: S608


@transaction.atomic
def reindex_program(program_id: int, *, only_if_stale: bool = False) -> int:
    """Rebuild the whole index of one program. Returns the number of households indexed.

    The program's row is locked first, so two searches that find the index stale at the same
    moment rebuild it once, one after the other (the second finds it fresh).
    """
    Program.objects.select_for_update().filter(pk=program_id).first()
    source = latest_import_id(program_id)
    if only_if_stale:
        state = IdentIndexState.objects.filter(program_id=program_id).first()
        if state is not None and state.source_import_id == source:
            return state.household_count
    IdentKey.objects.filter(program_id=program_id).delete()
    IdentKeyStat.objects.filter(program_id=program_id).delete()
    IdentProfile.objects.filter(program_id=program_id).delete()
    IdentReading.objects.filter(program_id=program_id).delete()
    readings: set[tuple[str, str]] = set()
    total = 0
    for chunk in _chunks(program_id):
        total += len(chunk)
        _insert_rows(
            IdentKey._meta.db_table,
            ["program_id", "household_id", "key"],
            [(program_id, pk, key) for pk, _p, keys in chunk for key in keys],
        )
        _insert_rows(
            IdentProfile._meta.db_table,
            ["program_id", "household_id", "data"],
            [(program_id, pk, json.dumps(p, ensure_ascii=False)) for pk, p, _k in chunk],
        )
        for _pk, profile, _keys in chunk:
            for person in profile["p"]:
                for kanji, kana in ((person["f"], person["fk"]), (person["g"], person["gk"])):
                    if kanji and kana and kanji != kana and len(kanji) <= 60 and len(kana) <= 60:
                        readings.add((kanji, kana))
    # A household's keys are distinct, so a key's row count is its number of households.
    key_table, stat_table = IdentKey._meta.db_table, IdentKeyStat._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {stat_table} (program_id, key, count) SELECT program_id, key, COUNT(*) "  # noqa: S608
            f"FROM {key_table} WHERE program_id = %s GROUP BY program_id, key",
            [program_id],
        )
    _insert_rows(
        IdentReading._meta.db_table,
        ["program_id", "text", "reading"],
        [(program_id, t, r) for t, r in readings],
    )
    if connection.vendor == "postgresql":
        # Fresh statistics, or the planner may scan a freshly filled table instead of its index.
        with connection.cursor() as cursor:
            for model in (IdentKey, IdentKeyStat, IdentProfile, IdentReading):
                cursor.execute(f"ANALYZE {model._meta.db_table}")
    IdentIndexState.objects.update_or_create(
        program_id=program_id,
        defaults={"source_import_id": source, "household_count": total, "built_at": timezone.now()},
    )
    forget(program_id)
    logger.info("identify index rebuilt", extra={"program_id": program_id, "households": total})
    return total


# program id -> (state, monotonic time it was checked): a call centre searches many times a
# second, while a list version is applied a few times a month.
_checked: dict[int, tuple[IdentIndexState, float]] = {}
RECHECK_SECONDS = 5.0


def ensure_index(program_id: int) -> IdentIndexState:
    """The program's index state, rebuilding the index first when the list changed since."""
    cached = _checked.get(program_id)
    if cached is not None and time.monotonic() - cached[1] < RECHECK_SECONDS:
        return cached[0]
    state = IdentIndexState.objects.filter(program_id=program_id).first()
    source = latest_import_id(program_id)
    if state is None or state.source_import_id != source:
        reindex_program(program_id, only_if_stale=True)
        state = IdentIndexState.objects.get(program_id=program_id)
    _checked[program_id] = (state, time.monotonic())
    return state


def forget(program_id: int | None = None) -> None:
    """Drop the remembered index states (after a rebuild, and between tests)."""
    if program_id is None:
        _checked.clear()
    else:
        _checked.pop(program_id, None)


def on_list_applied(*args: Any, **kwargs: Any) -> None:
    """Registry hook: the index of that program is now stale.

    Nothing is rebuilt inside the import's transaction (a large list would make the import
    wait minutes): the index notices the newer version by itself (`ensure_index`) and is
    rebuilt by the next search, or ahead of it by `madoguchi identify-reindex`. Here only this
    process forgets what it remembered, so the next search checks at once.
    """
    target = kwargs.get("target_import") or kwargs.get("program") or (args[0] if args else None)
    program_id = getattr(target, "program_id", None) or getattr(target, "pk", None)
    forget(int(program_id) if program_id is not None else None)
