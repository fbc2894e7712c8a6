from django.urls import path

from madoguchi.programs import views

app_name = "programs"

urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:code>/close/", views.close, name="close"),
]
