"""The purge's rewrites on PostgreSQL beside an older transaction of another database (horizon.py).

A transaction with an id, open in another database of the same server, stands for another
database's long load: before the rewrites waited for it, the erasure's last `VACUUM FULL`
failed on it (`missing chunk number 0 for toast value …`), and a rewrite kept the erased row
versions it could still have read.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.db import connection
from django.test import Client

from madoguchi.accounts.testing import login
from madoguchi.cases.models import Case
from madoguchi.lifecycle import horizon, services
from madoguchi.lifecycle.models import ErasureState, ProgramErasure
from madoguchi.lifecycle.tests.conftest import CALLER_EMAIL, Life, approved, end_recording
from madoguchi.lifecycle.tests.test_purge import _leave_in_this_program

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's VACUUM FULL"),
]


@pytest.fixture
def elsewhere() -> Iterator[psycopg.Connection[Any]]:
    """A transaction holding a transaction id in another database of the same server."""
    settings = connection.settings_dict
    other = psycopg.connect(
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        user=settings["USER"] or None,
        password=settings["PASSWORD"] or None,
        dbname="postgres",
    )
    other.execute("SELECT pg_current_xact_id()")
    try:
        yield other
    finally:
        other.close()


def _release_when_waited_for(monkeypatch: pytest.MonkeyPatch, other: psycopg.Connection[Any]) -> list[Any]:
    """End the other database's transaction the first time a rewrite finds it in its way."""
    seen: list[Any] = []
    older_than = horizon.older_than

    def watching(cursor: Any, mark: int) -> Any:
        holder = older_than(cursor, mark)
        if holder is not None and not seen:
            seen.append(holder)
            other.rollback()
        return holder

    monkeypatch.setattr(horizon, "older_than", watching)
    return seen


def _dead_versions(table: str) -> tuple[int, int]:
    """Dead row versions left in the table's files and in its TOAST table's (pgstattuple)."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pgstattuple")
        cursor.execute("SELECT reltoastrelid::regclass::text FROM pg_class WHERE oid = %s::regclass", [table])
        toast = cursor.fetchone()[0]
        counts = []
        for relation in (table, toast):
            cursor.execute("SELECT dead_tuple_count FROM pgstattuple(%s)", [relation])
            counts.append(cursor.fetchone()[0])
        return counts[0], counts[1]


def test_a_refused_scan_and_its_reruns_wait_for_another_databases_transaction(
    life: Life, elsewhere: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The flaky run's sequence (test_purge.py: a refused scan, a rerun, a clean rerun), which
    ended in `missing chunk number 0 for toast value …` at the seal's rewrite."""
    end_recording(life.program)
    approved(life, waive_return=True)
    seen = _release_when_waited_for(monkeypatch, elsewhere)
    hook = _leave_in_this_program(CALLER_EMAIL)
    hook.program = life.program  # type: ignore[attr-defined]
    services.after_step = hook
    try:
        with pytest.raises(services.LifecycleRefused):
            services.purge(program=life.program, actor=life.world.ward_manager)
    finally:
        services.after_step = None
    erasure = ProgramErasure.objects.get(program=life.program)
    first_run = erasure.physical
    with pytest.raises(services.LifecycleRefused):
        services.purge(program=life.program, actor=life.world.ward_manager)
    Case.objects.filter(program=life.program).update(inquiry="")
    report = services.purge(program=life.program, actor=life.world.ward_manager)
    assert report.scan["clean"] is True
    erasure.refresh_from_db()
    assert erasure.state == ErasureState.ERASED and erasure.scan_values_sealed is None
    # The first run's rewrite waited for the other database's transaction, the others had no need.
    assert len(seen) == 1 and f"pid {elsewhere.info.backend_pid}、postgres" in str(seen[0])
    assert first_run["waited_seconds"] > 0 and erasure.physical["waited_seconds"] == 0
    # What the certificate says: the rewritten files hold no erased version.
    assert _dead_versions("lifecycle_programerasure") == (0, 0)
    assert _dead_versions("cases_case") == (0, 0)


def test_the_purge_refuses_while_an_older_transaction_stays_and_a_rerun_finishes(
    life: Life, elsewhere: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    end_recording(life.program)
    approved(life, waive_return=True)
    monkeypatch.setattr(services, "REWRITE_WAIT_SECONDS", 0.5)
    with pytest.raises(services.LifecycleRefused, match=rf"pid {elsewhere.info.backend_pid}、postgres"):
        services.purge(program=life.program, actor=life.world.ward_manager)
    erasure = ProgramErasure.objects.get(program=life.program)
    assert erasure.state == ErasureState.ERASING and not erasure.certificate_pdf
    assert len(erasure.steps_done) == len(services.STEPS)  # only the rewrite is left
    elsewhere.rollback()
    report = services.purge(program=life.program, actor=life.world.ward_manager)
    assert report.scan["clean"] is True
    erasure.refresh_from_db()
    assert erasure.state == ErasureState.ERASED and erasure.certificate_pdf
    assert erasure.physical["waited_seconds"] == 0


def test_a_seal_rewrite_refused_after_the_certificate_is_done_by_a_rerun(
    life: Life, elsewhere: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    end_recording(life.program)
    approved(life, waive_return=True)
    elsewhere.rollback()
    drop = services._drop_sealed_values

    def held_from_the_certificate_on(erasure: ProgramErasure, wait_seconds: float | None = None) -> None:
        # Begun before the seal is cleared: its snapshot may still read the sealed version.
        elsewhere.execute("SELECT pg_current_xact_id()")
        monkeypatch.setattr(services, "REWRITE_WAIT_SECONDS", 0.5)
        drop(erasure, wait_seconds)

    monkeypatch.setattr(services, "_drop_sealed_values", held_from_the_certificate_on)
    with pytest.raises(services.LifecycleRefused, match="消去証明書は発行しました"):
        services.purge(program=life.program, actor=life.world.ward_manager)
    erasure = ProgramErasure.objects.get(program=life.program)
    assert erasure.state == ErasureState.ERASED and erasure.certificate_pdf
    assert erasure.scan_values_sealed is None
    assert _dead_versions("lifecycle_programerasure")[0] > 0  # the sealed versions are kept yet
    elsewhere.rollback()
    monkeypatch.setattr(services, "_drop_sealed_values", drop)
    assert services.purge(program=life.program, actor=life.world.ward_manager).already_done
    assert _dead_versions("lifecycle_programerasure") == (0, 0)


def test_the_screen_waits_seconds_not_minutes_and_its_rerun_finishes(
    life: Life, elsewhere: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The screen's run lives inside a web request (gunicorn ends it after 60 s): it waits for
    an older transaction only SCREEN_REWRITE_WAIT_SECONDS, not the command's ten minutes."""
    end_recording(life.program)
    approved(life, waive_return=True)
    monkeypatch.setattr(services, "REWRITE_WAIT_SECONDS", 30.0)
    monkeypatch.setattr(services, "SCREEN_REWRITE_WAIT_SECONDS", 0.5)
    manager = Client()
    login(manager, life.world.ward_manager)
    started = time.monotonic()
    response = manager.post(f"/lifecycle/{life.program.code}/purge", follow=True)
    assert time.monotonic() - started < 15
    assert f"pid {elsewhere.info.backend_pid}、postgres" in response.content.decode()
    erasure = ProgramErasure.objects.get(program=life.program)
    assert erasure.state == ErasureState.ERASING and not erasure.certificate_pdf
    elsewhere.rollback()
    assert manager.post(f"/lifecycle/{life.program.code}/purge").status_code == 302
    erasure.refresh_from_db()
    assert erasure.state == ErasureState.ERASED and erasure.certificate_pdf
