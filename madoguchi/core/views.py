from __future__ import annotations

import sys

from django.contrib.auth.decorators import login_required
from django.db import InterfaceError, OperationalError, connection
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
    return render(request, "core/home.html")


def _error(request: HttpRequest, template: str, status: int) -> HttpResponse:
    return render(request, template, {"request_id": getattr(request, "request_id", "")}, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, "400.html", 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, "403.html", 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, "404.html", 404)


# Seconds a client is asked to wait when the database does not answer.
DATABASE_RETRY_AFTER = 120


def server_error(request: HttpRequest) -> HttpResponse:
    """500, or 503 with Retry-After when the error is the database not answering.

    Django calls the handler inside its `except` block, so the exception being handled is in
    `sys.exc_info()`, wherever it was raised (a view, the session, the staff gate). Rendered
    without context processors or database access: the database may be what failed.
    """
    from django.template import loader

    error = sys.exc_info()[1]
    context = {"request_id": getattr(request, "request_id", "")}
    if isinstance(error, (OperationalError, InterfaceError)):
        body = loader.get_template("503.html").render(context)
        response = HttpResponse(body, status=503)
        response["Retry-After"] = str(DATABASE_RETRY_AFTER)
        return response
    body = loader.get_template("500.html").render(context)
    return HttpResponse(body, status=500)
