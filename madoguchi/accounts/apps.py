from __future__ import annotations

from django.apps import AppConfig
from django.http import HttpRequest
from django.utils.translation import gettext as _


def navigation(request: HttpRequest) -> list:  # type: ignore[type-arg]
    from madoguchi.accounts.models import Role
    from madoguchi.core.navigation import NavItem
    from madoguchi.core.navigation import url as nav_url

    role = getattr(request.user, "role", None)
    items = []
    if role in {Role.WARD_MANAGER, Role.SUPERVISOR}:
        items.append(NavItem(label=_("利用者の管理"), url=nav_url("accounts:users"), order=900))
    if role == Role.WARD_MANAGER:
        items.append(NavItem(label=_("許可アドレス"), url=nav_url("accounts:allowlist"), order=910))
    return items


class AccountsConfig(AppConfig):
    name = "madoguchi.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from madoguchi.accounts import signals  # noqa: F401  (connects the axes receivers)
        from madoguchi.core.navigation import register

        register(navigation)
