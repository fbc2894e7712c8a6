"""The read replica's router: lag-tolerant reads go to the replica, everything else and every
read after the user's own write to the primary; a replica that is down or lags is not used.

The "replica" here is a second connection to the test database (SQLite and PostgreSQL alike):
enough to see which connection each query went to. Down is real (a path or port nothing
answers on); lag is the measured value replaced, since only a standby can lag.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from madoguchi.accounts.testing import login
from madoguchi.audit.models import AuditEvent
from madoguchi.cases.models import Case
from madoguchi.core import replica
from madoguchi.core.replica import REPLICA_ALIAS, primary_only, read_alias, use_replica


def _add_alias(**changes: Any) -> None:
    settings_dict = dict(connections[DEFAULT_DB_ALIAS].settings_dict)
    if settings_dict["ENGINE"].endswith("sqlite3"):
        settings_dict["OPTIONS"] = {"timeout": 5}  # as settings make it: a reader, no IMMEDIATE
    settings_dict.update(changes)
    connections.settings[REPLICA_ALIAS] = settings_dict
    if hasattr(connections._connections, REPLICA_ALIAS):
        connections[REPLICA_ALIAS].close()
        delattr(connections._connections, REPLICA_ALIAS)


def _unreachable() -> dict[str, Any]:
    if connections[DEFAULT_DB_ALIAS].vendor == "postgresql":
        return {"HOST": "127.0.0.1", "PORT": "1", "OPTIONS": {"connect_timeout": 2}}
    return {"NAME": "/nonexistent-madoguchi-dir/replica.sqlite3"}


@pytest.fixture(scope="module", autouse=True)
def _replica_for_this_module(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """The alias exists before each test's database set-up, which must allow it."""
    assert REPLICA_ALIAS not in connections.settings, "the test settings have no replica"
    _add_alias()
    try:
        yield
    finally:
        if hasattr(connections._connections, REPLICA_ALIAS):
            connections[REPLICA_ALIAS].close()
            delattr(connections._connections, REPLICA_ALIAS)
        del connections.settings[REPLICA_ALIAS]
        replica.reset_state()


@pytest.fixture
def replica_alias(settings: Any) -> Iterator[None]:
    settings.REPLICA_CHECK_SECONDS = 60
    settings.REPLICA_MAX_LAG_SECONDS = 5
    _add_alias()
    replica.reset_state()
    yield
    _add_alias()
    replica.reset_state()


BOTH = ["default", REPLICA_ALIAS]
# Transactional: the two connections see the same committed rows, and a test may replace one.
pytestmark = pytest.mark.django_db(transaction=True, databases=BOTH)


def test_without_a_replica_every_read_goes_to_the_primary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(connections.settings, REPLICA_ALIAS)
    assert not replica.configured()
    with use_replica():
        assert read_alias() == DEFAULT_DB_ALIAS
        assert Case.objects.all().db == DEFAULT_DB_ALIAS


def test_marked_reads_go_to_the_replica_and_nothing_else(replica_alias: None) -> None:
    assert Case.objects.all().db == DEFAULT_DB_ALIAS  # unmarked: the primary
    with use_replica():
        assert Case.objects.all().db == REPLICA_ALIAS
        with primary_only():
            assert Case.objects.all().db == DEFAULT_DB_ALIAS
        assert Case.objects.all().db == REPLICA_ALIAS
    assert Case.objects.all().db == DEFAULT_DB_ALIAS


def test_writes_and_migrations_stay_on_the_primary(replica_alias: None) -> None:
    router = replica.ReplicaRouter()
    with use_replica():
        assert router.db_for_write(Case) == DEFAULT_DB_ALIAS
    assert router.allow_migrate(REPLICA_ALIAS, "cases") is False
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "cases") is True


def test_a_replica_that_does_not_answer_is_not_used(replica_alias: None, caplog: Any) -> None:
    _add_alias(**_unreachable())
    with caplog.at_level(logging.WARNING, logger="madoguchi.replica"), use_replica():
        assert read_alias() == DEFAULT_DB_ALIAS
    assert "reads go to the primary" in caplog.text
    assert replica.status()["healthy"] is False


def test_a_lagging_replica_is_not_used_until_it_catches_up(
    replica_alias: None, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    lag = {"seconds": 12.0}
    monkeypatch.setattr(replica, "measure_lag", lambda alias=REPLICA_ALIAS: lag["seconds"])
    settings.REPLICA_CHECK_SECONDS = 0
    with use_replica():
        assert read_alias() == DEFAULT_DB_ALIAS
        lag["seconds"] = 1.0
        assert read_alias() == REPLICA_ALIAS


def test_the_state_is_checked_at_most_every_few_seconds(
    replica_alias: None, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def measure(alias: str = REPLICA_ALIAS) -> float:
        calls.append(alias)
        return 0.0

    monkeypatch.setattr(replica, "measure_lag", measure)
    settings.REPLICA_CHECK_SECONDS = 5
    start = time.monotonic()
    for _ in range(20):
        assert replica.replica_healthy(now=start)
    assert len(calls) == 1
    assert replica.replica_healthy(now=start + 6)
    assert len(calls) == 2


def test_the_real_lag_query_answers_zero_on_a_database_that_is_no_standby(replica_alias: None) -> None:
    assert replica.measure_lag() == 0.0


# --- through the audit screens (marked use_replica) ----------------------------------------


def test_the_audit_screen_reads_from_the_replica(client: Any, world: Any, replica_alias: None) -> None:
    login(client, world.ward_manager)
    with CaptureQueriesContext(connections[REPLICA_ALIAS]) as on_replica:
        response = client.get(reverse("audit:events"))
    assert response.status_code == 200
    assert any("audit_auditevent" in query["sql"] for query in on_replica.captured_queries)


def test_after_the_users_own_write_their_reads_stay_on_the_primary(
    client: Any, world: Any, replica_alias: None, settings: Any
) -> None:
    login(client, world.ward_manager)
    # Any POST by the user counts as a write, even one the view refuses.
    client.post(reverse("audit:events"), {})
    with CaptureQueriesContext(connections[REPLICA_ALIAS]) as on_replica:
        response = client.get(reverse("audit:events"))
    assert response.status_code == 200
    assert on_replica.captured_queries == []
    # Once the pin has expired, the replica serves the screen again.
    session = client.session
    session[replica.WROTE_AT_KEY] = time.time() - settings.REPLICA_PIN_SECONDS - 1
    session.save()
    with CaptureQueriesContext(connections[REPLICA_ALIAS]) as on_replica:
        client.get(reverse("audit:events"))
    assert on_replica.captured_queries != []


def test_an_export_post_reads_the_replica_and_does_not_pin_the_user(
    client: Any, world: Any, replica_alias: None
) -> None:
    login(client, world.ward_manager)
    with CaptureQueriesContext(connections[REPLICA_ALIAS]) as on_replica:
        response = client.post(reverse("audit:export"), {})
        body = b"".join(response.streaming_content)
    assert response.status_code == 200
    assert body.startswith("\ufeffseq".encode())
    assert any("audit_auditevent" in query["sql"] for query in on_replica.captured_queries)
    assert replica.WROTE_AT_KEY not in client.session


def test_a_replica_lost_mid_request_is_dropped_and_the_page_served_from_the_primary(
    client: Any, world: Any, replica_alias: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    login(client, world.ward_manager)
    # The check said healthy a moment ago; then the replica went away.
    monkeypatch.setattr(replica, "measure_lag", lambda alias=REPLICA_ALIAS: 0.0)
    assert replica.replica_healthy()
    _add_alias(**_unreachable())
    before = AuditEvent.objects.count()
    response = client.get(reverse("audit:events"))
    assert response.status_code == 200
    assert replica.status()["healthy"] is False
    assert AuditEvent.objects.count() == before + 1  # the search recorded once, not twice
