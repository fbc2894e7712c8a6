"""Django's Redis cache, without its per-call cost, and with a one-round-trip window counter.

Django's `RedisCacheClient.get_client()` builds a new `redis.Redis` object on every cache call
(redis-py fills some 170 response callbacks in its constructor): a tenth of a public form
submission's CPU time went there. A client object is thread-safe and only wraps the
connection pool, so one per pool is enough; redis-py's pool itself notices a fork (gunicorn
workers) and opens its own connections in the child.

`count(key, timeout)` increments a counter and gives it a lifetime when it is created, in one
atomic round trip (a small Lua script), for the rate limits: Django's `incr` is two round
trips (EXISTS, INCR) and a missing key a third (`add`).
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends import redis as django_redis

# INCR, and EXPIRE when the key was just created: atomic, whatever other clients do.
_COUNT_SCRIPT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}
        self._count_script: Any = None

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client

    def count(self, key: str, timeout: int) -> int:
        client = self.get_client(key, write=True)
        if self._count_script is None:
            self._count_script = client.register_script(_COUNT_SCRIPT)
        return int(self._count_script(keys=[key], args=[timeout], client=client))


class RedisCache(django_redis.RedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient

    def count(self, key: str, timeout: int, version: int | None = None) -> int:
        """Add one to the counter `key` (created with this lifetime in seconds); the new value."""
        key = self.make_and_validate_key(key, version=version)
        client: RedisCacheClient = self._cache  # type: ignore[attr-defined]
        return client.count(key, timeout)
