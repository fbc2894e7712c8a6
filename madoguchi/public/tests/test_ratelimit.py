"""The per-address counter behind the public form's rate limit."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from unittest import mock

import pytest
from django.core.cache import cache
from django.test import override_settings

from madoguchi.public import ratelimit

LIMIT = ratelimit.Limit("test", limit=3, window=600)


def redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


class RateLimitTests:
    def test_it_allows_the_limit_and_refuses_one_more_in_the_same_window(self):
        now = 1_000_000.0
        assert [ratelimit.hit(LIMIT, "192.0.2.10", now=now + i) for i in range(4)] == [
            True,
            True,
            True,
            False,
        ]

    def test_a_new_window_starts_a_new_count(self):
        start = 600.0 * 5000
        for _ in range(3):
            ratelimit.hit(LIMIT, "192.0.2.11", now=start)
        assert not ratelimit.hit(LIMIT, "192.0.2.11", now=start + 1)
        assert ratelimit.hit(LIMIT, "192.0.2.11", now=start + 600)

    def test_addresses_are_counted_apart_but_an_ipv6_slash_64_together(self):
        assert ratelimit.address_key("192.0.2.1") != ratelimit.address_key("192.0.2.2")
        assert ratelimit.address_key("2001:db8::1") == ratelimit.address_key("2001:db8::ffff:1")
        assert ratelimit.address_key("2001:db8::1") != ratelimit.address_key("2001:db8:0:1::1")
        assert ratelimit.address_key("not an address") == "unknown"

    def test_the_form_stays_open_when_the_cache_is_down(self):
        with mock.patch.object(cache, "add", side_effect=ConnectionError("redis down")):
            assert all(ratelimit.hit(LIMIT, "192.0.2.12") for _ in range(10))

    def test_retry_after_points_at_the_end_of_the_window(self):
        assert ratelimit.retry_after(LIMIT, now=600.0 * 7 + 100) == 501


@pytest.mark.skipif(not redis_reachable(), reason="Redis is not running on 127.0.0.1:6379")
class SharedCounterTests:
    def test_two_processes_share_one_count_through_redis(self):
        # Another app process (a separate Python) and this one count against the same key.
        location = "redis://127.0.0.1:6379/3"
        prefix = f"test-{uuid.uuid4().hex}"
        caches = {
            "default": {
                "BACKEND": "madoguchi.core.cache.RedisCache",
                "LOCATION": location,
                "KEY_PREFIX": prefix,
            }
        }
        script = (
            "import django; django.setup();"
            "from django.conf import settings;"
            f"settings.CACHES['default']['KEY_PREFIX'] = {prefix!r};"
            "from madoguchi.public import ratelimit;"
            "limit = ratelimit.Limit('shared', 3, 600);"
            "print([ratelimit.hit(limit, '192.0.2.50', now=1200.0) for _ in range(2)])"
        )
        env = {**os.environ, "REDIS_URL": location, "DJANGO_SETTINGS_MODULE": "madoguchi.settings"}
        env.pop("DATABASE_URL", None)
        out = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        ).stdout
        assert out.strip() == "[True, True]"
        with override_settings(CACHES=caches):
            limit = ratelimit.Limit("shared", 3, 600)
            assert ratelimit.hit(limit, "192.0.2.50", now=1200.0) is True
            assert ratelimit.hit(limit, "192.0.2.50", now=1200.0) is False
