"""The banner every staff page shows while a program of the user is being, or has been, erased."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from madoguchi.lib.lazy import LazyList
from madoguchi.lib.sql import fetch_all, placeholders, table
from madoguchi.lifecycle.models import ErasureState, ProgramErasure
from madoguchi.programs.models import Program
from madoguchi.programs.scoping import program_ids


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
    return [{"program": name, "erasing": state == ErasureState.ERASING} for name, state in _erasures(ids)]


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
