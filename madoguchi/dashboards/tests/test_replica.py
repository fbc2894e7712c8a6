"""The dashboards read from the replica, except for a user who just wrote something."""

from __future__ import annotations

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from madoguchi.accounts.testing import login
from madoguchi.cases.testing import make_case
from madoguchi.core import replica
from madoguchi.core.replica import REPLICA_ALIAS
from madoguchi.core.replica_testing import REPLICA_TEST_DATABASES, replica_alias, replica_for_the_module

__all__ = ["replica_alias", "replica_for_the_module"]
pytestmark = pytest.mark.django_db(transaction=True, databases=REPLICA_TEST_DATABASES)


def sql(captured: CaptureQueriesContext) -> str:
    return "\n".join(query["sql"] for query in captured.captured_queries)


@pytest.mark.usefixtures("replica_alias")
class DashboardReplicaTests:
    def test_the_figures_are_read_from_the_replica_and_the_audit_written_on_the_primary(self, world):
        client = Client()
        login(client, world.supervisor)
        with (
            CaptureQueriesContext(connections[REPLICA_ALIAS]) as on_replica,
            CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as on_primary,
        ):
            response = client.get("/")
        assert response.status_code == 200 and response.context["board"].figures
        assert "dashboards_casecount" in sql(on_replica) and "cases_case" in sql(on_replica)
        assert "INSERT" not in sql(on_replica) and "UPDATE" not in sql(on_replica)
        assert "dashboards_casecount" not in sql(on_primary)
        assert "audit_auditevent" in sql(on_primary)

    def test_after_the_users_own_write_the_dashboard_reads_the_primary(self, world):
        case = make_case(world.program, world.operator)
        client = Client()
        login(client, world.operator)
        response = client.post(
            reverse("cases:schedule_callback", args=[case.public_id]),
            {"due_on": timezone.localdate().isoformat(), "version": case.version},
        )
        assert response.status_code == 302
        assert replica.WROTE_AT_KEY in client.session
        with CaptureQueriesContext(connections[REPLICA_ALIAS]) as on_replica:
            response = client.get("/")
        assert on_replica.captured_queries == []
        assert response.context["board"].my_callbacks_today == 1  # the callback just scheduled
