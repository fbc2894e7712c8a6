from django.apps import AppConfig


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
