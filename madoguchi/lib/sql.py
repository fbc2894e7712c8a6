"""Written SQL for the hottest reads: where compiling a queryset costs more than running it.

Only table and column names (quoted by the database's own `quote_name`) and placeholders are
put into the text; every value travels as a parameter."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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


def select_list(model: Any, connection: Any, *, alias: str = "", fields: Sequence[Any] | None = None) -> str:
    """Every concrete column of `model` (or those of `fields`, in the model's order), qualified
    by its table (or `alias`), for a written SELECT whose rows `from_row` turns back into
    instances."""
    quote = connection.ops.quote_name
    name = alias or quote(model._meta.db_table)
    chosen = model._meta.concrete_fields if fields is None else fields
    return ", ".join(f"{name}.{quote(field.column)}" for field in chosen)


def from_row(
    model: Any, values: Sequence[Any], connection: Any, *, fields: Sequence[Any] | None = None
) -> Any:
    """An instance of `model` from the values of its `select_list` columns, converted as the
    ORM converts them (SQLite's dates, times and booleans arrive as text and integers). With
    `fields` (in the model's order), the others are deferred, as `QuerySet.defer` leaves them."""
    converters, attnames = _columns(model, connection, None if fields is None else tuple(fields))
    converted = list(values)
    for index, (expression, chain) in converters.items():
        value = converted[index]
        for converter in chain:
            value = converter(value, expression, connection)
        converted[index] = value
    return model.from_db(connection.alias, attnames, converted)


_COLUMNS: dict[
    tuple[Any, str, tuple[Any, ...] | None], tuple[dict[int, tuple[Any, list[Any]]], list[str]]
] = {}


def _columns(
    model: Any, connection: Any, fields: tuple[Any, ...] | None
) -> tuple[dict[int, tuple[Any, list[Any]]], list[str]]:
    """The ORM's converters of the columns (by index) and their attribute names, worked out once
    per model, database and choice of fields (`None`: every concrete field, the common case,
    whose key hashes no field: every staff request reads three rows this way)."""
    key = (model, connection.vendor, fields)
    found = _COLUMNS.get(key)
    if found is None:
        chosen = tuple(model._meta.concrete_fields) if fields is None else fields
        found = (_converters(model, connection, chosen), [field.attname for field in chosen])
        _COLUMNS[key] = found
    return found


_CONVERTERS: dict[tuple[Any, str, tuple[Any, ...]], dict[int, tuple[Any, list[Any]]]] = {}


def _converters(model: Any, connection: Any, fields: tuple[Any, ...]) -> dict[int, tuple[Any, list[Any]]]:
    """The ORM's converters of `fields`' columns on `connection` (by column index), computed once."""
    key = (model, connection.vendor, fields)
    if key not in _CONVERTERS:
        found = {}
        for index, field in enumerate(fields):
            expression = field.get_col(model._meta.db_table)
            converters = connection.ops.get_db_converters(expression) + expression.get_db_converters(
                connection
            )
            if converters:
                found[index] = (expression, converters)
        _CONVERTERS[key] = found
    return _CONVERTERS[key]


def insert_columns(model: Any, connection: Any) -> tuple[list[str], list[Any]]:
    """The quoted columns of a new row of `model` and their fields, as the ORM's INSERT has them
    (every concrete column but an automatic primary key); worked out once per database."""
    key = (model, connection.vendor)
    if key not in _INSERT_COLUMNS:
        meta = model._meta
        fields = [field for field in meta.local_concrete_fields if field is not meta.auto_field]
        quote = connection.ops.quote_name
        _INSERT_COLUMNS[key] = ([quote(field.column) for field in fields], fields)
    return _INSERT_COLUMNS[key]


def insert_values(instance: Any, fields: Sequence[Any], connection: Any) -> list[Any]:
    """`instance`'s values for an INSERT, as `Model.save()` prepares them (`auto_now_add` and
    `auto_now` fields are set on the instance, as a save sets them)."""
    return [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields]


def mark_saved(instance: Any, pk: Any, connection: Any) -> None:
    """Make `instance` what `save()` leaves behind once its row is inserted with primary key `pk`."""
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = connection.alias


_INSERT_COLUMNS: dict[tuple[Any, str], tuple[list[str], list[Any]]] = {}
