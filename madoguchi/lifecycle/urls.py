from django.urls import URLPattern, URLResolver

app_name = "lifecycle"

urlpatterns: list[URLPattern | URLResolver] = []
