"""Which client addresses may reach the staff screens (R-15, R-17).

The lists are read on every request, so they are cached briefly in Django's cache and dropped
whenever a service changes them (with Redis as the cache, every worker sees the change at once;
with the per-process memory cache, other workers see it within `CACHE_SECONDS`).

A signed-in staff request reads its organisation's list from the database instead, in the
statement that reads the session's user (accounts.otp): no cache round trip, and never older
than the request. The cached lists serve the requests before login and the screen-pop API.
"""

from __future__ import annotations

import ipaddress
import logging

from django.core.cache import cache
from django.db import transaction

from madoguchi.accounts.models import AllowedNetwork
from madoguchi.core.request_context import forget as forget_in_request
from madoguchi.core.request_context import memoized
from madoguchi.core.request_context import remember as remember_in_request

CACHE_KEY = "accounts:allowlist:v1"
CACHE_SECONDS = 30

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
logger = logging.getLogger(__name__)


def _lists() -> dict[int, list[str]]:
    cache_up = True
    try:
        lists: dict[int, list[str]] | None = cache.get(CACHE_KEY)
    except Exception:
        # Redis down: the lists come from the database on every request (never "allow all").
        logger.warning("cache unavailable: the allowlist is read from the database")
        lists, cache_up = None, False
    if lists is None:
        lists = {}
        rows = AllowedNetwork.objects.filter(organisation__is_active=True).values_list(
            "organisation_id", "network"
        )
        for organisation_id, network in rows:
            lists.setdefault(organisation_id, []).append(network)
        if cache_up:
            try:
                cache.set(CACHE_KEY, lists, CACHE_SECONDS)
            except Exception:
                logger.warning("cache unavailable: the allowlist is not cached")
    return lists


def _drop() -> None:
    try:
        cache.delete(CACHE_KEY)
    except Exception:
        # The copy in a cache that is down cannot be served either; it expires by itself.
        logger.warning("cache unavailable: the cached allowlist expires within %ss", CACHE_SECONDS)


def invalidate() -> None:
    # The lists this request read, too: a change is seen by the rest of the request.
    forget_in_request(MEMO_KIND)
    _drop()
    # A change rolled back or committed later must not leave an old list behind either.
    transaction.on_commit(_drop)


def parse_address(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped
    return parsed


def address_in(address: str, networks: list[str]) -> bool:
    parsed = parse_address(address)
    if parsed is None:
        return False
    for network in networks:
        candidate = ipaddress.ip_network(network, strict=False)
        if parsed.version == candidate.version and parsed in candidate:
            return True
    return False


MEMO_KIND = "allowlist"


def _memo_key(organisation_id: int) -> tuple[str, int]:
    return (MEMO_KIND, organisation_id)


def remember(organisation_id: int | None, networks: list[str]) -> None:
    """`networks`, the organisation's list read from the database in this request, serve the
    rest of the request (accounts.otp reads it with the session's user)."""
    if organisation_id is not None:
        remember_in_request(_memo_key(organisation_id), networks)


def is_allowed(address: str, organisation_id: int | None, *, any_organisation: bool = False) -> bool:
    """Before login (`any_organisation`): on any active organisation's list. After: on the user's."""
    if any_organisation:
        networks = [network for entries in _lists().values() for network in entries]
    elif organisation_id is None:
        return False
    else:
        networks = memoized(_memo_key(organisation_id), lambda: _lists().get(organisation_id, []))
    return address_in(address, networks)
