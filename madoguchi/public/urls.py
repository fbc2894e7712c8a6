from django.urls import path

from madoguchi.public import views

app_name = "public"

urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:code>/", views.inquiry_form, name="form"),
    path("<slug:code>/confirm/", views.confirm, name="confirm"),
    path("<slug:code>/send/", views.submit, name="submit"),
]
