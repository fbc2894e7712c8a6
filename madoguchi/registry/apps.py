from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "madoguchi.registry"
    label = "registry"
    verbose_name = "Target list"
