from django.urls import path

from madoguchi.registry import household_views, views

app_name = "registry"

urlpatterns = [
    path("imports/", views.imports, name="imports"),
    path("imports/<slug:code>/", views.program_imports, name="program_imports"),
    path("imports/<slug:code>/upload/", views.upload, name="upload"),
    path("imports/<slug:code>/recheck/", views.recheck, name="recheck"),
    path("imports/<slug:code>/confirm/", views.confirm, name="confirm"),
    path("imports/<slug:code>/cancel/", views.cancel, name="cancel"),
    path("imports/<slug:code>/<int:pk>/", views.import_detail, name="import_detail"),
    path("households/", household_views.lookup, name="households"),
    path("households/<uuid:public_id>/", household_views.detail, name="household"),
    path("households/<uuid:public_id>/suspend/", household_views.suspend, name="household_suspend"),
    path("households/<uuid:public_id>/lift/", household_views.lift, name="household_lift"),
]
