"""Navigation entries contributed by each app, so `core` imports none of them.

An app registers a provider in its `AppConfig.ready()`; the provider returns the entries the
requesting user may use, with badge counts (what waits for them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest


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
