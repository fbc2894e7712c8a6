from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "madoguchi.alerts"
    label = "alerts"
    verbose_name = "アラート"

    def ready(self) -> None:
        from madoguchi.alerts import navigation
        from madoguchi.core.navigation import register

        register(navigation.provider)
