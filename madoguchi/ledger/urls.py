from django.urls import URLPattern, URLResolver, path

from madoguchi.ledger import views

app_name = "ledger"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.index, name="index"),
    path("disclosure/<uuid:public_id>/", views.disclosure, name="disclosure"),
    path("<slug:code>/", views.program_ledger, name="program"),
    path("<slug:code>/csv/", views.program_csv, name="csv"),
]
