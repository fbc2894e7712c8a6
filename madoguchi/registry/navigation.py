from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _

from madoguchi.core.navigation import NavItem, url
from madoguchi.programs.scoping import can


def provider(request: HttpRequest) -> list[NavItem]:
    user = getattr(request, "user", None)
    items = []
    if can(user, "import"):
        items.append(NavItem(_("取込"), url("registry:imports"), order=70))
    if can(user, "manage"):
        # The ward manager's page of one household: suspension of use and disclosure (APPI).
        items.append(NavItem(_("世帯（開示・利用停止）"), url("registry:households"), order=75))
    return items
