from django.urls import path

from madoguchi.identify import views

app_name = "identify"

urlpatterns = [
    path("", views.page, name="page"),
    path("search/", views.search, name="search"),
    path("open/", views.open_candidate, name="open"),
    path("confirm/", views.confirm, name="confirm"),
    path("api/screen-pop", views.screen_pop, name="screen_pop"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
]
