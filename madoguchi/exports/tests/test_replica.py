"""The ward's export reads its rows from the replica as they stream; the audit events and the
ledger entry are written on the primary, and the export does not pin the user to it."""

from __future__ import annotations

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from madoguchi.accounts.testing import login
from madoguchi.core import replica
from madoguchi.core.replica import REPLICA_ALIAS
from madoguchi.core.replica_testing import REPLICA_TEST_DATABASES, replica_alias, replica_for_the_module
from madoguchi.exports.tests.test_export import body, cases, post
from madoguchi.ledger.models import LedgerEntry

__all__ = ["replica_alias", "replica_for_the_module"]
pytestmark = pytest.mark.django_db(transaction=True, databases=REPLICA_TEST_DATABASES)


def sql(captured: CaptureQueriesContext) -> str:
    return "\n".join(query["sql"] for query in captured.captured_queries)


@pytest.mark.usefixtures("replica_alias")
class ExportReplicaTests:
    def test_the_rows_come_from_the_replica_and_the_records_go_to_the_primary(self, world):
        cases(world)
        client = Client()
        login(client, world.ward_manager)
        with (
            CaptureQueriesContext(connections[REPLICA_ALIAS]) as on_replica,
            CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as on_primary,
        ):
            response = post(client)
            content = body(response)
        assert response.status_code == 200 and content.count(b"\r\n") == 12  # header + 11 cases
        assert "cases_case" in sql(on_replica) and "INSERT" not in sql(on_replica)
        assert "cases_case" not in sql(on_primary)
        assert "ledger_ledgerentry" in sql(on_primary) and "audit_auditevent" in sql(on_primary)
        assert LedgerEntry.objects.get().row_count == 11
        assert replica.WROTE_AT_KEY not in client.session

    def test_after_the_users_own_write_the_export_reads_the_primary(self, world):
        cases(world)
        client = Client()
        login(client, world.ward_manager)
        client.post("/cases/", {})  # any POST by the user counts as a write
        assert replica.WROTE_AT_KEY in client.session
        with CaptureQueriesContext(connections[REPLICA_ALIAS]) as on_replica:
            response = post(client)
            body(response)
        assert response.status_code == 200 and on_replica.captured_queries == []
