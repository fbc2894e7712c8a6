"""The banner every staff page shows while a program of the user is being, or has been, erased."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from madoguchi.lib.sql import fetch_all, placeholders, table
from madoguchi.lifecycle.models import ErasureState, ProgramErasure
from madoguchi.programs.models import Program
from madoguchi.programs.scoping import program_ids


def erasure_banner(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or request.path.startswith("/inquiry/"):
        return {}
    ids = program_ids(user, "view")
    if not ids:
        return {"erasure_notices": []}
    return {
        "erasure_notices": [
            {"program": name, "erasing": state == ErasureState.ERASING} for name, state in _erasures(ids)
        ]
    }


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
