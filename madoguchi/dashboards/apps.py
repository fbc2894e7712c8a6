from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "madoguchi.dashboards"
    label = "dashboards"
    verbose_name = "ダッシュボード"

    def ready(self) -> None:
        from madoguchi.core.home import register
        from madoguchi.dashboards.views import dashboard

        register(dashboard)

        from django.utils.translation import gettext_lazy

        from madoguchi.audit.describe import register_object_type

        register_object_type("dashboard", gettext_lazy("ダッシュボード"))
