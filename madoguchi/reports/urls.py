from django.urls import URLPattern, URLResolver, path

from madoguchi.reports import views

app_name = "reports"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.index, name="index"),
    path("download/", views.download, name="download"),
]
