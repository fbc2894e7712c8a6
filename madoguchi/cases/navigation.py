"""Navigation entries for cases with what waits for the user (badge counts)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi.cases import selectors
from madoguchi.core.navigation import NavItem, url
from madoguchi.programs.scoping import can, programs_for


def provider(request: HttpRequest) -> list[NavItem]:
    user = getattr(request, "user", None)
    if not can(user, "view"):
        return []
    contractor = bool(getattr(user, "is_contractor", False))
    counts = selectors.waiting_counts(
        user, only=("callback", "web") if contractor else ("escalated",) if can(user, "answer") else ()
    )
    items = [NavItem(_("問い合わせ一覧"), url("cases:list"), order=20, shortcut="Alt+L")]
    if can(user, "edit") and contractor:
        items.insert(0, NavItem(_("新規受付"), url("cases:new"), order=10, shortcut="Alt+N"))
        items.append(
            NavItem(
                _("折り返し待ち"),
                url("cases:queue", "callback"),
                order=30,
                badge=counts.label("callback"),
            )
        )
        items.append(
            NavItem(
                _("フォーム受付"),
                url("cases:web_queue"),
                order=31,
                badge=counts.label("web"),
            )
        )
    if can(user, "answer"):
        items.append(
            NavItem(
                _("区確認待ち"),
                url("cases:queue", "escalated"),
                order=30,
                badge=counts.label("escalated"),
            )
        )
    items.append(NavItem(_("回答例"), url("cases:standard_answers"), order=60))
    if can(user, "manage"):
        # With the other program settings of the ward manager (期間後の訂正, 許可アドレス).
        items.append(NavItem(_("問い合わせ分類"), url("cases:category_index"), order=85))
        managed = programs_for(user, "manage").filter(recording_end__lt=timezone.localdate()).first()
        if managed is not None:
            # Only once the recording period is over is there a correction window to open.
            items.append(NavItem(_("期間後の訂正"), url("cases:correction_window", managed.code), order=80))
    if counts.notifications:
        items.append(
            NavItem(_("お知らせ"), url("cases:notifications"), order=90, badge=counts.label("notifications"))
        )
    return items
