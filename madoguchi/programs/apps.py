from django.apps import AppConfig


class ProgramsConfig(AppConfig):
    name = "madoguchi.programs"
    label = "programs"
    verbose_name = "Programs"

    def ready(self) -> None:
        from madoguchi.programs import audit_names

        audit_names.register()
