"""Navigation entries for cases with what waits for the user (badge counts)."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from madoguchi.cases import selectors
from madoguchi.core.navigation import NavItem
from madoguchi.programs.scoping import can


def provider(request: HttpRequest) -> list[NavItem]:
    user = getattr(request, "user", None)
    if not can(user, "view"):
        return []
    contractor = bool(getattr(user, "is_contractor", False))
    counts = selectors.waiting_counts(
        user, only=("callback",) if contractor else ("escalated",) if can(user, "answer") else ()
    )
    items = [NavItem(_("問い合わせ一覧"), reverse("cases:list"), order=20, shortcut="Alt+L")]
    if can(user, "edit") and contractor:
        items.insert(0, NavItem(_("新規受付"), reverse("cases:new"), order=10, shortcut="Alt+N"))
        items.append(
            NavItem(
                _("折り返し待ち"),
                reverse("cases:queue", args=["callback"]),
                order=30,
                badge=counts.label("callback"),
            )
        )
    if can(user, "answer"):
        items.append(
            NavItem(
                _("区確認待ち"),
                reverse("cases:queue", args=["escalated"]),
                order=30,
                badge=counts.label("escalated"),
            )
        )
    items.append(NavItem(_("回答例"), reverse("cases:standard_answers"), order=60))
    if counts.notifications:
        items.append(
            NavItem(
                _("お知らせ"), reverse("cases:notifications"), order=90, badge=counts.label("notifications")
            )
        )
    return items
