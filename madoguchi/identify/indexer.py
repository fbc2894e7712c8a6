"""Identification's index of a program's target list, derived from the registry.

For each household still in the list: its blocking keys (IdentKey), how common each key is
(IdentKeyStat), its comparison profile (IdentProfile), and the readings it gives for name parts
(IdentReading). Two ways to write it, which end in the same rows:

* `update_households`: the rows of the households a version of the list touched are deleted,
  re-derived and inserted, and the key and reading counts adjusted by the difference. The
  registry's hook runs it inside the import's transaction, so the list and the index commit
  (or roll back) together and no search waits for a rebuild after a small update.
* `reindex_program`: the whole program at once, for a first or a large import (cheaper than
  the update then, see `INCREMENTAL_SHARE`), lazily when a search finds the index older than
  the list, and as the repair tool (`madoguchi identify-reindex`).
"""

from __future__ import annotations

import datetime
import json
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Model, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

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
from madoguchi.registry.importing.versions import RawInsert
from madoguchi.registry.models import Child, Guardian, Household, TargetListImport

logger = logging.getLogger(__name__)

INDEX_TABLES = (IdentKey, IdentKeyStat, IdentProfile, IdentReading)

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
# An import updates the index in its own transaction when it touches at most INCREMENTAL_MIN
# households or INCREMENTAL_SHARE of the indexed ones; beyond both, the index is left to a full
# rebuild after it. Measured on 20,000 households (docs/identification.md): a rebuild costs
# 0.4 ms (SQLite) / 0.7 ms (PostgreSQL) per household, the update 0.6-1.6 ms per household
# touched (it also reads and deletes the old rows and rewrites the counts of every key it
# touches); updating 20 % of the list cost 0.3 of a rebuild, 40 % about 0.65. The cut at
# 20 % keeps the update well below a rebuild with room for that noise. Below INCREMENTAL_MIN
# either takes about a second, and an index current with the list wins.
INCREMENTAL_SHARE = 0.2
INCREMENTAL_MIN = 1000


@dataclass
class _Person:
    name: str
    kana: str
    dob: datetime.date | None
    phone: str = ""
    email: str = ""


def _profiles(
    program_id: int, household_ids: list[int] | None = None
) -> Iterator[list[tuple[int, dict[str, Any], list[str]]]]:
    """(household id, profile, keys) of the program's current households, CHUNK at a time; of
    only `household_ids` (sorted) when given (removed households yield nothing).

    Plain rows, not model instances: a million households must index in minutes.
    """
    households = Household.objects.filter(program_id=program_id, removed_by_import__isnull=True)
    last = 0
    position = 0
    while True:
        if household_ids is None:
            query = households.filter(pk__gt=last)
        else:
            if position >= len(household_ids):
                return
            query = households.filter(pk__in=household_ids[position : position + CHUNK])
            position += CHUNK
        rows = list(query.order_by("pk").values_list("pk", "number", "public_id", "address")[:CHUNK])
        if not rows:
            if household_ids is None:
                return
            continue
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


def reading_pairs(profile: dict[str, Any]) -> set[tuple[str, str]]:
    """The (kanji, reading) pairs one household gives for its name parts."""
    pairs: set[tuple[str, str]] = set()
    for person in profile["p"]:
        for kanji, kana in ((person["f"], person["fk"]), (person["g"], person["gk"])):
            if kanji and kana and kanji != kana and len(kanji) <= 60 and len(kana) <= 60:
                pairs.add((kanji, kana))
    return pairs


def latest_import_id(program_id: int) -> int | None:
    return (
        TargetListImport.objects.filter(program_id=program_id, status=TargetListImport.Status.APPLIED)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )


def _insert(model: type[Model], fields: list[str], rows: list[tuple[Any, ...]]) -> None:
    """The registry's bulk insert (multi-row INSERT on SQLite, COPY on PostgreSQL)."""
    if rows:
        RawInsert(model, fields).insert(rows)


def _insert_households(program_id: int, chunk: list[tuple[int, dict[str, Any], list[str]]]) -> None:
    _insert(
        IdentKey,
        ["program", "household", "key"],
        [(program_id, pk, key) for pk, _p, keys in chunk for key in keys],
    )
    _insert(
        IdentProfile,
        ["program", "household", "data"],
        [(program_id, pk, json.dumps(p, ensure_ascii=False)) for pk, p, _k in chunk],
    )


def _lock(program_id: int) -> None:
    """One writer of a program's index at a time (an import holds this lock already).

    FOR NO KEY UPDATE, not FOR UPDATE: it still excludes another rebuild or an import, but not
    the KEY SHARE lock every insert of a case of the program takes for its foreign key, so case
    saves go on during a rebuild (FOR UPDATE held them for the rebuild's whole duration)."""
    Program.objects.select_for_update(no_key=True).filter(pk=program_id).first()


@transaction.atomic
def reindex_program(program_id: int, *, only_if_stale: bool = False) -> int:
    """Rebuild the whole index of one program. Returns the number of households indexed.

    The program's row is locked first, so two searches that find the index stale at the same
    moment rebuild it once, one after the other (the second finds it fresh).
    """
    _lock(program_id)
    source = latest_import_id(program_id)
    if only_if_stale:
        state = IdentIndexState.objects.filter(program_id=program_id).first()
        if state is not None and state.source_import_id == source:
            return state.household_count
    IdentKey.objects.filter(program_id=program_id).delete()
    IdentKeyStat.objects.filter(program_id=program_id).delete()
    IdentProfile.objects.filter(program_id=program_id).delete()
    IdentReading.objects.filter(program_id=program_id).delete()
    readings: Counter[tuple[str, str]] = Counter()
    total = 0
    for chunk in _profiles(program_id):
        total += len(chunk)
        _insert_households(program_id, chunk)
        for _pk, profile, _keys in chunk:
            readings.update(reading_pairs(profile))
    # A household's keys are distinct, so a key's row count is its number of households.
    key_table, stat_table = IdentKey._meta.db_table, IdentKeyStat._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {stat_table} (program_id, key, count) SELECT program_id, key, COUNT(*) "  # noqa: S608
            f"FROM {key_table} WHERE program_id = %s GROUP BY program_id, key",
            [program_id],
        )
    _insert(
        IdentReading,
        ["program", "text", "reading", "households"],
        [(program_id, t, r, n) for (t, r), n in readings.items()],
    )
    if connection.vendor == "postgresql":
        # Fresh statistics, or the planner may scan a freshly filled table instead of its index.
        with connection.cursor() as cursor:
            for model in INDEX_TABLES:
                cursor.execute(f"ANALYZE {model._meta.db_table}")
        transaction.on_commit(vacuum_index_tables)
    now = timezone.now()
    state, created = IdentIndexState.objects.get_or_create(
        program_id=program_id,
        defaults={"source_import_id": source, "household_count": total, "built_at": now, "updated_at": now},
    )
    if not created:
        IdentIndexState.objects.filter(pk=state.pk).update(
            source_import_id=source,
            household_count=total,
            built_at=now,
            updated_at=now,
            version=F("version") + 1,
        )
    logger.info("identify index rebuilt", extra={"program_id": program_id, "households": total})
    return total


def vacuum_index_tables() -> None:
    """VACUUM the index tables after a full rebuild has committed (PostgreSQL only).

    The searches read keys by index-only scans, which skip the table only for pages the
    visibility map marks all-visible. Freshly written pages are not marked until a VACUUM
    passes; until autovacuum got round to it, every key row read cost a random table read
    (at a million households, p95 of a search went from about 15 ms to over 50 ms). VACUUM
    cannot run inside a transaction, hence after the commit.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        for model in INDEX_TABLES:
            cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")


# `identify-reindex --stale` vacuums an index table again when the visibility map covers less
# than this share of its pages (tables of MIN_VACUUM_PAGES pages or more).
ALL_VISIBLE_SHARE = 0.9
MIN_VACUUM_PAGES = 1000


def revacuum_index_tables() -> list[tuple[str, float, float]]:
    """VACUUM again the index tables whose pages are mostly not marked all-visible; return
    (table, share before, share after) for each (PostgreSQL; elsewhere nothing).

    The rebuild's own VACUUM cannot mark a page all-visible while any transaction older than
    the rebuild is open (a long export, a bulk load beside it, a query on a replica with
    `hot_standby_feedback`): its rows are not yet visible to everyone. Nothing else comes back
    for them: the table has no dead rows and no new inserts for autovacuum to count. Seen on
    the load cluster (fourteenth session): 43 of 168,945 pages of the key table all-visible,
    a search's tie-break 223 ms where it takes 4 ms once vacuumed. The visibility map's share
    is `pg_class.relallvisible`, which VACUUM and ANALYZE keep."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return []
    names = [model._meta.db_table for model in INDEX_TABLES]
    query = (
        "SELECT relname, relallvisible::float / GREATEST(relpages, 1) FROM pg_class "
        "WHERE relname = ANY(%s) AND relpages >= %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            query + " AND relallvisible < relpages * %s", [names, MIN_VACUUM_PAGES, ALL_VISIBLE_SHARE]
        )
        before = dict(cursor.fetchall())
        if not before:
            return []
        for table in before:
            cursor.execute(f"VACUUM (ANALYZE) {table}")
        cursor.execute(query, [sorted(before), 0])
        after = dict(cursor.fetchall())
    for table, share in before.items():
        logger.info(
            "identify index table vacuumed again",
            extra={
                "table": table,
                "all_visible_before": round(share, 3),
                "all_visible_after": round(after[table], 3),
            },
        )
    return [(table, share, after[table]) for table, share in sorted(before.items())]


class IndexInconsistent(Exception):
    """The rows an update would subtract are not in the index: only a rebuild can repair it."""


def _chunks_of(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def update_households(program_id: int, household_ids: Iterable[int], *, source_import_id: int | None) -> int:
    """Bring the index rows of `household_ids` up to the registry, in the caller's transaction.

    Their keys, profiles and readings are deleted and derived again (a removed household just
    loses them); the key and reading counts move by the difference. The result is the rows a
    full rebuild would write. Returns the change in the number of indexed households.
    """
    _lock(program_id)
    # Only the program's own households: their rows are then found by household id alone.
    ids = list(
        Household.objects.filter(program_id=program_id, pk__in=set(household_ids))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    keys: Counter[str] = Counter()
    readings: Counter[tuple[str, str]] = Counter()
    indexed = 0
    for chunk in _chunks_of(ids, CHUNK):
        # By household id only, not with program_id: SQLite would otherwise walk the program's
        # whole (program, key, household) index instead of the household index.
        old_keys = IdentKey.objects.filter(household_id__in=chunk)
        old_profiles = IdentProfile.objects.filter(household_id__in=chunk)
        for key in old_keys.values_list("key", flat=True):
            keys[key] -= 1
        for data in old_profiles.values_list("data", flat=True):
            indexed -= 1
            readings.subtract(reading_pairs(data))
        old_keys.delete()
        old_profiles.delete()
        for fresh in _profiles(program_id, chunk):
            indexed += len(fresh)
            _insert_households(program_id, fresh)
            for _pk, profile, household_keys in fresh:
                keys.update(household_keys)
                readings.update(reading_pairs(profile))
    _apply_key_counts(program_id, keys)
    _apply_reading_counts(program_id, readings)
    state = IdentIndexState.objects.select_for_update().filter(program_id=program_id).first()
    now = timezone.now()
    if state is None:
        if indexed < 0:
            raise IndexInconsistent("households removed from an index that does not exist")
        IdentIndexState.objects.create(
            program_id=program_id,
            source_import_id=source_import_id,
            household_count=indexed,
            built_at=now,
            updated_at=now,
        )
    else:
        if state.household_count + indexed < 0:
            raise IndexInconsistent("more households removed than indexed")
        IdentIndexState.objects.filter(pk=state.pk).update(
            source_import_id=source_import_id,
            household_count=state.household_count + indexed,
            updated_at=now,
            version=F("version") + 1,
        )
    return indexed


def _apply_key_counts(program_id: int, delta: Counter[str]) -> None:
    changed = sorted(key for key, difference in delta.items() if difference)
    for part in _chunks_of(changed, 500):
        current = {
            key: (pk, count)
            for pk, key, count in IdentKeyStat.objects.filter(
                program_id=program_id, key__in=part
            ).values_list("pk", "key", "count")
        }
        rows = []
        for key in part:
            count = current.get(key, (0, 0))[1] + delta[key]
            if count < 0:
                raise IndexInconsistent("a key count would fall below zero")
            if count:
                rows.append((program_id, key, count))
        IdentKeyStat.objects.filter(pk__in=[pk for pk, _count in current.values()]).delete()
        _insert(IdentKeyStat, ["program", "key", "count"], rows)


def _apply_reading_counts(program_id: int, delta: Counter[tuple[str, str]]) -> None:
    changed = sorted(pair for pair, difference in delta.items() if difference)
    for part in _chunks_of(changed, 500):
        wanted = set(part)
        current = {
            (text, reading): (pk, households)
            for pk, text, reading, households in IdentReading.objects.filter(
                program_id=program_id, text__in={text for text, _reading in part}
            ).values_list("pk", "text", "reading", "households")
            if (text, reading) in wanted
        }
        rows = []
        for pair in part:
            households = current.get(pair, (0, 0))[1] + delta[pair]
            if households < 0:
                raise IndexInconsistent("a reading count would fall below zero")
            if households:
                rows.append((program_id, *pair, households))
        IdentReading.objects.filter(pk__in=[pk for pk, _count in current.values()]).delete()
        _insert(IdentReading, ["program", "text", "reading", "households"], rows)


# A search that finds the index older than the list rebuilds it itself only when that takes
# seconds (the demo's 2,000 households: about one). A larger list's rebuild (a million
# households: about fifteen minutes) inside a web request would outlast gunicorn's timeout,
# roll back, and start again on the next search, while every other search of the program
# waited for its lock; such a list is rebuilt by `madoguchi identify-reindex --stale` (cron,
# every minute) and searches answer from the index they have meanwhile.
INLINE_REBUILD_HOUSEHOLDS = 5_000


class IndexNotReady(Exception):
    """A web search on a large list whose index was never built: nothing to answer from yet."""

    def __init__(self) -> None:
        self.message = _(
            "対象者一覧の索引を作成中のため、まだ検索できません。数分後にもう一度検索してください。"
        )
        super().__init__(self.message)


def ensure_index(program_id: int, *, rebuild_large: bool = True) -> IdentIndexState:
    """The program's index state, rebuilding the index first when the list changed since.

    Read on every search, with the list's latest applied version, in one indexed query: an
    import updates the index and this row in its own transaction, so every process (each
    gunicorn worker) searches the new rows and the new household count from its next search
    on. What a process keeps derived from the index is keyed on `index_token`.

    With `rebuild_large=False` (a web search) a stale index of a list larger than
    INLINE_REBUILD_HOUSEHOLDS is not rebuilt here: the old index answers, marked `is_stale`,
    or IndexNotReady is raised when there is none.

    Plain SQL: the ORM's building of this query cost more than running it, on every search.
    The state's timestamps are left deferred (read from the database if asked for).
    """
    state_table, import_table = IdentIndexState._meta.db_table, TargetListImport._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.id, s.program_id, s.source_import_id, s.household_count, s.version, "  # noqa: S608
            f"(SELECT i.id FROM {import_table} i WHERE i.program_id = s.program_id AND i.status = %s "
            f"ORDER BY i.id DESC LIMIT 1), s.updated_at FROM {state_table} s WHERE s.program_id = %s",
            [TargetListImport.Status.APPLIED.value, program_id],
        )
        row = cursor.fetchone()
    if row is not None and row[2] == row[5]:
        return _state_from_row(row)
    if not rebuild_large and _latest_household_count(program_id) > INLINE_REBUILD_HOUSEHOLDS:
        if row is None:
            raise IndexNotReady
        state = _state_from_row(row)
        state.is_stale = True
        return state
    reindex_program(program_id, only_if_stale=True)
    return IdentIndexState.objects.get(program_id=program_id)


def _state_from_row(row: tuple[Any, ...]) -> IdentIndexState:
    state = IdentIndexState.from_db(connection.alias, list(_STATE_FIELDS), row[:5])
    state._index_token = (row[4], row[6])  # type: ignore[attr-defined]
    return state


def _latest_household_count(program_id: int) -> int:
    count = (
        TargetListImport.objects.filter(program_id=program_id, status=TargetListImport.Status.APPLIED)
        .order_by("-id")
        .values_list("household_count", flat=True)
        .first()
    )
    return count or 0


_STATE_FIELDS = ("id", "program_id", "source_import_id", "household_count", "version")


def index_token(state: IdentIndexState) -> tuple[Any, Any]:
    """What identifies the index's content: its version and the time of its last change.

    The version alone could come back: a change rolled back (or a test's transaction) returns
    it to its old value, and a later change reaches the same number with other rows; SQLite
    may even give a new program the id of one rolled back. The time of the change tells them
    apart."""
    token = getattr(state, "_index_token", None)
    if token is None:
        token = tuple(
            IdentIndexState.objects.filter(pk=state.pk).values_list("version", "updated_at").first() or ()
        )
    return token


def stale_program_ids() -> list[int]:
    """Programs with an applied list whose index is missing or older than the list."""
    latest = TargetListImport.objects.filter(
        program_id=OuterRef("pk"), status=TargetListImport.Status.APPLIED
    ).order_by("-id")
    indexed = IdentIndexState.objects.filter(program_id=OuterRef("pk"))
    programs = Program.objects.annotate(
        latest_import_id=Subquery(latest.values("id")[:1]),
        indexed_import_id=Subquery(indexed.values("source_import_id")[:1]),
    ).filter(latest_import_id__isnull=False)
    return [
        pk
        for pk, latest_id, indexed_id in programs.values_list("pk", "latest_import_id", "indexed_import_id")
        if latest_id != indexed_id
    ]


def _previous_import_id(program_id: int, target_import_id: int) -> int | None:
    return (
        TargetListImport.objects.filter(
            program_id=program_id, status=TargetListImport.Status.APPLIED, id__lt=target_import_id
        )
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )


def rebuild_reason(program_id: int, target_import_id: int, touched: int) -> str:
    """Why this import should leave the index to a full rebuild; "" when it updates it."""
    state = IdentIndexState.objects.filter(program_id=program_id).first()
    previous = _previous_import_id(program_id, target_import_id)
    if state is None and previous is not None:
        return "never built"
    if state is not None and state.source_import_id != previous:
        return "already stale"
    indexed = state.household_count if state is not None else 0
    if touched > max(INCREMENTAL_MIN, INCREMENTAL_SHARE * indexed):
        return "first import" if indexed == 0 else "large change"
    return ""


def on_list_applied(program: Program, target_import: TargetListImport, household_ids: list[int]) -> None:
    """Registry hook, inside the import's transaction: update the index to this version.

    When a full rebuild is the cheaper way (a first or a large import, or an index already
    stale), nothing is written here: the index stays as it was, now older than the list, and
    is rebuilt by the next search or ahead of it by `madoguchi identify-reindex`.
    """
    touched = len(set(household_ids))
    reason = rebuild_reason(program.pk, target_import.pk, touched)
    if reason:
        logger.info(
            "identify index left to a full rebuild",
            extra={"program_id": program.pk, "households": touched, "reason": reason},
        )
        return
    try:
        with transaction.atomic():
            update_households(program.pk, household_ids, source_import_id=target_import.pk)
    except IndexInconsistent:
        # The import must not fail for a derived table: the update is rolled back to its
        # savepoint and the index marked stale, so the next search rebuilds it from scratch.
        logger.warning(
            "identify index inconsistent; left to a full rebuild", extra={"program_id": program.pk}
        )
        IdentIndexState.objects.filter(program_id=program.pk).update(source_import_id=None)
