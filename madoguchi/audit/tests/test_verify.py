from __future__ import annotations

import datetime
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from madoguchi.audit.chain import event_hash
from madoguchi.audit.models import Action, AuditEvent, ChainHead
from madoguchi.audit.services import record
from madoguchi.audit.tests.helpers import tamper
from madoguchi.audit.verify import check_heads, export_head, verify_chain


def _five_events(world):
    return [
        record(action=Action.VIEW, actor=world.operator, object_type="household", object_id=number)
        for number in range(1, 6)
    ]


def _run_verify(*args: str) -> str:
    out = StringIO()
    call_command("audit", "verify", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
class VerifyTests:
    def test_an_untouched_chain_verifies(self, world):
        _five_events(world)
        record(action=Action.UPDATE, actor=world.ward_staff, before={"a": "x"}, after={"a": "y"})
        report = verify_chain(chunk_size=2)
        assert (
            report.ok
            and report.checked == 6
            and report.last_seq == AuditEvent.objects.order_by("seq").last().seq
        )
        assert "audit chain OK: 6 events" in _run_verify()

    def test_an_empty_trail_verifies(self, db):
        assert verify_chain().ok

    def test_it_catches_an_altered_event(self, world):
        _five_events(world)
        tamper("UPDATE audit_auditevent SET object_id = %s WHERE chain_seq = 3", ["999"])
        report = verify_chain()
        assert report.problem is not None
        assert (report.problem.kind, report.problem.seq) == ("altered", 3)
        with pytest.raises(CommandError, match="altered in chain 1 at position 3"):
            _run_verify()

    def test_it_catches_an_altered_before_after_record(self, world):
        _five_events(world)
        event = record(action=Action.UPDATE, actor=world.ward_staff, before={"a": "x"}, after={"a": "y"})
        tamper("UPDATE audit_auditchange SET after = %s WHERE event_id = %s", ['{"a": "z"}', event.pk])
        report = verify_chain()
        assert report.problem is not None
        assert (report.problem.kind, report.problem.seq) == ("altered", 6)

    def test_it_catches_a_removed_event(self, world):
        _five_events(world)
        tamper("DELETE FROM audit_auditevent WHERE chain_seq = 3")
        report = verify_chain()
        assert report.problem is not None
        assert (report.problem.kind, report.problem.seq) == ("removed", 3)
        with pytest.raises(CommandError, match="removed in chain 1 at position 3"):
            _run_verify()

    def test_it_catches_removed_events_at_the_start_and_at_the_end(self, world):
        _five_events(world)
        tamper("DELETE FROM audit_auditevent WHERE chain_seq = 5")
        report = verify_chain()
        assert report.problem is not None and (report.problem.kind, report.problem.seq) == ("removed", 5)
        tamper("DELETE FROM audit_auditevent WHERE chain_seq = 1")
        report = verify_chain()
        assert report.problem is not None and (report.problem.kind, report.problem.seq) == ("removed", 1)

    def test_it_catches_an_event_inserted_into_the_middle(self, world):
        events = _five_events(world)
        # The intruder makes room (positions 3..5 become 4..6) and writes a well-formed event at
        # 3 that chains to event 2.
        for position in (5, 4, 3):
            tamper(
                "UPDATE audit_auditevent SET seq = seq + 1000, chain_seq = %s WHERE chain_seq = %s",
                [position + 1, position],
            )
        forged = AuditEvent(
            seq=events[2].seq,
            chain=1,
            chain_seq=3,
            at=events[1].at + datetime.timedelta(milliseconds=1),
            actor_id=world.supervisor.pk,
            actor_username="supervisor",
            action=Action.VIEW,
            object_type="household",
            object_id="77",
            details={},
            prev_hash=events[1].hash,
        )
        forged.hash = event_hash(forged)
        forged.save(force_insert=True)  # INSERT is allowed: only UPDATE/DELETE are refused
        tamper("UPDATE audit_chainhead SET seq = 6 WHERE id = 1")
        report = verify_chain()
        assert report.problem is not None
        assert (report.problem.kind, report.problem.seq) == ("inserted", 3)
        with pytest.raises(CommandError, match="inserted in chain 1 at position 3"):
            _run_verify()

    def test_it_catches_an_event_appended_behind_the_heads_back(self, world):
        events = _five_events(world)
        forged = AuditEvent(
            seq=events[-1].seq + 1,
            chain=1,
            chain_seq=6,
            at=events[-1].at,
            action=Action.VIEW,
            object_type="household",
            object_id="77",
            details={},
            prev_hash=events[-1].hash,
        )
        forged.hash = event_hash(forged)
        forged.save(force_insert=True)  # INSERT is allowed: only UPDATE/DELETE are refused
        report = verify_chain()
        assert report.problem is not None
        assert (report.problem.kind, report.problem.seq) == ("inserted", 6)


@pytest.mark.django_db
class HeadsTests:
    def test_export_head_appends_one_line_per_run(self, world, tmp_path):
        _five_events(world)
        call_command("audit", "export-head", "--out", str(tmp_path), stdout=StringIO())
        record(action=Action.VIEW, actor=world.operator)
        call_command("audit", "export-head", "--out", str(tmp_path), stdout=StringIO())
        lines = [json.loads(line) for line in (tmp_path / "audit-heads.jsonl").read_text().splitlines()]
        # Each run first records a join seal, then exports every chain's head.
        assert [(line["chains"]["1"]["seq"], line["count"]) for line in lines] == [(6, 6), (8, 8)]
        assert lines[1]["chains"]["1"]["hash"] == AuditEvent.objects.get(chain_seq=8).hash
        assert "exported heads OK: 2 checked" in _run_verify("--heads", str(tmp_path / "audit-heads.jsonl"))

    def test_a_database_restored_from_an_older_copy_is_told_apart(self, world, tmp_path):
        _five_events(world)
        path, _entry = export_head(tmp_path)
        # The "restore": the newest events are gone and the head row agrees, so the chain
        # itself is consistent...
        tamper("DELETE FROM audit_auditevent WHERE chain_seq >= 4")
        ChainHead.objects.filter(pk=1).update(seq=3, hash=AuditEvent.objects.get(chain_seq=3).hash)
        assert verify_chain().ok
        # ...but the exported head is not in it.
        result = check_heads(path)
        assert not result.ok and "beyond the database's last event 3" in result.problems[0]
        with pytest.raises(CommandError, match="NOT in the database"):
            _run_verify("--heads", str(path))

    def test_a_rewritten_chain_is_told_apart(self, world, tmp_path):
        _five_events(world)
        path, _entry = export_head(tmp_path)
        # The intruder alters event 2 and recomputes every hash after it, consistently.
        tamper("UPDATE audit_auditevent SET object_id = '999' WHERE chain_seq = 2")
        prev = AuditEvent.objects.get(chain_seq=1).hash
        for event in AuditEvent.objects.filter(chain_seq__gte=2).order_by("chain_seq"):
            event.prev_hash = prev
            if event.object_type == "audit_heads":
                # The join seal export-head recorded saw the real event 5: forge it too.
                event.details = {"heads": {"chain_1": [5, prev]}}
            event.hash = event_hash(event)
            tamper(
                "UPDATE audit_auditevent SET prev_hash = %s, hash = %s, details = %s WHERE chain_seq = %s",
                [prev, event.hash, json.dumps(event.details), event.chain_seq],
            )
            prev = event.hash
        ChainHead.objects.filter(pk=1).update(hash=prev)
        assert verify_chain().ok
        result = check_heads(path)
        assert not result.ok and "the chain was rewritten" in result.problems[0]
