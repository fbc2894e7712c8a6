"""受付番号 (receipt numbers): each program's own increasing numbers, `KJ-000123`.

On PostgreSQL each program draws from its own sequence (`cases_receipt_<program id>`):
`nextval` takes no row lock and is never rolled back, so writers of one program never wait
for each other; a case whose transaction fails leaves a gap in the numbers. The former design,
one counter row per program updated in the case's transaction, kept numbers gapless but made
every new case of a program wait for the previous one's COMMIT: in the load run at 300
operators every lock wait was on that row (docs/benchmarks.md, "Load on the cluster").

On SQLite, which lets one writer at a time anyway, the `ReceiptCounter` row stays: numbers
there are gapless. The row is also where a program's numbers start from when its sequence is
created (the first case after an upgrade continues the counter).

A program's sequence is created by its first case, in that case's transaction, under an
advisory lock so that two first cases do not both create it.
"""

from __future__ import annotations

import zlib
from typing import Any

from django.db import ProgrammingError, connection, transaction

from madoguchi.cases.models import ReceiptCounter
from madoguchi.programs.models import Program

# Programs whose sequence this process has seen committed: no savepoint needed for them.
_known: set[int] = set()


def format_number(program: Program, number: int) -> str:
    return f"{program.receipt_prefix}-{number:06d}"


def sequence_name(program_id: int) -> str:
    return f"cases_receipt_{int(program_id)}"


def _counter_table() -> str:
    return connection.ops.quote_name(ReceiptCounter._meta.db_table)


def _counter_last(cursor: Any, program_id: int) -> int:
    cursor.execute(f"SELECT last_number FROM {_counter_table()} WHERE program_id = %s", [program_id])  # noqa: S608
    row = cursor.fetchone()
    return int(row[0]) if row else 0


def _create_sequence(cursor: Any, program_id: int) -> None:
    # Two first cases of one program: the second waits here until the first commits, then
    # finds the sequence (IF NOT EXISTS) instead of failing on the catalogue's unique index.
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [zlib.crc32(sequence_name(program_id).encode())])
    start = _counter_last(cursor, program_id) + 1
    cursor.execute(f"CREATE SEQUENCE IF NOT EXISTS {sequence_name(program_id)} START WITH {start}")


def _nextval(program_id: int) -> int:
    name = sequence_name(program_id)
    with connection.cursor() as cursor:
        if program_id in _known:
            cursor.execute("SELECT nextval(%s)", [name])
            return int(cursor.fetchone()[0])
        try:
            with transaction.atomic():  # a savepoint: a missing sequence must not end our transaction
                cursor.execute("SELECT nextval(%s)", [name])
                number = int(cursor.fetchone()[0])
        except ProgrammingError:
            _create_sequence(cursor, program_id)
            cursor.execute("SELECT nextval(%s)", [name])
            number = int(cursor.fetchone()[0])
            # Created in this transaction: it exists for others only once we commit.
            transaction.on_commit(lambda: _known.add(program_id))
            return number
    _known.add(program_id)
    return number


def _counter_next(program: Program) -> int:
    sql = (
        f"UPDATE {_counter_table()} SET last_number = last_number + 1 "  # noqa: S608
        "WHERE program_id = %s RETURNING last_number"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [program.pk])
        row = cursor.fetchone()
    if row is None:
        ReceiptCounter.objects.get_or_create(program=program)
        return _counter_next(program)
    return int(row[0])


def next_receipt_number(program: Program) -> str:
    """The program's next number. Call it inside the case's transaction."""
    if connection.vendor == "postgresql":
        return format_number(program, _nextval(program.pk))
    return format_number(program, _counter_next(program))


def take_numbers(program: Program, count: int) -> int:
    """Reserve `count` consecutive numbers for a bulk load (the demo's history); return the first.

    Meant for loads with no other writer of the program: on PostgreSQL a case saved between
    the two statements would take a number inside the block.
    """
    if count <= 0:
        raise ValueError("count must be positive")
    if connection.vendor == "postgresql":
        first = _nextval(program.pk)
        with connection.cursor() as cursor:
            cursor.execute("SELECT setval(%s, %s)", [sequence_name(program.pk), first + count - 1])
        return first
    counter, _created = ReceiptCounter.objects.select_for_update().get_or_create(program=program)
    first = counter.last_number + 1
    counter.last_number = first + count - 1
    counter.save(update_fields=["last_number"])
    return first


def last_number(program: Program) -> int:
    """The last number handed out (0 before the first case)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            try:
                with transaction.atomic():
                    cursor.execute(f"SELECT last_value, is_called FROM {sequence_name(program.pk)}")  # noqa: S608
                    value, called = cursor.fetchone()
                    return int(value) if called else int(value) - 1
            except ProgrammingError:
                pass
        return _counter_last(cursor, program.pk)


def continue_after(program_id: int, last: int) -> None:
    """After a bulk load that wrote numbers itself (the benchmarks): the next case gets last + 1."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_counter_table()} (program_id, last_number) VALUES (%s, %s) "  # noqa: S608
            "ON CONFLICT (program_id) DO UPDATE SET last_number = EXCLUDED.last_number",
            [program_id, last],
        )
        if connection.vendor == "postgresql":
            _create_sequence(cursor, program_id)
            cursor.execute("SELECT setval(%s, %s, %s)", [sequence_name(program_id), max(last, 1), last > 0])
