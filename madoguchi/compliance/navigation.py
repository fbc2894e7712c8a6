"""The コンプライアンス記録 entry, for the users who may audit (ward manager, auditor)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _

from madoguchi.core.navigation import NavItem, url
from madoguchi.programs.scoping import can


def provider(request: HttpRequest) -> list[NavItem]:
    if not can(getattr(request, "user", None), "audit"):
        return []
    return [NavItem(_("コンプライアンス記録"), url("compliance:index"), order=85)]
