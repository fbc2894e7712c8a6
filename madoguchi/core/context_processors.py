from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from madoguchi.core.navigation import items_for


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    path = request.path
    items = items_for(request)
    # The entry whose URL is the longest prefix of the path is the current one (only one: the
    # API tokens under /identify/tokens/ are not also 本人特定 at /identify/).
    matches = [
        item.url for item in items if path == item.url or (item.url != "/" and path.startswith(item.url))
    ]
    current = max(matches, key=len, default=None)
    return {
        "nav_items": [
            {
                "label": item.label,
                "url": item.url,
                "badge": item.badge,
                "shortcut": item.shortcut,
                "current": item.url == current,
            }
            for item in items
        ],
        "request_id": getattr(request, "request_id", ""),
    }
