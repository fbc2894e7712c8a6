"""Navigation entries contributed by each app, so `core` imports none of them.

An app registers a provider in its `AppConfig.ready()`; the provider returns the entries the
requesting user may use, with badge counts (what waits for them).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.signals import setting_changed
from django.http import HttpRequest
from django.urls import get_script_prefix, get_urlconf, reverse


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    order: int = 100
    # A count, or a capped label such as "99+" (counting a large queue on every page is waste).
    badge: int | str | None = None
    shortcut: str = ""


NavProvider = Callable[[HttpRequest], list[NavItem]]
_providers: list[NavProvider] = []


def register(provider: NavProvider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def items_for(request: HttpRequest) -> list[NavItem]:
    items: list[NavItem] = []
    for provider in _providers:
        items.extend(provider(request))
    return sorted(items, key=lambda item: item.order)


# The entries' URLs (a name and its arguments), the same for every request: `reverse()` walked
# the resolver for each of about ten entries of every full page.
_urls: dict[tuple[Any, ...], str] = {}
_urls_lock = threading.Lock()
URLS_LIMIT = 512


def url(name: str, *args: Any) -> str:
    """`reverse(name, args=args)`, kept per process (by script prefix and URLconf, which is all it
    depends on besides the arguments; a settings change empties it)."""
    key = (name, args, get_script_prefix(), get_urlconf())
    found = _urls.get(key)
    if found is None:
        found = reverse(name, args=list(args) or None)
        with _urls_lock:
            if len(_urls) >= URLS_LIMIT:
                _urls.clear()
            _urls[key] = found
    return found


def _forget_urls(**_kwargs: object) -> None:
    with _urls_lock:
        _urls.clear()


setting_changed.connect(_forget_urls, dispatch_uid="madoguchi.core.navigation.urls")
