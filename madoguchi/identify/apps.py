from __future__ import annotations

from django.apps import AppConfig


class IdentifyConfig(AppConfig):
    name = "madoguchi.identify"
    label = "identify"
    verbose_name = "Identification"

    def ready(self) -> None:
        from madoguchi.core.navigation import register
        from madoguchi.identify import indexer
        from madoguchi.identify.views import nav_items

        register(nav_items)
        try:
            from madoguchi.registry import hooks  # type: ignore[attr-defined]
        except ImportError:
            # Until the registry announces applied lists, the index is rebuilt lazily when
            # a search finds it older than the latest import.
            return
        hooks.on_list_applied(indexer.on_list_applied)
