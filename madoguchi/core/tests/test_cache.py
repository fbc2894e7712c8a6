"""The Redis cache backend (madoguchi.core.cache): Django's, with one client per pool and a counter."""

from __future__ import annotations

import socket
import threading
import uuid

import pytest

from madoguchi.core.cache import RedisCache


def redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_cache():
    cache = RedisCache("redis://127.0.0.1:6379/3", {"KEY_PREFIX": f"test-{uuid.uuid4().hex}"})
    yield cache
    cache.delete_many(["counter", "value"])


@pytest.mark.skipif(not redis_reachable(), reason="Redis is not running on 127.0.0.1:6379")
class RedisCacheTests:
    def test_it_reuses_one_client_object_per_connection_pool(self, redis_cache):
        redis_cache.set("value", {"a": 1})
        client = redis_cache._cache.get_client(write=True)
        assert redis_cache._cache.get_client() is client
        assert redis_cache.get("value") == {"a": 1}

    def test_count_creates_the_counter_with_its_lifetime_and_adds_one_each_time(self, redis_cache):
        assert [redis_cache.count("counter", 30) for _ in range(3)] == [1, 2, 3]
        key = redis_cache.make_and_validate_key("counter")
        ttl = redis_cache._cache.get_client().ttl(key)
        assert 0 < ttl <= 30
        # Django's own calls read the same integer.
        assert redis_cache.get("counter") == 3
        assert redis_cache.incr("counter") == 4

    def test_count_is_atomic_across_threads(self, redis_cache):
        def work() -> None:
            for _ in range(50):
                redis_cache.count("counter", 30)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert redis_cache.get("counter") == 400
