from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class PublicConfig(AppConfig):
    name = "madoguchi.public"
    label = "public"
    verbose_name = "Public inquiry form"

    def ready(self) -> None:
        from madoguchi.accounts.models import Organisation
        from madoguchi.cases.models import Category
        from madoguchi.programs.models import Program
        from madoguchi.public.selectors import forget_programs

        # The form's cached copy of a program (selectors.form_program) goes stale with these.
        for model in (Program, Category, Organisation):
            uid = f"public-forget-{model.__name__}"
            post_save.connect(forget_programs, sender=model, dispatch_uid=uid)
            post_delete.connect(forget_programs, sender=model, dispatch_uid=f"{uid}-deleted")
