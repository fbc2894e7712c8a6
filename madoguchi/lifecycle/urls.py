from django.urls import URLPattern, URLResolver, path

from madoguchi.lifecycle import views

app_name = "lifecycle"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.program_list, name="programs"),
    path("<slug:code>/", views.program_page, name="program"),
    path("<slug:code>/return", views.return_download, name="return"),
    path("<slug:code>/request-purge", views.request_purge, name="request_purge"),
    path("<slug:code>/approve-purge", views.approve_purge, name="approve_purge"),
    path("<slug:code>/purge", views.run_purge, name="purge"),
    path("<slug:code>/certificate", views.certificate, name="certificate"),
]
