from __future__ import annotations

import datetime
import itertools

import pytest
from django.db import transaction

from madoguchi.accounts.models import Organisation
from madoguchi.audit.chain import event_hash
from madoguchi.audit.models import GENESIS_HASH, Action, AuditChange, AuditEvent, ChainHead, Outcome
from madoguchi.audit.services import AuditDetailsError, record
from madoguchi.audit.tests.helpers import CANARIES, events_table_text
from madoguchi.core.request_context import client_ip_var, request_id_var


@pytest.mark.django_db
class RecordTests:
    def test_it_writes_one_event_with_who_where_what_and_the_actor_snapshot(self, world):
        id_token = request_id_var.set("abc123def4567890")
        ip_token = client_ip_var.set("203.0.113.7")
        try:
            event = record(
                action=Action.UPDATE,
                actor=world.operator,
                program_id=world.program.pk,
                object_type="household",
                object_id="3f0c1b4e-0000-4000-8000-000000000001",
                details={"fields": ["guardian.phone", "household.address"]},
            )
        finally:
            request_id_var.reset(id_token)
            client_ip_var.reset(ip_token)
        assert AuditEvent.objects.count() == 1
        stored = AuditEvent.objects.get()
        assert stored.pk == event.pk
        assert stored.at.tzinfo is not None
        assert abs(stored.at - datetime.datetime.now(datetime.UTC)) < datetime.timedelta(seconds=5)
        assert stored.actor_id == world.operator.pk
        assert stored.actor_username == "operator"
        assert stored.actor_name == "テスト operator"
        assert stored.actor_organisation == "テスト委託先"
        assert stored.actor_role == "operator"
        assert stored.client_ip == "203.0.113.7"
        assert stored.request_id == "abc123def4567890"
        assert stored.action == "update"
        assert stored.program_id == world.program.pk
        assert stored.object_type == "household"
        assert stored.object_id == "3f0c1b4e-0000-4000-8000-000000000001"
        assert stored.outcome == Outcome.OK
        assert stored.details == {"fields": ["guardian.phone", "household.address"]}

    def test_the_snapshot_survives_a_later_change_of_the_account(self, world):
        record(action=Action.VIEW, actor=world.operator, object_type="household", object_id="1")
        world.operator.display_name = "改名後"
        world.operator.organisation = world.other_contractor
        world.operator.save()
        event = AuditEvent.objects.get()
        assert event.actor_name == "テスト operator"
        assert event.actor_organisation == "テスト委託先"

    def test_events_form_a_gapless_chain_from_the_genesis_hash(self, world):
        for number in range(5):
            record(action=Action.VIEW, actor=world.operator, object_type="household", object_id=number)
        events = list(AuditEvent.objects.order_by("seq"))
        # One writer at a time: all in the first chain, positions 1..5; `seq` increases.
        assert [(event.chain, event.chain_seq) for event in events] == [(1, n) for n in range(1, 6)]
        assert events[0].prev_hash == GENESIS_HASH
        for previous, event in itertools.pairwise(events):
            assert event.prev_hash == previous.hash
        for event in events:
            assert event.hash == event_hash(event)
        head = ChainHead.objects.get(pk=1)
        assert (head.seq, head.hash) == (5, events[-1].hash)

    def test_before_and_after_values_go_to_the_change_table_not_the_event(self, world):
        event = record(
            action=Action.UPDATE,
            actor=world.ward_staff,
            program_id=world.program.pk,
            object_type="guardian",
            object_id=42,
            details={"fields": ["guardian.name", "guardian.phone"]},
            before={"guardian.name": CANARIES[0], "guardian.phone": CANARIES[1]},
            after={"guardian.name": "検証花子", "guardian.phone": "03-0000-9999"},
        )
        change = AuditChange.objects.get(event=event)
        assert change.before["guardian.name"] == CANARIES[0]
        assert event.change_digest
        assert CANARIES[0] not in events_table_text()
        assert "03-0000-9999" not in events_table_text()

    @pytest.mark.parametrize("value", [*CANARIES, "1990-04-01", "山田 太郎", "free text here", "0312345678"])
    def test_it_refuses_details_that_look_like_a_personal_value(self, world, value):
        with pytest.raises(AuditDetailsError):
            record(action=Action.SEARCH, actor=world.operator, details={"query": value})
        with pytest.raises(AuditDetailsError):
            record(action=Action.SEARCH, actor=world.operator, details={"terms": ["name", value]})
        assert AuditEvent.objects.count() == 0

    def test_it_refuses_an_object_id_that_looks_like_a_personal_value(self, world):
        with pytest.raises(AuditDetailsError):
            record(action=Action.VIEW, actor=world.operator, object_type="guardian", object_id=CANARIES[2])
        assert AuditEvent.objects.count() == 0

    @pytest.mark.parametrize(
        "details",
        [
            {"fields": ["guardian.phone", "child.dob"], "count": 3},
            {"receipt": "KJ-000123", "matched": True, "score": 0.93},
            {"hash": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
            {"added": ["192.0.2.0/24", "2001:db8::1"], "removed": []},
            {"by_reason": {"duplicate": 2, "missing_dob": 1}},
            {"household": "3f0c1b4e-0000-4000-8000-000000000001"},
        ],
    )
    def test_it_accepts_field_names_counts_ids_hashes_and_addresses(self, world, details):
        record(action=Action.IMPORT, actor=world.ward_staff, details=details)
        assert AuditEvent.objects.get().details == details

    def test_an_anonymous_event_has_no_actor(self, db):
        event = record(action=Action.LOGIN_FAILED, outcome=Outcome.FAILED, client_ip="198.51.100.4")
        assert event.actor_id is None and event.actor_username == ""
        assert event.client_ip == "198.51.100.4"

    def test_it_refuses_an_unknown_action(self, world):
        with pytest.raises(ValueError, match="unknown audit action"):
            record(action="teleport", actor=world.operator)

    def test_the_event_commits_and_rolls_back_with_the_callers_transaction(self, world):
        with pytest.raises(RuntimeError), transaction.atomic():
            Organisation.objects.create(code="tmp", name="一時", kind=Organisation.Kind.WARD)
            record(
                action=Action.CREATE, actor=world.ward_manager, object_type="organisation", object_id="tmp"
            )
            raise RuntimeError("the change failed after the audit row")
        assert not AuditEvent.objects.exists()
        assert not Organisation.objects.filter(code="tmp").exists()
        # The head was rolled back too: the next event is the chain's first, no gap.
        assert record(action=Action.VIEW, actor=world.operator).chain_seq == 1

    def test_it_rebuilds_a_missing_head_from_the_last_event(self, world):
        record(action=Action.VIEW, actor=world.operator)
        last = record(action=Action.VIEW, actor=world.operator)
        ChainHead.objects.all().delete()
        event = record(action=Action.VIEW, actor=world.operator)
        assert event.chain_seq == 3 and event.prev_hash == last.hash and event.seq > last.seq
