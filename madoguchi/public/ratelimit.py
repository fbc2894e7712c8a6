"""A per-address counter shared by every app process through Django's cache (Redis in production).

Fixed windows: one cache key per address and window, incremented atomically (Redis INCR, with
the key's lifetime set in the same round trip: `madoguchi.core.cache.RedisCache.count`).
A burst at the edge of two windows can reach twice the limit; for a form a resident fills
in by hand that is acceptable, and it costs one round trip per submission.

If the cache is down the form stays open (fail open, logged): losing a resident's inquiry
is worse than letting a few extra submissions through while Redis is repaired.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    scope: str
    limit: int
    window: int  # seconds


def submission_limit() -> Limit:
    return Limit("submit", settings.PUBLIC_FORM_RATE_LIMIT, settings.PUBLIC_FORM_RATE_WINDOW)


def post_limit() -> Limit:
    # Every form POST stores a draft in the session: bound them too, more loosely, so a
    # script cannot fill the session table without ever submitting.
    return Limit("post", settings.PUBLIC_FORM_RATE_LIMIT * 6, settings.PUBLIC_FORM_RATE_WINDOW)


def address_key(address: str) -> str:
    """The address counted: an IPv6 client usually holds a whole /64, so count the /64."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "unknown"
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False).network_address)
    return str(ip)


def hit(limit: Limit, address: str, *, now: float | None = None) -> bool:
    """Count one request from `address`; False when it goes over the limit."""
    if limit.limit <= 0:
        return True
    moment = time.time() if now is None else now
    bucket = int(moment // limit.window)
    key = f"mdg:public:rl:{limit.scope}:{address_key(address)}:{bucket}"
    # The key outlives its window by a few seconds, so it cannot expire while it is counted.
    try:
        counter = getattr(cache, "count", None)
        if counter is not None:
            # Redis (madoguchi.core.cache): increment and set the lifetime in one round trip.
            count = counter(key, limit.window + 5)
        else:
            try:
                count = cache.incr(key)
            except ValueError:
                # The first request of this address in this window (one more round trip).
                count = 1 if cache.add(key, 1, timeout=limit.window + 5) else cache.incr(key)
    except Exception:
        logger.warning("rate limit cache unavailable; the public form stays open", exc_info=True)
        return True
    return count <= limit.limit


def retry_after(limit: Limit, *, now: float | None = None) -> int:
    moment = time.time() if now is None else now
    return int(limit.window - (moment % limit.window)) + 1
