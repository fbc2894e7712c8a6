from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate


class DashboardsConfig(AppConfig):
    name = "madoguchi.dashboards"
    label = "dashboards"
    verbose_name = "ダッシュボード"

    def ready(self) -> None:
        from madoguchi.core.home import register
        from madoguchi.dashboards.views import dashboard

        register(dashboard)

        from django.utils.translation import gettext_lazy

        from madoguchi.audit.describe import register_object_type

        register_object_type("dashboard", gettext_lazy("ダッシュボード"))
        post_migrate.connect(_repair_counting, sender=self)


def _repair_counting(using: str = "default", **kwargs: Any) -> None:
    """A later migration that rebuilds `cases_case` on SQLite drops the counting triggers."""
    from madoguchi.dashboards import counting

    counting.ensure_installed(connections[using])
