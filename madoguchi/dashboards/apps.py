from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "madoguchi.dashboards"
    label = "dashboards"
    verbose_name = "ダッシュボード"
