"""What other apps run when a version of a target list is applied.

The identification engine keeps an index of the households; it registers a callback here from
its `AppConfig.ready()` rather than the import knowing about it:

    hooks.on_list_applied(rebuild_index)

A callback runs inside the apply transaction, after the rows are written, as
`callback(program, target_import, household_ids)`, where `household_ids` are the households the
version added, changed or marked removed (read their `removed_by_import` to tell). An exception
in a callback rolls the whole version back.
"""

from __future__ import annotations

from collections.abc import Callable

from madoguchi.programs.models import Program
from madoguchi.registry.models import TargetListImport

ListAppliedCallback = Callable[[Program, TargetListImport, list[int]], None]

_callbacks: list[ListAppliedCallback] = []


def on_list_applied(callback: ListAppliedCallback) -> ListAppliedCallback:
    """Register `callback` (once; usable as a decorator)."""
    if callback not in _callbacks:
        _callbacks.append(callback)
    return callback


def remove(callback: ListAppliedCallback) -> None:
    if callback in _callbacks:
        _callbacks.remove(callback)


def list_applied(program: Program, target_import: TargetListImport, household_ids: list[int]) -> None:
    for callback in list(_callbacks):
        callback(program, target_import, household_ids)
