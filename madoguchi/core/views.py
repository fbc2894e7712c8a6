from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """200 when the application and its database answer; 503 otherwise. Outside the allowlist."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The user's dashboard (madoguchi.dashboards) when an app provides one; else the links."""
    from madoguchi.core.home import registered

    view = registered()
    if view is not None:
        return view(request)
    return render(request, "core/home.html")


def _error(request: HttpRequest, template: str, status: int) -> HttpResponse:
    return render(request, template, {"request_id": getattr(request, "request_id", "")}, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, "400.html", 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, "403.html", 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, "404.html", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    # Rendered without context processors or database access: the database may be what failed.
    from django.template import loader

    template = loader.get_template("500.html")
    body = template.render({"request_id": getattr(request, "request_id", "")})
    return HttpResponse(body, status=500)
