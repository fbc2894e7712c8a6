"""Identification screens: the operator's panel (htmx), its standalone page, the screen pop."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from madoguchi.core.navigation import NavItem
from madoguchi.programs.scoping import can


def nav_items(request: HttpRequest) -> list[NavItem]:
    if not can(request.user, "identify"):
        return []
    return [NavItem(label=_("本人特定"), url=reverse("identify:page"), order=20, shortcut="i")]
