"""The navigation's entry for the export of cases: the ward manager only."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _

from madoguchi.core.navigation import NavItem, url
from madoguchi.programs.scoping import can


def provider(request: HttpRequest) -> list[NavItem]:
    if not can(getattr(request, "user", None), "export"):
        return []
    return [NavItem(_("問い合わせの出力"), url("exports:index"), order=75)]
