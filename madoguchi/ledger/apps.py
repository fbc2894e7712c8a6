from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "madoguchi.ledger"
    label = "ledger"
    verbose_name = "情報管理台帳"

    def ready(self) -> None:
        from madoguchi.core import navigation
        from madoguchi.ledger.views import nav_items

        navigation.register(nav_items)
