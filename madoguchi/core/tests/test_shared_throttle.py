"""The per-address login throttle counts in the shared cache, so every app process sees the
same count (issue #14: without Redis it triggered at 45 failures instead of 30 with several
workers). Production refuses to start without REDIS_URL (test_hardening); here: the view
counts in, and refuses from, the cache another process writes to."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from django.core.cache.backends.filebased import FileBasedCache
from django.test import Client, override_settings

from madoguchi.accounts import views as account_views
from madoguchi.accounts.testing import PERSONA_PASSWORD, totp_device

pytestmark = pytest.mark.django_db

ADDRESS = "127.0.0.1"


def other_process_cache(settings_caches: dict[str, Any]) -> Any:
    """A second, independent client of the same cache: what another worker process holds."""
    config = settings_caches["default"]
    if config["BACKEND"].endswith("FileBasedCache"):
        return FileBasedCache(config["LOCATION"], {})
    from madoguchi.core.cache import RedisCache

    return RedisCache(config["LOCATION"], {"KEY_PREFIX": config.get("KEY_PREFIX", "")})


def redis_available() -> bool:
    try:
        import redis

        redis.Redis.from_url("redis://127.0.0.1:6379/15", socket_connect_timeout=0.5).ping()
    except Exception:
        return False
    return True


def shared_caches(kind: str, tmp_path: Path) -> dict[str, Any]:
    if kind == "file":
        return {
            "default": {
                "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": str(tmp_path),
            }
        }
    if not redis_available():
        pytest.skip("Redis is not running on 127.0.0.1:6379 (CI starts it)")
    return {
        "default": {
            "BACKEND": "madoguchi.core.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/15",
            "KEY_PREFIX": f"throttle-test-{uuid.uuid4().hex}",
        }
    }


@pytest.mark.parametrize("kind", ["file", "redis"])
def test_failures_of_one_process_count_in_another(world, tmp_path, kind):
    caches = shared_caches(kind, tmp_path)
    with override_settings(CACHES=caches):
        other = other_process_cache(caches)
        client = Client()
        for _ in range(3):
            response = client.post("/accounts/login/", {"username": "nobody", "password": "wrong-password-1"})
            assert response.status_code == 200
        # Another worker reads the count this one wrote.
        assert other.get(account_views._address_key(ADDRESS)) == 3
        # ... and what the other workers counted stops this one at the limit.
        other.set(account_views._address_key(ADDRESS), account_views.ADDRESS_FAILURE_LIMIT, 600)
        totp_device(world.operator)
        response = client.post("/accounts/login/", {"username": "operator", "password": PERSONA_PASSWORD})
        assert response.status_code == 429
