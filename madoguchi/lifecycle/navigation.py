"""The 事業の終了 entry, for the ward manager and the auditor."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _

from madoguchi.core.navigation import NavItem, url
from madoguchi.programs.scoping import can


def provider(request: HttpRequest) -> list[NavItem]:
    if not can(getattr(request, "user", None), "audit"):
        return []
    return [NavItem(_("事業の終了"), url("lifecycle:programs"), order=85)]
