from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "madoguchi.cases"
    label = "cases"
    verbose_name = "問い合わせ"

    def ready(self) -> None:
        from madoguchi.cases import navigation
        from madoguchi.core.navigation import register

        register(navigation.provider)
