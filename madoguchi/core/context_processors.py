from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from madoguchi.core.navigation import items_for
from madoguchi.lib.lazy import LazyList


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The navigation's entries with their badges, made only if the template shows them (an
    htmx fragment never does)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    return {
        "nav_items": LazyList(lambda: _entries(request)),
        "request_id": getattr(request, "request_id", ""),
    }


def _entries(request: HttpRequest) -> list[dict[str, Any]]:
    path = request.path
    items = items_for(request)
    # The entry whose URL is the longest prefix of the path is the current one (only one: the
    # API tokens under /identify/tokens/ are not also 本人特定 at /identify/).
    matches = [
        item.url for item in items if path == item.url or (item.url != "/" and path.startswith(item.url))
    ]
    current = max(matches, key=len, default=None)
    return [
        {
            "label": item.label,
            "url": item.url,
            "badge": item.badge,
            "shortcut": item.shortcut,
            "current": item.url == current,
        }
        for item in items
    ]
