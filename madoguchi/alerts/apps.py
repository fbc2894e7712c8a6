from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "madoguchi.alerts"
    label = "alerts"
    verbose_name = "アラート"

    def ready(self) -> None:
        from madoguchi.alerts import navigation
        from madoguchi.core.navigation import register

        register(navigation.provider)

        from django.utils.translation import gettext_lazy

        from madoguchi.audit.describe import register_object_type

        register_object_type("alert_settings", gettext_lazy("アラート設定"))
