from django.urls import URLPattern, URLResolver, path

from madoguchi.compliance import views

app_name = "compliance"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.index, name="index"),
    path("staff/", views.staff_list, name="staff"),
    path("staff/export", views.staff_export, name="staff_export"),
    path("staff/<int:user_id>/", views.staff_edit, name="staff_edit"),
    path("policies/", views.policies, name="policies"),
    path("responsible/", views.responsible, name="responsible"),
    path("incidents/", views.incidents, name="incidents"),
    path("incidents/new/", views.incident_new, name="incident_new"),
    path("incidents/export", views.incidents_export, name="incidents_export"),
    path("incidents/<int:pk>/", views.incident_detail, name="incident"),
    path("inventory/", views.inventory, name="inventory"),
]
