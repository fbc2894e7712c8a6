from django.urls import path

from madoguchi.registry import views

app_name = "registry"

urlpatterns = [
    path("imports/", views.imports, name="imports"),
    path("imports/<slug:code>/", views.program_imports, name="program_imports"),
    path("imports/<slug:code>/upload/", views.upload, name="upload"),
    path("imports/<slug:code>/recheck/", views.recheck, name="recheck"),
    path("imports/<slug:code>/confirm/", views.confirm, name="confirm"),
    path("imports/<slug:code>/cancel/", views.cancel, name="cancel"),
    path("imports/<slug:code>/<int:pk>/", views.import_detail, name="import_detail"),
]
