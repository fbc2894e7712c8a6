"""Navigation: the alerts (with the unread badge) and the ward manager's thresholds."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _

from madoguchi.alerts import selectors
from madoguchi.cases.selectors import badge
from madoguchi.core.navigation import NavItem, url
from madoguchi.programs.scoping import can


def provider(request: HttpRequest) -> list[NavItem]:
    user = getattr(request, "user", None)
    if not can(user, "supervise"):
        return []
    unread = selectors.unread_count(user)
    items = [NavItem(_("アラート"), url("alerts:list"), order=88, badge=badge(unread) if unread else None)]
    if can(user, "manage"):
        items.append(NavItem(_("アラート設定"), url("alerts:settings_index"), order=89))
    return items
