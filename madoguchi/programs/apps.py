from django.apps import AppConfig


class ProgramsConfig(AppConfig):
    name = "madoguchi.programs"
    label = "programs"
    verbose_name = "Programs"

    def ready(self) -> None:
        from madoguchi.accounts.otp import register_session_read
        from madoguchi.core import navigation
        from madoguchi.programs import audit_names
        from madoguchi.programs.scoping import SESSION_READ
        from madoguchi.programs.views import nav_items

        audit_names.register()
        navigation.register(nav_items)
        register_session_read(SESSION_READ)
