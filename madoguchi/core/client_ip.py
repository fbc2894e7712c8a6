"""The one client address the whole application uses (R-16).

The address comes from the socket, or, behind a configured number of trusted reverse proxies,
from X-Forwarded-For counted from the right: each trusted proxy appends the address it saw,
so only the entry added by the outermost trusted proxy is believed. Entries a client wrote
itself (the leftmost ones), X-Real-IP and Forwarded never widen access.
"""

from __future__ import annotations

import functools
import ipaddress

from django.conf import settings
from django.http import HttpRequest

# The longest text of an address worth parsing (an IPv6 address with a zone is well under it).
_MAX_ADDRESS = 100


def _valid(address: str) -> str | None:
    text = address.strip()
    return _parsed(text) if len(text) <= _MAX_ADDRESS else None


# A pure function of the text, asked on every request with the few addresses in use (a
# resident's three requests, the proxies'): parsing each time was a thirtieth of a plain
# request. Bounded in entries and, through `_valid`, in the length of each.
@functools.lru_cache(maxsize=2048)
def _parsed(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    remote = _valid(request.META.get("REMOTE_ADDR", "")) or ""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < proxies:
        # Fewer hops than proxies: the request did not come through them all. Trust the socket.
        return remote
    return _valid(forwarded[-proxies]) or remote
