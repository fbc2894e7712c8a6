"""The report screen and its downloads read from the replica; a download does not pin the user."""

from __future__ import annotations

import time

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from madoguchi.accounts.testing import login
from madoguchi.audit.models import Action, AuditEvent
from madoguchi.core import replica
from madoguchi.core.replica import REPLICA_ALIAS
from madoguchi.core.replica_testing import REPLICA_TEST_DATABASES, replica_alias, replica_for_the_module
from madoguchi.reports.tests.test_selectors import november

__all__ = ["replica_alias", "replica_for_the_module"]
pytestmark = pytest.mark.django_db(transaction=True, databases=REPLICA_TEST_DATABASES)
MONTH = {"program": "test-program", "kind": "monthly", "day": "2025-11-15"}


def sql(captured: CaptureQueriesContext) -> str:
    return "\n".join(query["sql"] for query in captured.captured_queries)


@pytest.mark.usefixtures("replica_alias")
class ReportReplicaTests:
    def test_the_report_screen_reads_the_cases_from_the_replica(self, world):
        november(world)
        client = Client()
        login(client, world.supervisor)
        with (
            CaptureQueriesContext(connections[REPLICA_ALIAS]) as on_replica,
            CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as on_primary,
        ):
            response = client.get(reverse("reports:index"), MONTH)
        assert response.status_code == 200 and response.context["report"] is not None
        assert "cases_case" in sql(on_replica) and "INSERT" not in sql(on_replica)
        assert "cases_case" not in sql(on_primary) and "audit_auditevent" in sql(on_primary)

    def test_a_download_reads_the_replica_is_audited_and_does_not_pin_the_user(self, world):
        november(world)
        client = Client()
        login(client, world.supervisor)
        with CaptureQueriesContext(connections[REPLICA_ALIAS]) as on_replica:
            response = client.post(reverse("reports:download"), {**MONTH, "format": "csv"})
        assert response.status_code == 200
        assert "cases_case" in sql(on_replica)
        assert AuditEvent.objects.filter(action=Action.EXPORT, object_type="report").exists()
        assert replica.WROTE_AT_KEY not in client.session

    def test_after_the_users_own_write_the_report_reads_the_primary(self, world, settings):
        november(world)
        client = Client()
        login(client, world.supervisor)
        session = client.session
        session[replica.WROTE_AT_KEY] = time.time()  # what the middleware notes after a write
        session.save()
        with CaptureQueriesContext(connections[REPLICA_ALIAS]) as on_replica:
            response = client.get(reverse("reports:index"), MONTH)
        assert response.status_code == 200 and on_replica.captured_queries == []
