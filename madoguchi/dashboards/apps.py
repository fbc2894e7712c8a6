from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "madoguchi.dashboards"
    label = "dashboards"
    verbose_name = "ダッシュボード"

    def ready(self) -> None:
        from madoguchi.core.home import register
        from madoguchi.dashboards.views import dashboard

        register(dashboard)
