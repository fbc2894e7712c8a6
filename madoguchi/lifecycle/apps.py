from django.apps import AppConfig


class LifecycleConfig(AppConfig):
    name = "madoguchi.lifecycle"
    label = "lifecycle"
    verbose_name = "事業の終了（返還・消去）"

    def ready(self) -> None:
        from madoguchi.accounts.otp import register_session_read
        from madoguchi.core.navigation import register
        from madoguchi.lifecycle import audit_names, navigation
        from madoguchi.lifecycle.context_processors import SESSION_READ

        register(navigation.provider)
        audit_names.register()
        register_session_read(SESSION_READ)
