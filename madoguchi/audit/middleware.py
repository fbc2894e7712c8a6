"""Records a PERMISSION_DENIED event whenever a signed-in user's view raises PermissionDenied.

Cheap: it does nothing until a view raises, and then writes one event. Anonymous requests are
not recorded here (the login page handles those; public pages never raise PermissionDenied).
The 403 page is still rendered by Django's handler: returning None lets the exception go on.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from madoguchi.audit.services import record_denied


class AuditDeniedMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, PermissionDenied):
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                # Its own transaction (autocommit here): the view's work has rolled back.
                record_denied(request, reason="view")
        return None
