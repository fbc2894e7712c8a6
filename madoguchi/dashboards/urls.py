from django.urls import URLPattern, URLResolver, path

from madoguchi.dashboards import views

app_name = "dashboards"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.dashboard, name="home"),
]
