"""The home page's content, contributed by an app (the dashboards), so `core` imports none.

An app registers a view in its `AppConfig.ready()`; without one, home is the list of links.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

HomeView = Callable[[HttpRequest], HttpResponse]
_home: list[HomeView] = []


def register(view: HomeView) -> None:
    _home[:] = [view]


def registered() -> HomeView | None:
    return _home[0] if _home else None
