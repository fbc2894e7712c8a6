"""T-FA-07: when the audit row cannot be written, the change it describes fails with it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import DatabaseError, connection, transaction

from madoguchi.accounts.models import Organisation
from madoguchi.audit.models import Action, AuditEvent
from madoguchi.audit.services import record


@contextmanager
def audit_store_down() -> Iterator[None]:
    """Make every INSERT into the events table fail, as a revoked grant or a full disk would."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION test_audit_down() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'audit store down'; END; $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER test_audit_down BEFORE INSERT ON audit_auditevent "
                "FOR EACH ROW EXECUTE FUNCTION test_audit_down()"
            )
        else:
            cursor.execute(
                "CREATE TRIGGER test_audit_down BEFORE INSERT ON audit_auditevent "
                "BEGIN SELECT RAISE(ABORT, 'audit store down'); END"
            )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "DROP TRIGGER test_audit_down"
                + (" ON audit_auditevent" if connection.vendor == "postgresql" else "")
            )
            if connection.vendor == "postgresql":
                cursor.execute("DROP FUNCTION test_audit_down()")


@pytest.mark.django_db
class FailClosedTests:
    def test_a_failing_audit_write_rolls_the_change_back(self, world, caplog):
        with audit_store_down():
            with pytest.raises(DatabaseError), transaction.atomic():
                Organisation.objects.create(code="new-ward", name="新しい区", kind=Organisation.Kind.WARD)
                record(
                    action=Action.CREATE,
                    actor=world.ward_manager,
                    object_type="organisation",
                    object_id="new-ward",
                )
            assert not Organisation.objects.filter(code="new-ward").exists()
        assert not AuditEvent.objects.exists()
        # The alert: an error line naming the action, with no value in it.
        assert any("audit write failed: action=create" in message for message in caplog.messages)
        assert all(
            record.levelno >= logging.ERROR for record in caplog.records if "audit write" in record.message
        )

    def test_after_the_failure_the_chain_goes_on_without_a_gap(self, world):
        with audit_store_down(), pytest.raises(DatabaseError), transaction.atomic():
            record(action=Action.VIEW, actor=world.operator)
        assert record(action=Action.VIEW, actor=world.operator).chain_seq == 1
