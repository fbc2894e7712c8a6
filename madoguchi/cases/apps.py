from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "madoguchi.cases"
    label = "cases"
    verbose_name = "問い合わせ"
