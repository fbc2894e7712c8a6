from django.apps import AppConfig


class LifecycleConfig(AppConfig):
    name = "madoguchi.lifecycle"
    label = "lifecycle"
    verbose_name = "事業の終了（返還・消去）"

    def ready(self) -> None:
        from madoguchi.core.navigation import register
        from madoguchi.lifecycle import audit_names, navigation

        register(navigation.provider)
        audit_names.register()
