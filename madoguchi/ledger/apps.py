from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "madoguchi.ledger"
    label = "ledger"
    verbose_name = "情報管理台帳"
