"""On SQLite too the audit events are append-only (issue #14): triggers refuse UPDATE and
DELETE; the retention purge gets through with its permit, flush (tests) with its own."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from madoguchi.audit.models import Action, AuditChange, AuditEvent
from madoguchi.audit.services import purge, record
from madoguchi.audit.verify import verify_chain

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only (see test_postgres)")


@pytest.mark.django_db
class SqliteAppendOnlyTests:
    def test_update_of_an_event_is_refused(self, world):
        record(action=Action.VIEW, actor=world.operator, object_id=1)
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEvent.objects.filter(seq=1).update(object_id="2")
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("UPDATE audit_auditevent SET hash = 'x'")
        assert AuditEvent.objects.get(seq=1).object_id == "1"

    def test_delete_of_an_event_is_refused(self, world):
        record(action=Action.VIEW, actor=world.operator, object_id=1)
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEvent.objects.all().delete()
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("DELETE FROM audit_auditevent")
        assert AuditEvent.objects.count() == 1

    def test_the_changes_table_stays_writable_for_the_end_of_program_erasure(self, world):
        record(action=Action.UPDATE, actor=world.operator, before={"a": "x"}, after={"a": "y"})
        AuditChange.objects.update(before={}, after={})

    def test_the_retention_purge_gets_through_and_leaves_no_permit(self, world, settings, monkeypatch):
        from django.utils import timezone

        settings.AUDIT_RETENTION_DAYS = 1
        old = timezone.make_aware(datetime.datetime(2024, 1, 10, 12, 0))
        monkeypatch.setattr(timezone, "now", lambda: old)
        for n in range(3):
            record(action=Action.VIEW, actor=world.operator, object_id=n)
        monkeypatch.undo()
        record(action=Action.VIEW, actor=world.operator, object_id=9)
        result = purge(before=datetime.date(2024, 6, 1))
        assert result.count == 3
        assert verify_chain().ok
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM audit_purge_permit")
            assert cursor.fetchone()[0] == 0
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEvent.objects.all().delete()


@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_audit_table(world):
    record(action=Action.VIEW, actor=world.operator, object_id=1)
    call_command("flush", "--noinput", verbosity=0)
    assert AuditEvent.objects.count() == 0
