from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "madoguchi.reports"
    label = "reports"
    verbose_name = "報告書"
