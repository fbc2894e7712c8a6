"""Tests' stand-in for the read replica: a second connection to the test database.

Enough to see which connection each query went to (`CaptureQueriesContext(connections[...])`).
A test module that uses it imports both fixtures and marks its tests
`pytest.mark.django_db(transaction=True, databases=REPLICA_TEST_DATABASES)`: the two
connections then see the same committed rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import DEFAULT_DB_ALIAS, connections

from madoguchi.core import replica
from madoguchi.core.replica import REPLICA_ALIAS

REPLICA_TEST_DATABASES = [DEFAULT_DB_ALIAS, REPLICA_ALIAS]


def _local() -> Any:
    """The handler's per-thread connections (private to Django: a test helper may reach in)."""
    return connections._connections  # type: ignore[attr-defined]


def add_alias(**changes: Any) -> None:
    settings_dict = dict(connections[DEFAULT_DB_ALIAS].settings_dict)
    if settings_dict["ENGINE"].endswith("sqlite3"):
        settings_dict["OPTIONS"] = {"timeout": 5}  # as settings make it: a reader, no IMMEDIATE
    settings_dict.update(changes)
    connections.settings[REPLICA_ALIAS] = settings_dict
    if hasattr(_local(), REPLICA_ALIAS):
        connections[REPLICA_ALIAS].close()
        delattr(_local(), REPLICA_ALIAS)


def _drop_alias() -> None:
    if hasattr(_local(), REPLICA_ALIAS):
        connections[REPLICA_ALIAS].close()
        delattr(_local(), REPLICA_ALIAS)
    connections.settings.pop(REPLICA_ALIAS, None)
    replica.reset_state()


@pytest.fixture(scope="module")
def replica_for_the_module(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """The alias exists before each test's database set-up, which must allow it."""
    assert REPLICA_ALIAS not in connections.settings, "the test settings have no replica"
    add_alias()
    try:
        yield
    finally:
        _drop_alias()


@pytest.fixture
def replica_alias(replica_for_the_module: None, settings: Any) -> Iterator[None]:
    """A healthy replica, checked once a minute (the test's queries do not re-check it)."""
    settings.REPLICA_CHECK_SECONDS = 60
    settings.REPLICA_MAX_LAG_SECONDS = 5
    add_alias()
    replica.reset_state()
    yield
    add_alias()
    replica.reset_state()
