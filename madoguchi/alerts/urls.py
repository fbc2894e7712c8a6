from django.urls import URLPattern, URLResolver, path

from madoguchi.alerts import views

app_name = "alerts"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.alert_list, name="list"),
    path("settings/", views.settings_index, name="settings_index"),
    path("settings/<slug:code>/", views.alert_settings, name="settings"),
    path("<uuid:public_id>/", views.detail, name="detail"),
]
