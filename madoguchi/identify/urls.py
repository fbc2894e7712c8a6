from django.urls import path

from madoguchi.identify import views

app_name = "identify"

urlpatterns: list = []
