"""Migration 0007 (several chains) keeps the events of the single chain verifying, unrewritten."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from madoguchi.audit.chain import event_hash
from madoguchi.audit.models import GENESIS_HASH, Action, AuditEvent, ChainHead
from madoguchi.audit.services import record
from madoguchi.audit.tests.helpers import tamper
from madoguchi.audit.verify import verify_chain

BEFORE = ("audit", "0006_merge_20261203_2016")
AFTER = ("audit", "0007_several_chains")


def _migrate(target: tuple[str, str]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    return MigrationExecutor(connection)


@pytest.mark.django_db(transaction=True)
class SeveralChainsMigrationTests:
    def test_the_single_chain_becomes_chain_0_and_still_verifies(self):
        executor = _migrate(BEFORE)
        apps = executor.loader.project_state([BEFORE]).apps
        OldEvent = apps.get_model("audit", "AuditEvent")
        OldHead = apps.get_model("audit", "ChainHead")
        # Three events as the single-chain record() wrote them: seq 1..3, one head row (id 1).
        prev, at = GENESIS_HASH, datetime.datetime(2026, 4, 1, 9, 0, tzinfo=datetime.UTC)
        for number in range(1, 4):
            event = OldEvent(
                seq=number,
                at=at,
                action="view",
                object_type="household",
                object_id=str(number),
                prev_hash=prev,
            )
            event.hash = event_hash(event)
            event.save()
            prev = event.hash
        OldHead.objects.update_or_create(id=1, defaults={"seq": 3, "hash": prev})
        _migrate(AFTER)

        assert list(AuditEvent.objects.values_list("chain", "chain_seq")) == [(0, None)] * 3
        assert ChainHead.objects.get(pk=0).seq == 3
        report = verify_chain()
        assert report.ok, report.problem
        assert report.checked == 3
        # New events go to the new chains, numbered after the old ones.
        event = record(action=Action.VIEW)
        assert event.chain == 1 and event.chain_seq == 1 and event.seq > 3
        report = verify_chain()
        assert report.ok, report.problem
        assert report.chains == 2
        # The legacy chain is still guarded like any other.
        tamper("UPDATE audit_auditevent SET object_id = '999' WHERE seq = 2")
        report = verify_chain()
        assert report.problem is not None
        assert (report.problem.kind, report.problem.chain, report.problem.seq) == ("altered", 0, 2)
