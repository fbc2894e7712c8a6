"""The erasure's proof: every personal value it erased, looked for everywhere it could remain.

`collect_values()` reads, before anything is erased, every personal value the program holds
(names as written and as search keys, readings, household numbers, postal codes, addresses,
phones, e-mails, dates of birth as stored): they are kept in memory only, never written.
`scan()` then reads every text column of every table (DISTINCT values, streamed) and, on
SQLite, the raw bytes of the database file and its WAL, and reports where any of them occurs.

Matching is by substring: a cell holds a value if the value appears anywhere in it. Values
shorter than `MIN_LENGTH` characters are not looked for (a two-letter key would match
unrelated text); the certificate says how many were skipped.

Other programs hold values of their own, and a common surname, a postal code or a town is
often held by both. Each row is therefore read with the program it belongs to (`_scopes`):
a value in a row of the erased program is a failure whatever else holds it; a value in a row
of another program is that program's, and is noted as held elsewhere; a value in a row that
belongs to no program (sessions, the ledger, tables the scan cannot place) and in the raw
database file is a failure unless another program's rows hold it too.

The values are read once, before the first step erases anything, and sealed (encrypted with
a key derived from SECRET_KEY) in the erasure's row (`seal_values`): a purge killed half-way,
or refused by its scan, scans the same values when run again, until a scan passes. The seal
is dropped with the certificate.
"""

from __future__ import annotations

import base64
import datetime
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import ForeignKey, Model

from madoguchi.cases.models import Case
from madoguchi.programs.models import Program
from madoguchi.registry.models import Child, Guardian, Household

MIN_LENGTH = 3

_HOUSEHOLD_FIELDS = ("number", "postal_code", "address", "address_key", "address_block_key")
_PERSON_FIELDS = ("name", "name_key", "kana", "kana_key", "kana_loose_key", "dob")
_GUARDIAN_FIELDS = (*_PERSON_FIELDS, "phone", "phone_digits", "email", "email_key")
_CASE_FIELDS = ("caller_name", "caller_kana", "child_name", "child_dob", "contact_phone", "contact_email")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).strip()


@dataclass
class Values:
    values: set[str] = field(default_factory=set)
    skipped_short: int = 0

    def add(self, raw: Any) -> None:
        text = _text(raw)
        if not text:
            return
        if len(text) < MIN_LENGTH:
            self.skipped_short += 1
            return
        self.values.add(text)

    def add_rows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            for value in row:
                self.add(value)


def _fernet() -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"madoguchi erasure scan values").derive(
        settings.SECRET_KEY.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def seal_values(values: Values) -> bytes:
    """The values to look for, encrypted: kept with the erasure until its scan passes."""
    # NUL-separated (no value holds one: they are stripped single-line items), compressed
    # first: a program of a million households holds millions of values.
    payload = "\0".join([str(values.skipped_short), *values.values]).encode()
    return _fernet().encrypt(zlib.compress(payload, 1))


def unseal_values(token: bytes | memoryview) -> Values:
    skipped, *found = zlib.decompress(_fernet().decrypt(bytes(token))).decode().split("\0")
    return Values(values=set(found), skipped_short=int(skipped))


def collect_values(program: Program) -> Values:
    found = Values()
    found.add_rows(Household.objects.filter(program=program).values_list(*_HOUSEHOLD_FIELDS).iterator())
    found.add_rows(
        Guardian.objects.filter(household__program=program).values_list(*_GUARDIAN_FIELDS).iterator()
    )
    found.add_rows(Child.objects.filter(household__program=program).values_list(*_PERSON_FIELDS).iterator())
    found.add_rows(Case.objects.filter(program=program).values_list(*_CASE_FIELDS).iterator())
    return found


@dataclass
class ScanResult:
    values: int = 0
    skipped_short: int = 0
    tables: int = 0
    columns: int = 0
    cells: int = 0
    file_bytes: int = 0
    found: list[dict[str, Any]] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    # How many of the values other programs' rows hold too (theirs, not residues of this one).
    held_elsewhere: int = 0

    @property
    def clean(self) -> bool:
        return not self.found

    def as_dict(self) -> dict[str, Any]:
        return {
            "values": self.values,
            "skipped_short": self.skipped_short,
            "tables": self.tables,
            "columns": self.columns,
            "cells": self.cells,
            "file_bytes": self.file_bytes,
            "found": self.found,
            "unreadable": sorted(set(self.unreadable)),
            "held_elsewhere": self.held_elsewhere,
            "clean": self.clean,
        }


class Matcher:
    """Substring search of many values at once.

    Every value is at least MIN_LENGTH characters long, so each occurrence starts with one of
    the values' first MIN_LENGTH characters: a cell is walked once, position by position, and
    only where such a prefix starts are the lengths of the values with that prefix compared.
    """

    def __init__(self, values: set[str]) -> None:
        self.values = values
        lengths: dict[str, set[int]] = {}
        for value in values:
            lengths.setdefault(value[:MIN_LENGTH], set()).add(len(value))
        self.by_prefix = {prefix: tuple(sorted(found)) for prefix, found in lengths.items()}

    def hits(self, cell: str) -> int:
        return len(self.matches(cell))

    def matches(self, cell: str) -> list[str]:
        size = len(cell)
        found: list[str] = []
        by_prefix, values = self.by_prefix, self.values
        for start in range(size - MIN_LENGTH + 1):
            lengths = by_prefix.get(cell[start : start + MIN_LENGTH])
            if lengths is None:
                continue
            for length in lengths:
                end = start + length
                if end > size:
                    break
                if cell[start:end] in values and _standalone(cell, start, end):
                    found.append(cell[start:end])
        return found


def _alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _standalone(cell: str, start: int, end: int) -> bool:
    """A value that begins or ends in an ASCII letter or digit must not run on into more of
    them: "09012345678" inside a hex digest, or "H900001" inside "H9000012", is not that value.
    In Japanese text ("髙橋一郎様 090-1111-2222。") it stands alone and is found."""
    if start > 0 and _alnum(cell[start]) and _alnum(cell[start - 1]):
        return False
    return not (end < len(cell) and _alnum(cell[end - 1]) and _alnum(cell[end]))


def _text_columns() -> Iterator[tuple[str, list[str]]]:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND data_type IN "
                "('text', 'character varying', 'character', 'json', 'jsonb') "
                "ORDER BY table_name, ordinal_position"
            )
            tables: dict[str, list[str]] = {}
            for table, column in cursor.fetchall():
                tables.setdefault(table, []).append(column)
            yield from tables.items()
            return
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        names = [row[0] for row in cursor.fetchall()]
        for table in names:
            cursor.execute(f"PRAGMA table_info({quote(table)})")
            columns = [
                row[1]
                for row in cursor.fetchall()
                if not row[2] or any(kind in row[2].lower() for kind in ("char", "text", "clob", "json"))
            ]
            if columns:
                yield table, columns


# Where a row stands: in the erased program, in another program, or in none.
MINE, OTHER, NONE = 0, 1, 2


def _program_column(model: type[Model]) -> str | None:
    for model_field in model._meta.concrete_fields:
        if model_field.column == "program_id":
            return "program_id"
    return None


def _scopes() -> dict[str, tuple[str, str]]:
    """table → (JOIN clause, SQL expression of the row's program id) for every table whose rows
    belong to a program: directly (a `program_id` column) or through one foreign key (a
    guardian through its household, a timeline entry through its case, an audit change
    through its event)."""
    quote = connection.ops.quote_name
    scopes: dict[str, tuple[str, str]] = {}
    for model in apps.get_models(include_auto_created=True):
        table = model._meta.db_table
        if _program_column(model):
            scopes[table] = ("", f"t.{quote('program_id')}")
            continue
        for model_field in model._meta.concrete_fields:
            if not isinstance(model_field, ForeignKey):
                continue
            target = model_field.related_model
            if not isinstance(target, type) or not _program_column(target):
                continue
            target_table = quote(target._meta.db_table)
            join = (
                f" LEFT JOIN {target_table} s ON s.{quote(target._meta.pk.column)} = "
                f"t.{quote(model_field.column)}"
            )
            scopes[table] = (join, f"s.{quote('program_id')}")
            break
    return scopes


def scan(values: Values, *, program_id: int, database_file: Path | None = None) -> ScanResult:
    """Look for `values` in every text column of every table and, on SQLite, in the file.

    Rows of programs other than `program_id` are read as theirs (see the module's note). Each
    column is read once (its distinct values); only the cells that hold a value are read again
    with the program of their rows, so a clean column costs no join.
    """
    result = ScanResult(values=len(values.values), skipped_short=values.skipped_short)
    if not values.values:
        return result
    matcher = Matcher(values.values)
    scopes = _scopes()
    held_elsewhere: set[str] = set()
    # (table, column) → values found in rows of no program, judged once held_elsewhere is known.
    unplaced: dict[tuple[str, str], Counter[str]] = {}
    for table, columns in _text_columns():
        result.tables += 1
        for column in columns:
            result.columns += 1
            try:
                matched = _matched_cells(table, column, matcher, result)
            except DatabaseError:
                result.unreadable.append(table)
                continue
            if not matched:
                continue
            mine = 0
            for where, cell in _placed(table, column, list(matched), scopes.get(table), program_id):
                found = matched[cell]
                if where == MINE:
                    mine += len(found)
                elif where == OTHER:
                    held_elsewhere.update(found)
                else:
                    unplaced.setdefault((table, column), Counter()).update(found)
            if mine:
                result.found.append({"table": table, "column": column, "count": mine})
    for (table, column), placed_nowhere in unplaced.items():
        count = sum(times for value, times in placed_nowhere.items() if value not in held_elsewhere)
        if count:
            result.found.append({"table": table, "column": column, "count": count})
    result.held_elsewhere = len(held_elsewhere)
    if database_file is not None:
        _scan_file(values.values - held_elsewhere, database_file, result)
    return result


def _cast() -> str:
    return "::text" if connection.vendor == "postgresql" else ""


def _as_text(cell: Any) -> str:
    if isinstance(cell, bytes | memoryview):
        return bytes(cell).decode("utf-8", "replace")
    return cell if isinstance(cell, str) else str(cell)


def _matched_cells(table: str, column: str, matcher: Matcher, result: ScanResult) -> dict[str, list[str]]:
    """The column's distinct cells that hold a value, with the values they hold."""
    quote = connection.ops.quote_name
    sql = (
        f"SELECT DISTINCT {quote(column)}{_cast()} FROM {quote(table)} "  # noqa: S608
        f"WHERE {quote(column)} IS NOT NULL"
    )
    matched: dict[str, list[str]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql)
        while rows := cursor.fetchmany(5000):
            for (raw,) in rows:
                result.cells += 1
                cell = _as_text(raw)
                if cell and (found := matcher.matches(cell)):
                    matched[cell] = found
    return matched


def _placed(
    table: str, column: str, cells: list[str], scope: tuple[str, str] | None, program_id: int
) -> Iterator[tuple[int, str]]:
    """(where, cell) for each row holding one of `cells`: in this program, another, or none."""
    if scope is None:
        for cell in cells:
            yield NONE, cell
        return
    join, owner = scope
    quote = connection.ops.quote_name
    seen: set[str] = set()
    place = f"CASE WHEN {owner} IS NULL THEN {NONE} WHEN {owner} = %s THEN {MINE} ELSE {OTHER} END"
    with connection.cursor() as cursor:
        for start in range(0, len(cells), 500):
            batch = cells[start : start + 500]
            marks = ", ".join(["%s"] * len(batch))
            cursor.execute(
                f"SELECT DISTINCT {place}, t.{quote(column)}{_cast()} FROM {quote(table)} t{join} "  # noqa: S608
                f"WHERE t.{quote(column)}{_cast()} IN ({marks})",
                [program_id, *batch],
            )
            for where, raw in cursor.fetchall():
                cell = _as_text(raw)
                seen.add(cell)
                yield int(where), cell
    # A cell not found again (its text did not compare equal): counted as in no program.
    for cell in cells:
        if cell not in seen:
            yield NONE, cell


def _standalone_in_bytes(value: bytes, data: bytes) -> bool:
    pattern = re.compile(rb"(?<![0-9A-Za-z])" + re.escape(value) + rb"(?![0-9A-Za-z])")
    # Only where the value starts or ends in a letter or digit does the boundary matter.
    return pattern.search(data) is not None


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _scan_file(values: set[str], database_file: Path, result: ScanResult) -> None:
    # Dates are left out of the byte scan: SQLite stores every timestamp as text, so a date of
    # birth equal to the day a case came in would be "found" in that case's own date. They are
    # erased from the date columns, which the column scan and the deletions cover.
    encoded = [value.encode("utf-8") for value in values if not _ISO_DATE.fullmatch(value)]
    for path in (database_file, Path(f"{database_file}-wal")):
        if not path.exists():
            continue
        data = path.read_bytes()
        result.file_bytes += len(data)
        hits = sum(1 for value in encoded if value in data and _standalone_in_bytes(value, data))
        if hits:
            result.found.append({"table": f"file:{path.name}", "column": "", "count": hits})
