from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "madoguchi.exports"
    label = "exports"
    verbose_name = "問い合わせの出力"

    def ready(self) -> None:
        from madoguchi.core.navigation import register
        from madoguchi.exports import navigation

        register(navigation.provider)
