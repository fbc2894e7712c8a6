"""Several chains (issue 15): each is checked on its own, and the join seals tie them together.

SQLite has one writer and one chain, so these tests put events into a chosen chain by taking
that chain's head the way `record()` takes a free one; the rest of `record()` is the real one.
"""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import F, Max

from madoguchi.audit import services
from madoguchi.audit.models import Action, AuditEvent, ChainHead
from madoguchi.audit.services import Link, ensure_heads, record
from madoguchi.audit.tests.helpers import tamper
from madoguchi.audit.verify import check_heads, export_head, seal_heads, verify_chain


def _in_chain(monkeypatch, chain: int) -> None:
    def take_head() -> Link:
        ensure_heads(chain)
        ChainHead.objects.filter(pk=chain).update(seq=F("seq") + 1)
        head = ChainHead.objects.get(pk=chain)
        seq = (AuditEvent.objects.aggregate(top=Max("seq"))["top"] or 0) + 1
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT nextval('audit_event_seq')")
                seq = max(seq, cursor.fetchone()[0])
        return Link(seq=seq, chain=chain, chain_seq=head.seq, prev_hash=head.hash)

    monkeypatch.setattr(services, "_advance_head", take_head)


def _three_chains(monkeypatch, world) -> dict[int, list[AuditEvent]]:
    """Events interleaved over chains 1, 2 and 3, three in each."""
    events: dict[int, list[AuditEvent]] = {1: [], 2: [], 3: []}
    for number in range(9):
        chain = number % 3 + 1
        _in_chain(monkeypatch, chain)
        with transaction.atomic():
            events[chain].append(
                record(action=Action.VIEW, actor=world.operator, object_type="household", object_id=number)
            )
    monkeypatch.undo()
    return events


def _verify_command() -> str:
    out = StringIO()
    call_command("audit", "verify", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
class SeveralChainsTests:
    def test_interleaved_chains_verify_each_gapless_from_genesis(self, monkeypatch, world):
        events = _three_chains(monkeypatch, world)
        for chain, chained in events.items():
            assert [event.chain_seq for event in chained] == [1, 2, 3]
            assert all(event.chain == chain for event in chained)
        report = verify_chain()
        assert report.ok, report.problem
        assert report.checked == 9 and report.chains == 3
        assert "9 events in 3 chain(s)" in _verify_command()

    def test_the_hash_covers_the_chain_and_the_position_except_in_the_legacy_chain(self, monkeypatch, world):
        from madoguchi.audit.chain import event_hash

        event = _three_chains(monkeypatch, world)[2][1]
        original = event_hash(event)
        for name, value in (("chain", 3), ("chain_seq", 7)):
            moved = AuditEvent(**{**{f.attname: getattr(event, f.attname) for f in AuditEvent._meta.fields}})
            setattr(moved, name, value)
            assert event_hash(moved) != original
        # Events written before the chains (chain 0) keep the hash they were written with,
        # which covers neither field.
        legacy = AuditEvent(**{**{f.attname: getattr(event, f.attname) for f in AuditEvent._meta.fields}})
        legacy.chain, legacy.chain_seq = 0, None
        other = AuditEvent(**{**{f.attname: getattr(legacy, f.attname) for f in AuditEvent._meta.fields}})
        other.chain_seq = 5
        assert event_hash(legacy) == event_hash(other) != original

    @pytest.mark.parametrize("chain", [1, 2, 3])
    def test_it_catches_an_altered_event_in_any_chain(self, monkeypatch, world, chain):
        events = _three_chains(monkeypatch, world)
        tamper("UPDATE audit_auditevent SET object_id = '999' WHERE seq = %s", [events[chain][1].seq])
        report = verify_chain()
        assert report.problem is not None
        assert (report.problem.kind, report.problem.chain, report.problem.seq) == ("altered", chain, 2)

    @pytest.mark.parametrize("chain", [1, 2, 3])
    def test_it_catches_a_removed_event_in_any_chain(self, monkeypatch, world, chain):
        events = _three_chains(monkeypatch, world)
        tamper("DELETE FROM audit_auditevent WHERE seq = %s", [events[chain][1].seq])
        report = verify_chain()
        assert report.problem is not None
        assert (report.problem.kind, report.problem.chain, report.problem.seq) == ("removed", chain, 2)

    @pytest.mark.parametrize("chain", [1, 2, 3])
    def test_it_catches_a_removed_last_event_in_any_chain(self, monkeypatch, world, chain):
        events = _three_chains(monkeypatch, world)
        tamper("DELETE FROM audit_auditevent WHERE seq = %s", [events[chain][2].seq])
        report = verify_chain()
        assert report.problem is not None
        assert (report.problem.kind, report.problem.chain, report.problem.seq) == ("removed", chain, 3)

    @pytest.mark.parametrize("chain", [1, 2, 3])
    def test_it_catches_an_event_inserted_into_any_chain(self, monkeypatch, world, chain):
        events = _three_chains(monkeypatch, world)
        # A well-formed event appended behind the head's back, chaining to the chain's last one.
        last = events[chain][-1]
        forged = AuditEvent(
            seq=max(e.seq for chained in events.values() for e in chained) + 1,
            chain=chain,
            chain_seq=4,
            at=last.at,
            action=Action.VIEW,
            object_type="household",
            object_id="77",
            details={},
            prev_hash=last.hash,
        )
        from madoguchi.audit.chain import event_hash

        forged.hash = event_hash(forged)
        forged.save(force_insert=True)
        report = verify_chain()
        assert report.problem is not None
        assert (report.problem.kind, report.problem.chain, report.problem.seq) == ("inserted", chain, 4)

    def test_events_in_a_chain_without_a_head_are_inserted(self, monkeypatch, world):
        events = _three_chains(monkeypatch, world)
        tamper("DELETE FROM audit_chainhead WHERE id = 3")
        report = verify_chain()
        assert report.problem is not None and (report.problem.kind, report.problem.chain) == ("inserted", 3)
        assert events[3]  # the events are still there; only their head went


@pytest.mark.django_db
class JoinSealTests:
    def test_a_join_seal_holds_every_chains_head(self, monkeypatch, world):
        events = _three_chains(monkeypatch, world)
        seal = seal_heads()
        heads = seal.details["heads"]
        for chain in (1, 2, 3):
            assert heads[f"chain_{chain}"] == [3, events[chain][-1].hash]
        report = verify_chain()
        assert report.ok, report.problem
        assert report.joins >= 3

    def test_a_chain_cut_back_with_its_head_is_caught_by_a_later_join_seal(self, monkeypatch, world):
        events = _three_chains(monkeypatch, world)
        seal_heads()
        # The intruder removes chain 2's last event and moves its head back: chain 2 alone
        # looks whole, but the join seal saw event 3 there.
        tamper("DELETE FROM audit_auditevent WHERE seq = %s", [events[2][2].seq])
        tamper("UPDATE audit_chainhead SET seq = 2, hash = %s WHERE id = 2", [events[2][1].hash])
        report = verify_chain()
        assert report.problem is not None
        assert (report.problem.kind, report.problem.chain) == ("removed", 2)
        assert "join seal" in report.problem.message

    def test_a_chain_rewritten_from_some_point_is_caught_by_a_later_join_seal(self, monkeypatch, world):
        from madoguchi.audit.chain import event_hash

        events = _three_chains(monkeypatch, world)
        seal_heads()
        # Chain 3 rewritten consistently from its second event: chain 3 alone verifies.
        prev = events[3][0].hash
        for event in events[3][1:]:
            event.object_id = "999"
            event.prev_hash = prev
            event.hash = event_hash(event)
            tamper(
                "UPDATE audit_auditevent SET object_id = '999', prev_hash = %s, hash = %s WHERE seq = %s",
                [prev, event.hash, event.seq],
            )
            prev = event.hash
        tamper("UPDATE audit_chainhead SET hash = %s WHERE id = 3", [prev])
        report = verify_chain()
        assert report.problem is not None
        assert (report.problem.kind, report.problem.chain, report.problem.seq) == ("altered", 3, 3)

    def test_exported_heads_cover_every_chain(self, monkeypatch, world, tmp_path):
        events = _three_chains(monkeypatch, world)
        path, entry = export_head(tmp_path)
        line = json.loads(path.read_text().splitlines()[-1])
        assert line["chains"]["2"] == {"seq": 3, "hash": events[2][-1].hash}
        assert line["count"] == entry["count"] == 10  # nine events and the join seal
        assert check_heads(path).ok
        # Chain 2 cut back consistently, join seals and all: the exported heads still tell.
        tamper("DELETE FROM audit_auditevent WHERE seq = %s", [events[2][2].seq])
        result = check_heads(path)
        assert not result.ok and "chain 2: head 3" in result.problems[0]

    def test_a_heads_file_written_before_the_chains_still_checks(self, world, tmp_path):
        # A line of the single-chain era names the legacy chain 0 by `seq` and `hash` alone.
        path = tmp_path / "audit-heads.jsonl"
        path.write_text(json.dumps({"seq": 0, "hash": "0" * 64, "count": 0}) + "\n")
        assert check_heads(path).ok
        path.write_text(json.dumps({"seq": 4, "hash": "a" * 64, "count": 4}) + "\n")
        result = check_heads(path)
        assert not result.ok and "chain 0: head 4" in result.problems[0]
