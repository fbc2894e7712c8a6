from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from madoguchi.core.navigation import NavItem
from madoguchi.programs.scoping import can


def provider(request: HttpRequest) -> list[NavItem]:
    if not can(getattr(request, "user", None), "import"):
        return []
    return [NavItem(_("取込"), reverse("registry:imports"), order=70)]
