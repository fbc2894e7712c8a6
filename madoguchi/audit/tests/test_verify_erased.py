"""`verify` and the end-of-program erasure: an emptied change passes only under its program's seal."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from madoguchi.audit.models import Action, AuditChange
from madoguchi.audit.services import record
from madoguchi.audit.verify import ERASURE_SEAL_TYPE, verify_chain

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "sqlite", reason="the trigger refuses these edits on PostgreSQL"),
]


def _changed(program_id: int) -> AuditChange:
    event = record(
        action=Action.UPDATE,
        program_id=program_id,
        object_type="case",
        object_id="1",
        before={"case.inquiry": "secret"},
        after={"case.inquiry": "other"},
    )
    return AuditChange.objects.get(event=event)


def _empty(change: AuditChange) -> None:
    AuditChange.objects.filter(pk=change.pk).update(before={}, after={}, erased_at=timezone.now())


def _seal(program_id: int) -> None:
    record(action=Action.PURGE, program_id=program_id, object_type=ERASURE_SEAL_TYPE, object_id="p")


def test_an_emptied_change_without_a_seal_is_altered(world) -> None:  # type: ignore[no-untyped-def]
    change = _changed(world.program.pk)
    _empty(change)
    report = verify_chain()
    assert not report.ok and report.problem is not None and report.problem.kind == "altered"


def test_an_emptied_change_before_its_programs_seal_passes(world) -> None:  # type: ignore[no-untyped-def]
    change = _changed(world.program.pk)
    _seal(world.program.pk)
    _empty(change)
    assert verify_chain().ok


def test_another_programs_seal_does_not_cover_it(world) -> None:  # type: ignore[no-untyped-def]
    change = _changed(world.program.pk)
    _seal(world.other_program.pk)
    _empty(change)
    assert not verify_chain().ok


def test_a_change_after_the_seal_is_not_covered(world) -> None:  # type: ignore[no-untyped-def]
    _seal(world.program.pk)
    change = _changed(world.program.pk)
    _empty(change)
    assert not verify_chain().ok


def test_erased_but_not_empty_is_altered(world) -> None:  # type: ignore[no-untyped-def]
    change = _changed(world.program.pk)
    _seal(world.program.pk)
    AuditChange.objects.filter(pk=change.pk).update(
        before={"case.inquiry": "forged"}, erased_at=timezone.now()
    )
    assert not verify_chain().ok


def test_unmarked_edits_are_still_caught(world) -> None:  # type: ignore[no-untyped-def]
    change = _changed(world.program.pk)
    _seal(world.program.pk)
    AuditChange.objects.filter(pk=change.pk).update(before={}, after={})
    assert not verify_chain().ok
