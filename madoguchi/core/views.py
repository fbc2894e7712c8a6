from __future__ import annotations

import logging
import sys

from django.contrib.auth.decorators import login_required
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

logger = logging.getLogger("madoguchi.core")


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
    return render(request, "core/home.html")


def _error(request: HttpRequest, template: str, status: int) -> HttpResponse:
    return render(request, template, {"request_id": getattr(request, "request_id", "")}, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, "400.html", 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, "403.html", 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, "404.html", 404)


def _database_unreachable() -> bool:
    """Whether the error being handled is the database being away (restarting, failing over):
    a connection-level error, not a bad query."""
    error = sys.exc_info()[1]
    return isinstance(error, OperationalError | InterfaceError)


def server_error(request: HttpRequest) -> HttpResponse:
    # Rendered without context processors or database access: the database may be what failed.
    from django.template import loader

    if _database_unreachable():
        # A request caught by a primary restart: its transaction rolled back (nothing half
        # written); the next request reconnects (CONN_HEALTH_CHECKS). Say "try again".
        logger.error("database unavailable: request answered 503 (%s)", type(sys.exc_info()[1]).__name__)
        template = loader.get_template("503.html")
        body = template.render({"request_id": getattr(request, "request_id", "")})
        response = HttpResponse(body, status=503)
        response["Retry-After"] = "30"
        return response
    template = loader.get_template("500.html")
    body = template.render({"request_id": getattr(request, "request_id", "")})
    return HttpResponse(body, status=500)
