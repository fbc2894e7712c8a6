from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from madoguchi.audit.models import Action, AuditChange, AuditEvent
from madoguchi.audit.services import record
from madoguchi.audit.tests.helpers import tamper
from madoguchi.audit.verify import check_heads, export_head, verify_chain

LONG_AGO = datetime.datetime(2024, 1, 10, 10, 0, tzinfo=datetime.UTC)


def _events_at(monkeypatch, world, moment: datetime.datetime, count: int, **kwargs):
    monkeypatch.setattr(timezone, "now", lambda: moment)
    events = [record(action=Action.VIEW, actor=world.operator, object_id=n, **kwargs) for n in range(count)]
    monkeypatch.undo()
    return events


def _purge(*args: str) -> str:
    out = StringIO()
    call_command("audit", "purge", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(autouse=True)
def _retention(settings):
    settings.AUDIT_RETENTION_DAYS = 365


@pytest.mark.django_db
class PurgeTests:
    def test_it_removes_old_events_and_leaves_a_seal_the_chain_continues_from(
        self, world, monkeypatch, tmp_path
    ):
        old = _events_at(monkeypatch, world, LONG_AGO, 3)
        update = record(action=Action.UPDATE, actor=world.ward_staff, before={"a": "x"}, after={"a": "y"})
        heads, _ = export_head(tmp_path)  # also records a join seal
        joined = AuditEvent.objects.get(object_type="audit_heads")
        out = _purge("--before", "2024-06-01", "--confirm")
        seal = AuditEvent.objects.get(action=Action.PURGE, object_type="audit_chain")
        assert f"purged 3 events (seq {old[0].seq}..{old[-1].seq}); seal seq={seal.seq}" in out
        assert list(AuditEvent.objects.values_list("seq", flat=True)) == [update.seq, joined.seq, seal.seq]
        assert seal.details["purged_count"] == 3
        assert seal.details["purged_chain"] == old[-1].chain
        assert seal.details["purged_to_seq"] == old[-1].chain_seq == 3
        assert seal.details["purged_last_hash"] == old[-1].hash
        report = verify_chain()
        assert report.ok, report.problem
        assert report.seals == 1 and report.first_seq == update.seq
        record(action=Action.VIEW, actor=world.operator)
        assert verify_chain().ok
        assert check_heads(heads).ok

    def test_it_removes_the_before_after_records_of_purged_events(self, world, monkeypatch):
        _events_at(monkeypatch, world, LONG_AGO, 1, before={"a": "x"}, after={"a": "y"})
        assert AuditChange.objects.count() == 1
        _purge("--before", "2024-06-01", "--confirm")
        assert AuditChange.objects.count() == 0
        assert verify_chain().ok

    def test_it_removes_everything_old_even_when_nothing_is_newer(self, world, monkeypatch):
        _events_at(monkeypatch, world, LONG_AGO, 2)
        _purge("--before", "2024-06-01", "--confirm")
        assert list(AuditEvent.objects.values_list("action", "chain_seq")) == [(Action.PURGE, 3)]
        assert verify_chain().ok

    def test_it_refuses_a_date_inside_the_retention_period(self, world):
        record(action=Action.VIEW, actor=world.operator)
        recent = (timezone.localdate() - datetime.timedelta(days=30)).isoformat()
        with pytest.raises(CommandError, match="inside the retention period"):
            _purge("--before", recent, "--confirm")
        assert AuditEvent.objects.count() == 1

    def test_it_needs_confirm(self, world):
        with pytest.raises(CommandError, match="--confirm"):
            _purge("--before", "2024-06-01")

    def test_a_chain_cut_without_a_seal_is_reported(self, world, monkeypatch):
        _events_at(monkeypatch, world, LONG_AGO, 3)
        record(action=Action.VIEW, actor=world.operator)
        tamper("DELETE FROM audit_auditevent WHERE chain_seq <= 2")
        report = verify_chain()
        assert report.problem is not None and report.problem.kind == "removed"
