from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "madoguchi.compliance"
    label = "compliance"
    verbose_name = "コンプライアンス記録"

    def ready(self) -> None:
        from madoguchi.compliance import (
            checks,  # noqa: F401  (registers the inventory check)
            navigation,
        )
        from madoguchi.core.navigation import register

        register(navigation.provider)

        from madoguchi.compliance import audit_names

        audit_names.register()
