from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from madoguchi.core.navigation import items_for


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    current = request.path
    return {
        "nav_items": [
            {
                "label": item.label,
                "url": item.url,
                "badge": item.badge,
                "shortcut": item.shortcut,
                "current": current == item.url or (item.url != "/" and current.startswith(item.url)),
            }
            for item in items_for(request)
        ],
        "request_id": getattr(request, "request_id", ""),
    }
