"""The cheap drills of docs/operations.md, in CI: Redis stopped, the database away mid-request.

(The costly ones, on the cluster of `make cluster`, are scripted in deploy/cluster/drills.sh.)
"""

from __future__ import annotations

import logging
from typing import Any
from unittest import mock

import pytest
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper
from django.test import Client
from django.urls import reverse

from madoguchi.accounts.testing import PERSONA_PASSWORD, login, totp_code, totp_device
from madoguchi.audit.models import AuditEvent

# A Redis nobody answers on: every cache call fails at once (connection refused).
DEAD_REDIS = {
    "default": {
        "BACKEND": "madoguchi.core.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}


@pytest.fixture
def redis_down(settings: Any) -> None:
    settings.CACHES = DEAD_REDIS


@pytest.mark.django_db
class RedisStoppedTests:
    def test_login_with_both_factors_and_the_case_list_keep_working(
        self, world: Any, redis_down: None, caplog: Any
    ) -> None:
        totp_device(world.operator)
        client = Client()
        with caplog.at_level(logging.WARNING):
            step = client.post(
                reverse("accounts:login"), {"username": "operator", "password": PERSONA_PASSWORD}
            )
            assert step.status_code == 302
            done = client.post(step["Location"], {"otp_token": totp_code(world.operator)})
            assert done.status_code == 302
            assert client.get(reverse("cases:list")).status_code == 200
        # What degraded says so in the log.
        assert "cache unavailable: the allowlist is read from the database" in caplog.text

    def test_the_allowlist_still_refuses_an_address_not_on_it(self, world: Any, redis_down: None) -> None:
        assert Client(REMOTE_ADDR="192.0.2.77").get(reverse("accounts:login")).status_code == 403

    def test_a_wrong_password_still_counts_towards_the_per_user_lockout(
        self, world: Any, redis_down: None, caplog: Any
    ) -> None:
        client = Client()
        with caplog.at_level(logging.WARNING):
            response = client.post(
                reverse("accounts:login"), {"username": "operator", "password": "wrong-one"}
            )
        assert response.status_code == 200
        assert "cache unavailable: login failures per address are not counted" in caplog.text
        from axes.models import AccessAttempt

        assert AccessAttempt.objects.filter(username="operator").exists()

    def test_the_public_form_stays_open_and_the_draft_store_answers_503_not_500(
        self, world: Any, redis_down: None, settings: Any, caplog: Any
    ) -> None:
        settings.PUBLIC_SESSION_BACKEND = "cache"
        client = Client(raise_request_exception=False)
        with caplog.at_level(logging.WARNING):
            response = client.get(f"/inquiry/{world.program.code}/")
        assert response.status_code in {200, 503}
        assert response.status_code != 500


@pytest.mark.django_db
class DatabaseAwayTests:
    def test_a_staff_request_caught_by_a_primary_restart_answers_503_and_the_next_one_works(
        self, world: Any, caplog: Any
    ) -> None:
        client = Client(raise_request_exception=False)
        login(client, world.ward_manager)
        before = AuditEvent.objects.count()

        def down(self: Any, sql: str, params: Any = None) -> Any:
            raise OperationalError("terminating connection due to administrator command")

        with mock.patch.object(CursorWrapper, "execute", down), caplog.at_level(logging.ERROR):
            response = client.get(reverse("audit:events"))
        assert response.status_code == 503
        assert response["Retry-After"] == "30"
        assert "もう一度お試しください" in response.content.decode()
        assert "database unavailable: request answered 503" in caplog.text
        assert AuditEvent.objects.count() == before  # nothing half-written
        assert client.get(reverse("audit:events")).status_code == 200

    def test_a_programming_error_is_still_a_500(self, world: Any) -> None:
        client = Client(raise_request_exception=False)
        login(client, world.ward_manager)
        with mock.patch("madoguchi.audit.views.event_page", side_effect=ValueError("bug")):
            assert client.get(reverse("audit:events")).status_code == 500
