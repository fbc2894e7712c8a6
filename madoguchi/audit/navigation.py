"""The 監査ログ entry, for the users who may audit (ward manager, auditor)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _

from madoguchi.core.navigation import NavItem, url
from madoguchi.programs.scoping import can


def provider(request: HttpRequest) -> list[NavItem]:
    if not can(getattr(request, "user", None), "audit"):
        return []
    return [
        NavItem(_("監査ログ"), url("audit:events"), order=80),
        NavItem(_("アクセスレビュー"), url("audit:review"), order=81),
    ]
