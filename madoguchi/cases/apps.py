from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate


class CasesConfig(AppConfig):
    name = "madoguchi.cases"
    label = "cases"
    verbose_name = "問い合わせ"

    def ready(self) -> None:
        from madoguchi.cases import navigation
        from madoguchi.core.navigation import register

        register(navigation.provider)

        from madoguchi.cases import audit_names

        audit_names.register()
        post_migrate.connect(_repair_sqlite_search, sender=self)


def _repair_sqlite_search(using: str = "default", **kwargs: Any) -> None:
    """A later migration that rebuilds `cases_case` on SQLite drops the search triggers."""
    from madoguchi.cases import sqlite_search

    sqlite_search.ensure_installed(connections[using])
