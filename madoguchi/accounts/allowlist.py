"""Which client addresses may reach the staff screens (R-15, R-17).

The lists are read on every request, so they are cached briefly in Django's cache and dropped
whenever a service changes them (with Redis as the cache, every worker sees the change at once;
with the per-process memory cache, other workers see it within `CACHE_SECONDS`).
"""

from __future__ import annotations

import ipaddress

from django.core.cache import cache
from django.db import transaction

from madoguchi.accounts.models import AllowedNetwork

CACHE_KEY = "accounts:allowlist:v1"
CACHE_SECONDS = 30

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _lists() -> dict[int, list[str]]:
    lists: dict[int, list[str]] | None = cache.get(CACHE_KEY)
    if lists is None:
        lists = {}
        rows = AllowedNetwork.objects.filter(organisation__is_active=True).values_list(
            "organisation_id", "network"
        )
        for organisation_id, network in rows:
            lists.setdefault(organisation_id, []).append(network)
        cache.set(CACHE_KEY, lists, CACHE_SECONDS)
    return lists


def invalidate() -> None:
    cache.delete(CACHE_KEY)
    # A change rolled back or committed later must not leave an old list behind either.
    transaction.on_commit(lambda: cache.delete(CACHE_KEY))


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


def is_allowed(address: str, organisation_id: int | None, *, any_organisation: bool = False) -> bool:
    """Before login (`any_organisation`): on any active organisation's list. After: on the user's."""
    lists = _lists()
    if any_organisation:
        networks = [network for entries in lists.values() for network in entries]
    elif organisation_id is None:
        return False
    else:
        networks = lists.get(organisation_id, [])
    return address_in(address, networks)
