from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "madoguchi.alerts"
    label = "alerts"
    verbose_name = "アラート"
