"""The 事業の終了 entry, for the ward manager and the auditor."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from madoguchi.core.navigation import NavItem
from madoguchi.programs.scoping import can


def provider(request: HttpRequest) -> list[NavItem]:
    if not can(getattr(request, "user", None), "audit"):
        return []
    return [NavItem(_("事業の終了"), reverse("lifecycle:programs"), order=85)]
