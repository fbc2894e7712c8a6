from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "madoguchi.registry"
    label = "registry"
    verbose_name = "Target list"

    def ready(self) -> None:
        from madoguchi.core.navigation import register
        from madoguchi.registry import navigation

        register(navigation.provider)

        from madoguchi.registry import audit_names

        audit_names.register()
