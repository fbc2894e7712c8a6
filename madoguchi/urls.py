from django.urls import include, path

urlpatterns = [
    # First: the residents' form takes the most requests (four per inquiry), and every
    # request walks this list in order until a prefix matches.
    path("inquiry/", include("madoguchi.public.urls")),
    # The language switch lives under the public prefix: residents reach it from anywhere,
    # while everything else outside /inquiry/ is behind the staff allowlist.
    path("inquiry/i18n/", include("django.conf.urls.i18n")),
    path("", include("madoguchi.core.urls")),
    path("accounts/", include("madoguchi.accounts.urls")),
    path("programs/", include("madoguchi.programs.urls")),
    path("registry/", include("madoguchi.registry.urls")),
    path("cases/", include("madoguchi.cases.urls")),
    path("audit/", include("madoguchi.audit.urls")),
    path("identify/", include("madoguchi.identify.urls")),
    path("ledger/", include("madoguchi.ledger.urls")),
    path("lifecycle/", include("madoguchi.lifecycle.urls")),
    path("dashboards/", include("madoguchi.dashboards.urls")),
    path("alerts/", include("madoguchi.alerts.urls")),
    path("reports/", include("madoguchi.reports.urls")),
    path("exports/", include("madoguchi.exports.urls")),
    path("compliance/", include("madoguchi.compliance.urls")),
]

handler400 = "madoguchi.core.views.bad_request"
handler403 = "madoguchi.core.views.permission_denied"
handler404 = "madoguchi.core.views.page_not_found"
handler500 = "madoguchi.core.views.server_error"
