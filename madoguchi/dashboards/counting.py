"""The triggers that keep `CaseCount` (see models.py) in step with `cases_case`.

PostgreSQL: a PL/pgSQL row trigger. On an UPDATE it moves the case only for the kinds whose
key changed, and takes the two rows of a kind in key order, so two transactions moving cases
in opposite directions cannot deadlock on them; a TRUNCATE of the cases empties the counts.
SQLite: plain triggers with upserts (one writer at a time). A migration that rebuilds
`cases_case` on SQLite drops its triggers, so they are installed again after every migrate
(`ensure_installed`, from the app's post_migrate), like the cases' search triggers.

Stripes (PostgreSQL): every new case adds 1 to its day's RECEIVED row and to its state's row,
and concurrent writers of one program mostly share those rows (all the web inquiries of a day
without a category: the same two rows). A row updated in a transaction stays locked until its
COMMIT, so those writers would queue on it. Each connection therefore writes to its own stripe
of a count: `stripe` is the backend's pid, which no two live connections share, so no writer
ever waits for another's COMMIT on a count. (It was the pid mod 16: two connections of 16 or
more shared a stripe, and a web form's worker, at a lower CPU priority in its own pool and
preempted inside its transaction, held up the staff writer beside it; docs/deploy.md.)
Readers sum over the stripes, as they sum over every other key, and `compact` (`madoguchi
compact-counts`, from cron every 10 minutes) folds the stripes back into stripe 0, so the
dashboards read few rows (at most one per key and connection since the last compaction).
SQLite writes stripe 0 only.

`rebuild` recounts everything from the cases (after a bulk load that bypassed the triggers).
`triggers_off` is that bulk load: a row trigger per inserted case, all upserting the same few
count rows inside one transaction, makes a million-row INSERT take tens of minutes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# Static SQL of this module only; no value from input is ever formatted in.
# ruff: noqa: S608

TABLE = "dashboards_casecount"
KEY = "program_id, kind, day, status, channel, category_key, assignee_key, answered, hour"
UNIQUE = f"{KEY}, stripe"
NO_DAY = "1970-01-01"
T = "dashboards_casecount_tuple"


def _pg_day(expr: str) -> str:
    return f"(({expr}) AT TIME ZONE 'Asia/Tokyo')::date"


def _sqlite_day(expr: str) -> str:
    return f"date({expr}, '+9 hours')"


def _hour(day: Any, expr: str) -> str:
    """The hour (JST) of a timestamp, 0-23, in the dialect of `day`."""
    if day is _pg_day:
        return f"extract(hour FROM ({expr}) AT TIME ZONE 'Asia/Tokyo')::smallint"
    return f"CAST(strftime('%H', {expr}, '+9 hours') AS INTEGER)"


def _keys(row: str, day: Any, false: str, true_if: str) -> dict[str, str]:
    """The four (kind, key...) tuples of a case row, as SQL value lists."""
    return {
        "received": (
            f"{row}.program_id, 'received', {day(f'{row}.received_at')}, '', {row}.channel, "
            f"coalesce({row}.category_id, 0), 0, {false}, 0"
        ),
        "answered": (
            f"{row}.program_id, 'answered', {day(f'{row}.ward_answered_at')}, '', {row}.channel, "
            f"coalesce({row}.category_id, 0), 0, {false}, 0"
        ),
        "state": (
            f"{row}.program_id, 'state', "
            f"CASE WHEN {row}.status = 'escalated' AND {row}.ward_due_on IS NOT NULL THEN {row}.ward_due_on "
            f"WHEN {row}.status = 'callback' AND {row}.callback_due_on IS NOT NULL "
            f"THEN {row}.callback_due_on "
            f"ELSE {_no_day(day)} END, "
            f"{row}.status, {row}.channel, 0, coalesce({row}.assignee_id, 0), {true_if.format(row=row)}, 0"
        ),
        "hourly": (
            f"{row}.program_id, 'hourly', {day(f'{row}.received_at')}, '', {row}.channel, 0, 0, {false}, "
            f"{_hour(day, f'{row}.received_at')}"
        ),
    }


def _no_day(day: Any) -> str:
    return f"DATE '{NO_DAY}'" if day is _pg_day else f"'{NO_DAY}'"


CHANGED = (
    "OLD.program_id IS NOT NEW.program_id OR OLD.received_at IS NOT NEW.received_at "
    "OR OLD.channel IS NOT NEW.channel OR OLD.category_id IS NOT NEW.category_id "
    "OR OLD.ward_answered_at IS NOT NEW.ward_answered_at OR OLD.status IS NOT NEW.status "
    "OR OLD.assignee_id IS NOT NEW.assignee_id OR OLD.ward_due_on IS NOT NEW.ward_due_on "
    "OR OLD.callback_due_on IS NOT NEW.callback_due_on"
)


# --- PostgreSQL ------------------------------------------------------------------------------------


def _pg_sql() -> list[str]:
    def keys(row: str) -> dict[str, str]:
        return _keys(row, _pg_day, "false", "{row}.ward_answered_at IS NOT NULL")

    old, new = keys("OLD"), keys("NEW")
    body = []
    for kind in ("received", "answered", "state", "hourly"):
        old_present = "OLD.ward_answered_at IS NOT NULL" if kind == "answered" else "true"
        new_present = "NEW.ward_answered_at IS NOT NULL" if kind == "answered" else "true"
        body.append(
            f"""
    IF TG_OP = 'INSERT' THEN
      IF {new_present} THEN PERFORM dashboards_casecount_bump(ROW({new[kind]})::{T}, 1); END IF;
    ELSIF TG_OP = 'DELETE' THEN
      IF {old_present} THEN PERFORM dashboards_casecount_bump(ROW({old[kind]})::{T}, -1); END IF;
    ELSE
      o := CASE WHEN {old_present} THEN ROW({old[kind]})::{T} END;
      n := CASE WHEN {new_present} THEN ROW({new[kind]})::{T} END;
      IF o IS DISTINCT FROM n THEN
        IF n IS NULL OR (o IS NOT NULL AND (o::text) <= (n::text)) THEN
          IF o IS NOT NULL THEN PERFORM dashboards_casecount_bump(o, -1); END IF;
          IF n IS NOT NULL THEN PERFORM dashboards_casecount_bump(n, 1); END IF;
        ELSE
          PERFORM dashboards_casecount_bump(n, 1);
          IF o IS NOT NULL THEN PERFORM dashboards_casecount_bump(o, -1); END IF;
        END IF;
      END IF;
    END IF;"""
        )
    changed = CHANGED.replace(" IS NOT ", " IS DISTINCT FROM ")
    return [
        "DROP TYPE IF EXISTS dashboards_casecount_tuple CASCADE",
        f"CREATE TYPE {T} AS (program_id bigint, kind varchar, day date, status varchar, "
        "channel varchar, category_key bigint, assignee_key bigint, answered boolean, hour smallint)",
        f"""
CREATE OR REPLACE FUNCTION dashboards_casecount_bump(k dashboards_casecount_tuple, delta integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO {TABLE} ({KEY}, stripe, n)
  VALUES (k.program_id, k.kind, k.day, k.status, k.channel, k.category_key, k.assignee_key, k.answered,
          k.hour, pg_backend_pid(), delta)
  ON CONFLICT ({UNIQUE}) DO UPDATE SET n = {TABLE}.n + EXCLUDED.n;
END $$""",
        f"""
CREATE OR REPLACE FUNCTION dashboards_casecount_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  o dashboards_casecount_tuple;
  n dashboards_casecount_tuple;
BEGIN
{"".join(body)}
  RETURN NULL;
END $$""",
        f"""
CREATE OR REPLACE FUNCTION dashboards_casecount_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM {TABLE};
  RETURN NULL;
END $$""",
        "DROP TRIGGER IF EXISTS dashboards_casecount_insdel ON cases_case",
        "DROP TRIGGER IF EXISTS dashboards_casecount_update ON cases_case",
        "DROP TRIGGER IF EXISTS dashboards_casecount_truncate ON cases_case",
        "CREATE TRIGGER dashboards_casecount_insdel AFTER INSERT OR DELETE ON cases_case "
        "FOR EACH ROW EXECUTE FUNCTION dashboards_casecount_row()",
        f"CREATE TRIGGER dashboards_casecount_update AFTER UPDATE ON cases_case FOR EACH ROW "
        f"WHEN ({changed}) EXECUTE FUNCTION dashboards_casecount_row()",
        "CREATE TRIGGER dashboards_casecount_truncate AFTER TRUNCATE ON cases_case "
        "FOR EACH STATEMENT EXECUTE FUNCTION dashboards_casecount_truncate()",
    ]


# --- SQLite ----------------------------------------------------------------------------------------

SQLITE_TRIGGERS = (
    "dashboards_casecount_insert",
    "dashboards_casecount_delete",
    "dashboards_casecount_update",
)


def _sqlite_upserts(row: str, delta: int) -> str:
    keys = _keys(row, _sqlite_day, "0", "({row}.ward_answered_at IS NOT NULL)")
    statements = []
    for kind, values in keys.items():
        condition = f"{row}.ward_answered_at IS NOT NULL" if kind == "answered" else "1"
        statements.append(
            f"INSERT INTO {TABLE} ({KEY}, n) SELECT {values}, {delta} WHERE {condition} "
            f"ON CONFLICT ({UNIQUE}) DO UPDATE SET n = n + excluded.n;"
        )
    return "\n".join(statements)


def _sqlite_sql() -> list[str]:
    return [
        f"CREATE TRIGGER IF NOT EXISTS dashboards_casecount_insert AFTER INSERT ON cases_case BEGIN\n"
        f"{_sqlite_upserts('NEW', 1)}\nEND",
        f"CREATE TRIGGER IF NOT EXISTS dashboards_casecount_delete AFTER DELETE ON cases_case BEGIN\n"
        f"{_sqlite_upserts('OLD', -1)}\nEND",
        f"CREATE TRIGGER IF NOT EXISTS dashboards_casecount_update AFTER UPDATE ON cases_case "
        f"WHEN {CHANGED} BEGIN\n{_sqlite_upserts('OLD', -1)}\n{_sqlite_upserts('NEW', 1)}\nEND",
    ]


# --- install and rebuild ---------------------------------------------------------------------------


def install(connection: Any) -> None:
    """(Re)install the triggers: PostgreSQL replaces its functions, SQLite's are dropped first."""
    statements = (
        _pg_sql()
        if connection.vendor == "postgresql"
        else [f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS] + _sqlite_sql()
    )
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def is_installed(connection: Any) -> bool:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT count(*) FROM pg_trigger "
                "WHERE tgname LIKE 'dashboards_casecount_%%' AND NOT tgisinternal"
            )
            return bool(cursor.fetchone()[0] == 3)
        cursor.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'dashboards_casecount_%'"
        )
        return bool(cursor.fetchone()[0] == len(SQLITE_TRIGGERS))


def ensure_installed(connection: Any) -> None:
    """After a migrate: put the triggers back if a table rebuild dropped them."""
    if connection.vendor not in ("postgresql", "sqlite"):
        return
    table_names = connection.introspection.table_names()
    if TABLE not in table_names or "cases_case" not in table_names:
        return
    if not is_installed(connection):
        install(connection)
        rebuild(connection)


@contextmanager
def triggers_off(connection: Any) -> Iterator[None]:
    """Bulk-load cases without the counting triggers, then recount once (`rebuild`)."""
    pg = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if pg:
            cursor.execute("ALTER TABLE cases_case DISABLE TRIGGER dashboards_casecount_insdel")
            cursor.execute("ALTER TABLE cases_case DISABLE TRIGGER dashboards_casecount_update")
        else:
            for name in SQLITE_TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if pg:
                cursor.execute("ALTER TABLE cases_case ENABLE TRIGGER dashboards_casecount_insdel")
                cursor.execute("ALTER TABLE cases_case ENABLE TRIGGER dashboards_casecount_update")
        if not pg:
            install(connection)
        rebuild(connection)


def rebuild(connection: Any) -> None:
    """Recount from the cases (one pass per kind): after a bulk load without the triggers."""
    pg = connection.vendor == "postgresql"
    day = _pg_day if pg else _sqlite_day
    false, answered = (
        ("false", "c.ward_answered_at IS NOT NULL") if pg else ("0", "(c.ward_answered_at IS NOT NULL)")
    )
    keys = _keys("c", day, false, answered.replace("c.", "{row}."))
    columns = ", ".join(f"k{i}" for i in range(len(KEY.split(","))))
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE}")
        for kind, values in keys.items():
            where = "WHERE c.ward_answered_at IS NOT NULL" if kind == "answered" else ""
            cursor.execute(
                f"INSERT INTO {TABLE} ({KEY}, n) SELECT {columns}, count(*) FROM "
                f"(SELECT {_aliased(values)} FROM cases_case c {where}) AS keyed GROUP BY {columns}"
            )


def compact(connection: Any) -> int:
    """Fold every stripe into stripe 0 and drop the rows that count nothing; return rows folded.

    One statement on PostgreSQL: the stripes' rows are deleted and their sums added to stripe 0.
    A writer bumping a stripe meanwhile waits for this statement only, then inserts it afresh.
    """
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH moved AS (DELETE FROM {TABLE} WHERE stripe <> 0 RETURNING {KEY}, n) "
            f"INSERT INTO {TABLE} ({KEY}, stripe, n) SELECT {KEY}, 0, sum(n) FROM moved "
            f"GROUP BY {KEY} ON CONFLICT ({UNIQUE}) DO UPDATE SET n = {TABLE}.n + EXCLUDED.n"
        )
        folded = int(cursor.rowcount or 0)
        cursor.execute(f"DELETE FROM {TABLE} WHERE n = 0")
    return folded


def _aliased(values: str) -> str:
    """Name the key expressions k0, k1, … (split on the top-level commas)."""
    parts, depth, current = [], 0, ""
    for char in values:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    parts.append(current.strip())
    return ", ".join(f"{part} AS k{i}" for i, part in enumerate(parts))
