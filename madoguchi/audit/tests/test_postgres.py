"""What only PostgreSQL can show: the append-only trigger and concurrent writers over several chains."""

from __future__ import annotations

import threading

import pytest
from django.db import DatabaseError, connection, connections, transaction

from madoguchi.audit.models import GENESIS_HASH, Action, AuditChange, AuditEvent
from madoguchi.audit.services import purge, record
from madoguchi.audit.verify import verify_chain

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only (CI runs it)")


@pytest.mark.django_db
class AppendOnlyTriggerTests:
    def test_it_refuses_update_of_an_event(self, world):
        record(action=Action.VIEW, actor=world.operator, object_id=1)
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEvent.objects.filter(chain_seq=1).update(object_id="2")
        assert AuditEvent.objects.get(chain_seq=1).object_id == "1"

    def test_it_refuses_delete_of_an_event_and_of_a_change(self, world):
        record(action=Action.UPDATE, actor=world.operator, before={"a": "x"}, after={"a": "y"})
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditChange.objects.all().delete()
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("DELETE FROM audit_auditevent")
        assert AuditEvent.objects.count() == 1 and AuditChange.objects.count() == 1

    def test_the_purge_switch_allows_delete_but_never_update(self, world):
        record(action=Action.VIEW, actor=world.operator, object_id=1)
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL madoguchi.audit_purge = 'on'")
            AuditEvent.objects.filter(chain_seq=1).update(object_id="2")
        # The switch is local to the purge's transaction: outside it, DELETE is refused again.
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEvent.objects.filter(chain_seq=1).delete()

    def test_the_purge_itself_gets_through(self, world, settings, monkeypatch):
        import datetime

        from django.utils import timezone

        settings.AUDIT_RETENTION_DAYS = 365
        monkeypatch.setattr(timezone, "now", lambda: datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC))
        record(action=Action.VIEW, actor=world.operator, object_id=1)
        monkeypatch.undo()
        result = purge(before=datetime.date(2024, 6, 1))
        assert result.count == 1
        assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
class ConcurrentWritersTests:
    def test_fifty_writers_over_four_chains_leave_no_gap_and_no_fork(self, world, settings):
        # Fewer chains than writers: most writers find every head taken and queue on one.
        settings.AUDIT_CHAINS = 4
        writers, per_writer = 50, 4
        start = threading.Barrier(writers)
        errors: list[BaseException] = []

        def write(number: int) -> None:
            try:
                start.wait()
                for index in range(per_writer):
                    with transaction.atomic():
                        record(
                            action=Action.VIEW,
                            actor=None,
                            object_type="household",
                            object_id=number * 100 + index,
                        )
            except BaseException as exc:  # reported below
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=write, args=(number,)) for number in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        rows = list(AuditEvent.objects.values_list("chain", "chain_seq", "prev_hash"))
        assert len(rows) == writers * per_writer
        chains = {chain for chain, _position, _prev in rows}
        assert chains <= {1, 2, 3, 4} and len(chains) > 1
        for chain in chains:
            positions = sorted(position for c, position, _prev in rows if c == chain)
            assert positions == list(range(1, len(positions) + 1))  # gapless within each chain
        prevs = [prev for _chain, _position, prev in rows if prev != GENESIS_HASH]
        assert len(set(prevs)) == len(prevs)  # no two events claim the same predecessor: no fork
        report = verify_chain()
        assert report.ok, report.problem
        assert report.checked == writers * per_writer and report.chains == len(chains)

    def test_a_writer_does_not_wait_for_another_transaction_holding_a_head(self, world):
        held = threading.Event()
        release = threading.Event()
        holder: list[AuditEvent] = []

        def hold() -> None:
            try:
                with transaction.atomic():
                    holder.append(record(action=Action.VIEW, actor=None, object_id=1))
                    held.set()
                    release.wait(30)
            finally:
                connections.close_all()

        thread = threading.Thread(target=hold)
        thread.start()
        try:
            assert held.wait(30)
            with transaction.atomic():
                # With one chain head, this would queue behind the holder's open transaction.
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '5s'")
                event = record(action=Action.VIEW, actor=None, object_id=2)
            assert event.chain != holder[0].chain
        finally:
            release.set()
            thread.join()
        assert verify_chain().ok

    def test_a_transaction_holding_a_head_never_waits_for_another(self, world, settings):
        # Two heads: another transaction holds one, this one takes the other and then records
        # again. Its own head is not skipped, so it never queues on the other's (no deadlock).
        settings.AUDIT_CHAINS = 2
        held = threading.Event()
        release = threading.Event()

        def hold() -> None:
            try:
                with transaction.atomic():
                    record(action=Action.VIEW, actor=None, object_id=1)
                    held.set()
                    release.wait(30)
            finally:
                connections.close_all()

        thread = threading.Thread(target=hold)
        thread.start()
        try:
            assert held.wait(30)
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '5s'")
                first = record(action=Action.VIEW, actor=None, object_id=2)
                second = record(action=Action.VIEW, actor=None, object_id=3)
            assert first.chain == second.chain and second.chain_seq == first.chain_seq + 1
        finally:
            release.set()
            thread.join()
        assert verify_chain().ok


@pytest.mark.django_db
class ErasureSwitchTests:
    """The end-of-program erasure may empty a change (and only that), inside its own transaction."""

    def _change(self, world):  # type: ignore[no-untyped-def]
        event = record(
            action=Action.UPDATE,
            actor=world.operator,
            program_id=world.program.pk,
            before={"a": "x"},
            after={"a": "y"},
        )
        return AuditChange.objects.get(event=event)

    def test_without_the_switch_an_emptying_is_refused(self, world):
        from django.utils import timezone

        change = self._change(world)
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditChange.objects.filter(pk=change.pk).update(before={}, after={}, erased_at=timezone.now())

    def test_with_the_switch_only_an_emptying_gets_through(self, world):
        from django.utils import timezone

        change = self._change(world)
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL madoguchi.audit_erasure = 'on'")
            AuditChange.objects.filter(pk=change.pk).update(before={"a": "forged"}, erased_at=timezone.now())
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL madoguchi.audit_erasure = 'on'")
            AuditEvent.objects.filter(pk=change.event_id).update(object_id="2")
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL madoguchi.audit_erasure = 'on'")
            AuditChange.objects.filter(pk=change.pk).update(before={}, after={}, erased_at=timezone.now())
        change.refresh_from_db()
        assert change.before == {} and change.erased_at is not None
