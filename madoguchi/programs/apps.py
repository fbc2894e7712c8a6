from django.apps import AppConfig


class ProgramsConfig(AppConfig):
    name = "madoguchi.programs"
    label = "programs"
    verbose_name = "Programs"
