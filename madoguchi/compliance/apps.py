from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "madoguchi.compliance"
    label = "compliance"
    verbose_name = "コンプライアンス記録"
