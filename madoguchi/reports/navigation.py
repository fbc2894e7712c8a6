"""The navigation's entry for reports: the supervisor, the ward's staff and the ward manager."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _

from madoguchi.core.navigation import NavItem, url
from madoguchi.reports.services import may_read_reports


def provider(request: HttpRequest) -> list[NavItem]:
    if not may_read_reports(getattr(request, "user", None)):
        return []
    return [NavItem(_("報告書"), url("reports:index"), order=70)]
