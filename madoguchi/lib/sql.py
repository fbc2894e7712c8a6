"""Written SQL for the hottest reads: where compiling a queryset costs more than running it.

Only table and column names (quoted by the database's own `quote_name`) and placeholders are
put into the text; every value travels as a parameter."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connections


def placeholders(values: Iterable[Any]) -> tuple[str, list[Any]]:
    """`"%s, %s, …"` for an `IN (…)` list of `values`, and the values as a list."""
    items = list(values)
    return ", ".join(["%s"] * len(items)), items


def table(model: Any) -> str:
    """`model`'s table name, quoted for the database its manager reads from."""
    return str(connections[model.objects.db].ops.quote_name(model._meta.db_table))


def fetch_all(model: Any, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """The rows of `sql`, run on the database `model`'s manager reads from."""
    with connections[model.objects.db].cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())
