from django.urls import URLPattern, URLResolver, path

from madoguchi.exports import views

app_name = "exports"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.index, name="index"),
]
