from django.apps import AppConfig


class ProgramsConfig(AppConfig):
    name = "madoguchi.programs"
    label = "programs"
    verbose_name = "Programs"

    def ready(self) -> None:
        from madoguchi.core import navigation
        from madoguchi.programs import audit_names
        from madoguchi.programs.views import nav_items

        audit_names.register()
        navigation.register(nav_items)
