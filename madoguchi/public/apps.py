from django.apps import AppConfig


class PublicConfig(AppConfig):
    name = "madoguchi.public"
    label = "public"
    verbose_name = "Public inquiry form"
