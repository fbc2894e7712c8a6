from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _create_chain_heads(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    """Create the configured chains' head rows after migrate (and after a test flush), committed.

    `record()` can create a missing head itself, but inside the caller's transaction: until
    that commits, every other writer would wait on the new, uncommitted rows.
    """
    from django.db import DEFAULT_DB_ALIAS

    from madoguchi.audit.services import chain_count, ensure_heads

    if using == DEFAULT_DB_ALIAS:  # the audit tables are written on the primary only
        ensure_heads(chain_count())


class AuditConfig(AppConfig):
    name = "madoguchi.audit"
    label = "audit"
    verbose_name = "Audit"

    def ready(self) -> None:
        from madoguchi.audit import navigation
        from madoguchi.core.navigation import register

        register(navigation.provider)

        from madoguchi.audit.sqlite_guard import install_flush_permit

        install_flush_permit()
        post_migrate.connect(_create_chain_heads, sender=self, dispatch_uid="audit_chain_heads")
