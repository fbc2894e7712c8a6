from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate


class ReportsConfig(AppConfig):
    name = "madoguchi.reports"
    label = "reports"
    verbose_name = "報告書"

    def ready(self) -> None:
        from madoguchi.core.navigation import register
        from madoguchi.reports import audit_names, navigation

        register(navigation.provider)
        audit_names.register()
        post_migrate.connect(_repair_indexes, sender=self)


def _repair_indexes(using: str = "default", **kwargs: Any) -> None:
    """A later `cases` migration that rebuilds a table on SQLite drops indexes Django does not
    know of: create the report's indexes again (IF NOT EXISTS: nothing to do otherwise)."""
    from django.db.migrations.recorder import MigrationRecorder

    from madoguchi.reports.indexes import INDEXES

    connection = connections[using]
    if not MigrationRecorder(connection).migration_qs.filter(app="reports").exists():
        return
    with connection.cursor() as cursor:
        for name, target in INDEXES:
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")
