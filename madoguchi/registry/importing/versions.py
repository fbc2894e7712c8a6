"""Compare a staged list with the program's current households, then write the difference.

A household's content (its guardian, address and the set of its eligible children, in their
canonical forms) has a SHA-256 stored beside it; comparing hashes tells added, changed,
removed and unchanged households without loading the current list. Only the changed ones are
read back, to name the columns that changed. Writing goes in batches with `bulk_create` and
`bulk_update`, a few queries per 2,000 households, never a query per row.
"""

from __future__ import annotations

import datetime
import hashlib
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

from django.db import connection
from django.db.models import Field, Model
from django.utils import timezone

from madoguchi.programs.models import Program
from madoguchi.registry import keys
from madoguchi.registry.importing.reader import Problems, Staging
from madoguchi.registry.models import Child, Guardian, Household, TargetListChange, TargetListImport

BATCH = 2000

ChildData = tuple[str, str, str]  # name, kana, date of birth (ISO)


@dataclass
class HouseholdData:
    number: str
    postal: str
    address: str
    g_name: str
    g_kana: str
    g_dob: str
    phone: str
    email: str
    children: list[ChildData]
    first_row: int = 0

    def content_hash(self) -> str:
        # Unit and record separators cannot occur in a stored value (controls are refused).
        children = sorted(self.children, key=lambda child: (child[2], child[0], child[1]))
        content = "\x1f".join(
            (
                self.number,
                self.postal,
                self.address,
                self.g_name,
                self.g_kana,
                self.g_dob,
                self.phone,
                self.email,
                *("\x1e".join(child) for child in children),
            )
        )
        return hashlib.sha256(content.encode("utf-8")).hexdigest()

    @classmethod
    def from_models(cls, household: Household) -> HouseholdData:
        guardians = sorted(household.guardians.all(), key=lambda g: g.pk)
        guardian = guardians[0] if guardians else None
        return cls(
            number=household.number,
            postal=household.postal_code,
            address=household.address,
            g_name=guardian.name if guardian else "",
            g_kana=guardian.kana if guardian else "",
            g_dob=guardian.dob.isoformat() if guardian else "",
            phone=guardian.phone if guardian else "",
            email=guardian.email if guardian else "",
            children=[(c.name, c.kana, c.dob.isoformat()) for c in household.children.all()],
        )


# Column names (formats.md §1) of what differs between two versions of a household.
def changed_columns(old: HouseholdData, new: HouseholdData) -> list[str]:
    found = [
        label
        for label, attribute in (
            ("保護者氏名", "g_name"),
            ("保護者氏名カナ", "g_kana"),
            ("保護者生年月日", "g_dob"),
            ("郵便番号", "postal"),
            ("住所", "address"),
            ("電話番号", "phone"),
            ("メールアドレス", "email"),
        )
        if getattr(old, attribute) != getattr(new, attribute)
    ]
    for label, position in (("児童氏名", 0), ("児童氏名カナ", 1), ("児童生年月日", 2)):
        if sorted(child[position] for child in old.children) != sorted(
            child[position] for child in new.children
        ):
            found.append(label)
    if len(old.children) != len(new.children):
        found.append("児童数")
    return found


def staged_households(staging: Staging, problems: Problems | None = None) -> Iterator[HouseholdData]:
    for number, rows in staging.grouped():
        first = rows[0]
        children: list[ChildData] = []
        seen: set[ChildData] = set()
        for row in rows:
            child = (row[3], row[4], row[5])
            if child in seen:
                if problems is not None:
                    problems.add(
                        row[0], "児童氏名", "同じ世帯に同じ児童（氏名・生年月日）の行が2つあります。"
                    )
                continue
            seen.add(child)
            children.append(child)
        yield HouseholdData(
            number=number,
            g_name=first[6],
            g_kana=first[7],
            g_dob=first[8],
            postal=first[9],
            address=first[10],
            phone=first[11],
            email=first[12],
            children=children,
            first_row=first[0],
        )


@dataclass
class Plan:
    # number -> id of a household removed earlier that comes back, or None for a new one
    added: dict[str, int | None] = field(default_factory=dict)
    # number -> (household id, changed column names)
    changed: dict[str, tuple[int, list[str]]] = field(default_factory=dict)
    removed: list[int] = field(default_factory=list)
    unchanged: int = 0
    household_count: int = 0
    column_counts: Counter[str] = field(default_factory=Counter)
    # The program's latest applied version when planned: the apply checks nothing came between.
    base_version: int | None = None

    @property
    def has_changes(self) -> bool:
        return bool(self.added or self.changed or self.removed)


def latest_version(program: Program) -> int | None:
    return (
        TargetListImport.objects.filter(program=program, version__isnull=False)
        .order_by("-version")
        .values_list("version", flat=True)
        .first()
    )


def plan_changes(staging: Staging, program: Program, problems: Problems) -> Plan:
    plan = Plan(base_version=latest_version(program))
    current: dict[str, tuple[int, str, int | None]] = {
        number: (pk, content_hash, removed)
        for number, pk, content_hash, removed in Household.objects.filter(program=program).values_list(
            "number", "id", "content_hash", "removed_by_import_id"
        )
    }
    seen: set[str] = set()
    pending: list[tuple[int, HouseholdData]] = []

    def compare_pending() -> None:
        existing = Household.objects.filter(id__in=[pk for pk, _ in pending]).prefetch_related(
            "guardians", "children"
        )
        by_id = {household.pk: household for household in existing}
        for pk, data in pending:
            columns = changed_columns(HouseholdData.from_models(by_id[pk]), data)
            plan.changed[data.number] = (pk, columns)
            plan.column_counts.update(columns)
        pending.clear()

    for data in staged_households(staging, problems):
        plan.household_count += 1
        seen.add(data.number)
        found = current.get(data.number)
        if found is None:
            plan.added[data.number] = None
        elif found[2] is not None:
            plan.added[data.number] = found[0]  # removed by an earlier version, back again
        elif found[1] == data.content_hash():
            plan.unchanged += 1
        else:
            pending.append((found[0], data))
            if len(pending) >= 500:
                compare_pending()
    if pending:
        compare_pending()
    plan.removed = [
        pk for number, (pk, _hash, removed) in current.items() if removed is None and number not in seen
    ]
    return plan


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _guardian_values(guardian: Guardian, data: HouseholdData) -> Guardian:
    guardian.name = data.g_name
    guardian.kana = data.g_kana
    guardian.dob = datetime.date.fromisoformat(data.g_dob)
    guardian.phone = data.phone
    guardian.email = data.email
    return keys.fill_guardian_keys(guardian)


def _new_child(household: Household, child: ChildData) -> Child:
    name, kana, dob = child
    return keys.fill_child_keys(
        Child(household=household, name=name, kana=kana, dob=datetime.date.fromisoformat(dob))
    )


GUARDIAN_FIELDS = [
    "name",
    "name_key",
    "family_name_key",
    "kana",
    "kana_key",
    "kana_loose_key",
    "family_kana_loose_key",
    "dob",
    "phone",
    "phone_digits",
    "email",
    "email_key",
]
HOUSEHOLD_FIELDS = [
    "postal_code",
    "address",
    "address_key",
    "address_block_key",
    "content_hash",
    "last_import",
    "removed_by_import",
    "updated_at",
]


def raw_update(objects: list[Any], fields: list[str]) -> None:
    """Write `fields` of `objects` (all of one model) by primary key: one UPDATE, many rows.

    Django's bulk_update builds a `CASE WHEN id = … THEN …` per column with a branch per row;
    compiling those expressions cost about 9 ms of CPU per household, so a version moving
    10,000 households took minutes. One prepared statement run for every row (psycopg sends
    them in a pipeline; SQLite's executemany) costs a few microseconds each.
    """
    if not objects:
        return
    meta = objects[0]._meta
    quote = connection.ops.quote_name
    model_fields = [cast("Field[Any, Any]", meta.get_field(name)) for name in fields]
    assignments = ", ".join(f"{quote(str(field.column))} = %s" for field in model_fields)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608
    rows = [
        [field.get_db_prep_save(getattr(obj, field.attname), connection) for field in model_fields] + [obj.pk]
        for obj in objects
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


class RawInsert:
    """Multi-row INSERT of plain tuples into one model's table (both SQLite and PostgreSQL)."""

    def __init__(self, model: type[Model], fields: list[str]) -> None:
        self.model = model
        self.fields = fields
        self.per_statement = min(1000, 30000 // len(fields))

    def insert(self, rows: list[tuple[Any, ...]], returning: str | None = None) -> list[tuple[Any, Any]]:
        """Insert `rows`; with `returning`, [(that column's value, id)] of the inserted rows."""
        if not rows:
            return []
        if connection.vendor == "postgresql":
            return self._copy(rows, returning)
        quote = connection.ops.quote_name
        meta = self.model._meta
        table = quote(meta.db_table)
        columns = ", ".join(quote(self._column(name)) for name in self.fields)
        marks = "(" + ", ".join(["%s"] * len(self.fields)) + ")"
        suffix = f" RETURNING {quote(self._column(returning))}, {quote('id')}" if returning else ""
        found: list[tuple[Any, Any]] = []
        with connection.cursor() as cursor:
            for chunk in _chunks(rows, self.per_statement):
                sql = f"INSERT INTO {table} ({columns}) VALUES {', '.join([marks] * len(chunk))}{suffix}"  # noqa: S608
                cursor.execute(sql, [value for row in chunk for value in row])
                if returning:
                    found.extend(cursor.fetchall())
        return found

    def _column(self, name: str) -> str:
        column = cast("Field[Any, Any]", self.model._meta.get_field(name)).column
        return str(column)

    def _copy(self, rows: list[tuple[Any, ...]], returning: str | None) -> list[tuple[Any, Any]]:
        """PostgreSQL: COPY, with ids drawn from the table's sequence first when asked for.

        Quoting 300,000 rows into INSERT statements client-side cost more than the server's work.
        """
        quote = connection.ops.quote_name
        table = self.model._meta.db_table
        columns = [quote(self._column(name)) for name in self.fields]
        found: list[tuple[Any, Any]] = []
        with connection.cursor() as cursor:
            if returning:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [table, len(rows)],
                )
                ids = [row[0] for row in cursor.fetchall()]
                position = self.fields.index(returning)
                found = [(row[position], pk) for pk, row in zip(ids, rows, strict=True)]
                rows = [(pk, *row) for pk, row in zip(ids, rows, strict=True)]
                columns = [quote("id"), *columns]
            statement = f"COPY {quote(table)} ({', '.join(columns)}) FROM STDIN"
            with cursor.cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
        return found


_HOUSEHOLD_INSERT = RawInsert(
    Household,
    [
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
    ],
)
_GUARDIAN_INSERT = RawInsert(
    Guardian,
    [
        "household",
        "name",
        "kana",
        "dob",
        "phone",
        "email",
        "name_key",
        "family_name_key",
        "kana_key",
        "kana_loose_key",
        "family_kana_loose_key",
        "phone_digits",
        "email_key",
    ],
)
_CHILD_INSERT = RawInsert(
    Child,
    [
        "household",
        "name",
        "kana",
        "dob",
        "name_key",
        "given_name_key",
        "kana_key",
        "kana_loose_key",
        "given_kana_loose_key",
    ],
)
_CHANGE_INSERT = RawInsert(TargetListChange, ["target_import", "household", "kind", "fields"])


class Writer:
    """Writes a plan in batches; the caller holds the transaction."""

    def __init__(self, program: Program, target_import: TargetListImport, plan: Plan) -> None:
        self.program = program
        self.target_import = target_import
        self.plan = plan
        self.now = timezone.now()
        self.touched: list[int] = []
        self.changes: list[tuple[Any, ...]] = []
        self.fields_field = TargetListChange._meta.get_field("fields")
        self.no_fields = self.fields_field.get_db_prep_save([], connection)

    def _change(self, household_id: int, kind: str, columns: list[str] | None = None) -> None:
        fields = self.no_fields if not columns else self.fields_field.get_db_prep_save(columns, connection)
        self.changes.append((self.target_import.pk, household_id, str(kind), fields))
        if len(self.changes) >= BATCH:
            self._flush_changes()

    def _flush_changes(self) -> None:
        _CHANGE_INSERT.insert(self.changes)
        self.changes = []

    def create(self, batch: list[HouseholdData]) -> None:
        """Insert new households with their guardian and children: a few statements a batch.

        Written as multi-row INSERTs rather than `bulk_create`: building ~300,000 model
        instances for a 100,000-row list cost more than the database work itself.
        """
        ops = connection.ops
        now = ops.adapt_datetimefield_value(self.now)
        # What UUIDField.get_db_prep_value gives, without its per-value cost.
        native_uuid = connection.features.has_native_uuid_field
        program_id, import_id = self.program.pk, self.target_import.pk
        rows = []
        for data in batch:
            address_key, block_key = keys.household_keys(data.address)
            rows.append(
                (
                    uuid.uuid4() if native_uuid else uuid.uuid4().hex,
                    program_id,
                    data.number,
                    data.postal,
                    data.address,
                    address_key,
                    block_key,
                    data.content_hash(),
                    import_id,
                    import_id,
                    now,
                    now,
                )
            )
        ids = dict(_HOUSEHOLD_INSERT.insert(rows, returning="number"))
        guardians = []
        children = []
        for data in batch:
            household_id = ids[data.number]
            guardians.append(
                (
                    household_id,
                    data.g_name,
                    data.g_kana,
                    ops.adapt_datefield_value(datetime.date.fromisoformat(data.g_dob)),
                    data.phone,
                    data.email,
                    *keys.guardian_keys(data.g_name, data.g_kana, data.phone, data.email),
                )
            )
            for name, kana, dob in data.children:
                children.append(
                    (
                        household_id,
                        name,
                        kana,
                        ops.adapt_datefield_value(datetime.date.fromisoformat(dob)),
                        *keys.child_keys(name, kana),
                    )
                )
            self.touched.append(household_id)
            self._change(household_id, TargetListChange.Kind.ADDED)
        _GUARDIAN_INSERT.insert(guardians)
        _CHILD_INSERT.insert(children)

    def update(self, batch: list[tuple[int, HouseholdData, str, list[str]]]) -> None:
        """Rewrite households in place: cases point at them and at their guardian (PROTECT)."""
        existing = {
            household.pk: household
            for household in Household.objects.filter(id__in=[pk for pk, *_ in batch]).prefetch_related(
                "guardians", "children"
            )
        }
        households: list[Household] = []
        guardians_new: list[Guardian] = []
        guardians_old: list[Guardian] = []
        children_new: list[Child] = []
        children_gone: list[int] = []
        for pk, data, kind, columns in batch:
            household = existing[pk]
            household.postal_code = data.postal
            household.address = data.address
            keys.fill_household_keys(household)
            household.content_hash = data.content_hash()
            household.last_import = self.target_import
            household.removed_by_import = None
            household.updated_at = self.now
            households.append(household)
            guardians = sorted(household.guardians.all(), key=lambda g: g.pk)
            if guardians:
                guardians_old.append(_guardian_values(guardians[0], data))
            else:
                guardians_new.append(_guardian_values(Guardian(household=household), data))
            # Children kept when unchanged (same name, reading and date of birth).
            wanted = Counter(data.children)
            for child in household.children.all():
                key = (child.name, child.kana, child.dob.isoformat())
                if wanted[key] > 0:
                    wanted[key] -= 1
                else:
                    children_gone.append(child.pk)
            for child_data, count in wanted.items():
                children_new.extend(_new_child(household, child_data) for _ in range(count))
            self.touched.append(pk)
            self._change(pk, kind, columns)
        raw_update(households, HOUSEHOLD_FIELDS)
        raw_update(guardians_old, GUARDIAN_FIELDS)
        Guardian.objects.bulk_create(guardians_new, batch_size=BATCH)
        if children_gone:
            Child.objects.filter(id__in=children_gone).delete()
        Child.objects.bulk_create(children_new, batch_size=BATCH)

    def remove(self) -> None:
        for chunk in _chunks(self.plan.removed, BATCH):
            Household.objects.filter(id__in=chunk).update(
                removed_by_import=self.target_import, last_import=self.target_import, updated_at=self.now
            )
            for pk in chunk:
                self.touched.append(pk)
                self._change(pk, TargetListChange.Kind.REMOVED)

    def write(self, staging: Staging, progress: Any = None) -> list[int]:
        plan = self.plan
        to_create: list[HouseholdData] = []
        to_update: list[tuple[int, HouseholdData, str, list[str]]] = []
        if progress is not None:
            progress.phase("書き込み", len(plan.added) + len(plan.changed))
        for data in staged_households(staging):
            if data.number in plan.added:
                previous = plan.added[data.number]
                if previous is None:
                    to_create.append(data)
                else:
                    to_update.append((previous, data, TargetListChange.Kind.ADDED, []))
            elif data.number in plan.changed:
                pk, columns = plan.changed[data.number]
                to_update.append((pk, data, TargetListChange.Kind.CHANGED, columns))
            else:
                continue
            if len(to_create) >= BATCH:
                self.create(to_create)
                if progress is not None:
                    progress.advance(len(to_create))
                to_create = []
            if len(to_update) >= BATCH:
                self.update(to_update)
                if progress is not None:
                    progress.advance(len(to_update))
                to_update = []
        if to_create:
            self.create(to_create)
        if to_update:
            self.update(to_update)
        if progress is not None:
            progress.advance(len(to_create) + len(to_update))
        self.remove()
        self._flush_changes()
        # Households present in this version, unchanged ones included, were last seen in it.
        Household.objects.filter(program=self.program, removed_by_import__isnull=True).exclude(
            last_import=self.target_import
        ).update(last_import=self.target_import)
        return self.touched
