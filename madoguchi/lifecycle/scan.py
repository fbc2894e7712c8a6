"""The erasure's proof: every personal value it erased, looked for everywhere it could remain.

`collect_values()` reads, before anything is erased, every personal value the program holds
(names as written and as search keys, readings, household numbers, postal codes, addresses,
phones, e-mails, dates of birth as stored): they are kept in memory only, never written.
`scan()` then reads every text column of every table (DISTINCT values, streamed) and, on
SQLite, the raw bytes of the database file and its WAL, and reports where any of them occurs.

Matching is by substring: a cell holds a value if the value appears anywhere in it. Values
shorter than `MIN_LENGTH` characters are not looked for (a two-letter key would match
unrelated text); the certificate says how many were skipped.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import connection

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
        size = len(cell)
        count = 0
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
                    count += 1
        return count


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


def scan(values: Values, *, database_file: Path | None = None) -> ScanResult:
    result = ScanResult(values=len(values.values), skipped_short=values.skipped_short)
    if not values.values:
        return result
    matcher = Matcher(values.values)
    quote = connection.ops.quote_name
    for table, columns in _text_columns():
        result.tables += 1
        for column in columns:
            result.columns += 1
            cast = "::text" if connection.vendor == "postgresql" else ""
            sql = (
                f"SELECT DISTINCT {quote(column)}{cast} FROM {quote(table)} "  # noqa: S608
                f"WHERE {quote(column)} IS NOT NULL"
            )
            hits = 0
            with connection.cursor() as cursor:
                try:
                    cursor.execute(sql)
                except Exception:
                    result.unreadable.append(table)
                    continue
                while rows := cursor.fetchmany(5000):
                    for (cell,) in rows:
                        if isinstance(cell, bytes | memoryview):
                            cell = bytes(cell).decode("utf-8", "replace")
                        elif not isinstance(cell, str):
                            cell = str(cell)
                        result.cells += 1
                        if cell:
                            hits += matcher.hits(cell)
            if hits:
                result.found.append({"table": table, "column": column, "count": hits})
    if database_file is not None:
        _scan_file(values, database_file, result)
    return result


def _standalone_in_bytes(value: bytes, data: bytes) -> bool:
    pattern = re.compile(rb"(?<![0-9A-Za-z])" + re.escape(value) + rb"(?![0-9A-Za-z])")
    # Only where the value starts or ends in a letter or digit does the boundary matter.
    return pattern.search(data) is not None


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _scan_file(values: Values, database_file: Path, result: ScanResult) -> None:
    # Dates are left out of the byte scan: SQLite stores every timestamp as text, so a date of
    # birth equal to the day a case came in would be "found" in that case's own date. They are
    # erased from the date columns, which the column scan and the deletions cover.
    encoded = [value.encode("utf-8") for value in values.values if not _ISO_DATE.fullmatch(value)]
    for path in (database_file, Path(f"{database_file}-wal")):
        if not path.exists():
            continue
        data = path.read_bytes()
        result.file_bytes += len(data)
        hits = sum(1 for value in encoded if value in data and _standalone_in_bytes(value, data))
        if hits:
            result.found.append({"table": f"file:{path.name}", "column": "", "count": hits})
