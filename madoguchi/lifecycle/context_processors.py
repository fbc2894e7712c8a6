"""The banner every staff page shows while a program of the user is being, or has been, erased.

The programs it names are read with the session's user, in the statement that reads them on
every staff request (`SESSION_READ`, accounts.otp): no query of its own. A change of a
program's erasure state in the request (`forget_notices`) has the banner read again when it is
shown, so a page shows what its own request changed.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest

from madoguchi.accounts.otp import SessionRead
from madoguchi.core.request_context import forget, memoized, remember
from madoguchi.lib.lazy import LazyList
from madoguchi.lib.sql import fetch_all, placeholders, table
from madoguchi.lifecycle.models import ErasureState, ProgramErasure
from madoguchi.programs.models import Program
from madoguchi.programs.scoping import member_program_condition, program_ids


def erasure_banner(request: HttpRequest) -> dict[str, Any]:
    """The notices, read only if the template shows them (an htmx fragment never does)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or request.path.startswith("/inquiry/"):
        return {}
    return {"erasure_notices": LazyList(lambda: _notices(user))}


def _notices(user: Any) -> list[dict[str, Any]]:
    ids = program_ids(user, "view")
    if not ids:
        return []
    rows = memoized(_memo_key(user), lambda: _erasures(ids))
    return [{"program": name, "erasing": state == ErasureState.ERASING} for name, state in rows]


MEMO_KIND = "erasures"


def _memo_key(user: Any) -> tuple[Any, ...]:
    # As `program_ids`' key: the rows are those of the user's programs.
    return (MEMO_KIND, user.pk, user.organisation_id, user.role)


def forget_notices() -> None:
    """A program's erasure state changed in this request: the banner reads it again."""
    forget(MEMO_KIND)


def _session_sql(connection: Any, user_table: str, organisation_table: str) -> str:
    """`_erasures` of the user's programs (`program_ids`' programs) as a subquery of the
    session's statement: a JSON array of [name, state] (NULL for none)."""
    programs, erasures = table(Program), table(ProgramErasure)
    rows = (
        "json_agg(json_build_array(p.name, e.state))::text"
        if connection.vendor == "postgresql"
        else "json_group_array(json_array(p.name, e.state))"
    )
    states = ", ".join(f"'{state}'" for state in (ErasureState.ERASING, ErasureState.ERASED))
    return (
        f"SELECT {rows} FROM {erasures} e INNER JOIN {programs} p ON p.id = e.program_id "  # noqa: S608 - names and constants
        f"WHERE e.state IN ({states}) "
        f"AND {member_program_condition(user_table)} "
        # SQLite's json_group_array gives '[]' where PostgreSQL's json_agg gives NULL.
        "HAVING COUNT(*) > 0"
    )


def _keep(user: Any, value: Any) -> None:
    rows = [(str(name), str(state)) for name, state in json.loads(value)] if value else []
    remember(_memo_key(user), rows)


SESSION_READ = SessionRead("erasure_notices", _session_sql, _keep)


def _erasures(program_ids: list[int]) -> list[tuple[str, str]]:
    """The name and erasure state of each program of `program_ids` being or been erased: one
    written statement, as every staff page asks (compiling the queryset cost more than it)."""
    marks, ids = placeholders(program_ids)
    rows = fetch_all(
        ProgramErasure,
        f"SELECT p.name, e.state FROM {table(ProgramErasure)} e "  # noqa: S608 - names and placeholders only
        f"INNER JOIN {table(Program)} p ON p.id = e.program_id "
        f"WHERE e.program_id IN ({marks}) AND e.state IN (%s, %s)",
        [*ids, ErasureState.ERASING, ErasureState.ERASED],
    )
    return [(name, state) for name, state in rows]
