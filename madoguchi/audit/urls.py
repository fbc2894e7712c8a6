from django.urls import path

from madoguchi.audit import views

app_name = "audit"

urlpatterns = [
    path("events", views.events, name="events"),
    path("export", views.export_events, name="export"),
    path("events/<int:seq>/change", views.change, name="change"),
    path("review", views.review, name="review"),
    path("review/export", views.export_review, name="review_export"),
]
