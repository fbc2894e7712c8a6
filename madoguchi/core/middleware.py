from __future__ import annotations

import time
from collections.abc import Callable

from csp import constants as csp_constants
from csp import middleware as csp_middleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.http.response import HttpResponseBase
from django.template.loader import render_to_string
from django.utils.http import http_date

from madoguchi.core.client_ip import client_ip
from madoguchi.core.request_context import client_ip_var, new_request_id, request_id_var, request_memo_var


class RequestIdMiddleware:
    """Gives every request an id (shown on error pages, logged, audited), its client address and
    its memo (`request_context.memoized`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = new_request_id()
        address = client_ip(request)
        request.request_id = request_id  # type: ignore[attr-defined]
        request.client_ip = address  # type: ignore[attr-defined]
        id_token = request_id_var.set(request_id)
        ip_token = client_ip_var.set(address)
        memo_token = request_memo_var.set({})
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(id_token)
            client_ip_var.reset(ip_token)
            request_memo_var.reset(memo_token)
        response["X-Request-ID"] = request_id
        return response


class NoStoreMiddleware:
    """`Cache-Control: no-store` on everything but static files (R-32): pages hold personal data."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith("/static/"):
            # What `add_never_cache_headers` gives, written directly: it parses and rebuilds
            # Cache-Control twice, only for the value to be replaced here.
            if not response.has_header("Expires"):
                response.headers["Expires"] = http_date(time.time())
            response["Cache-Control"] = "no-store, no-cache, must-revalidate, private, max-age=0"
            if response.has_header("ETag"):
                del response["ETag"]
            if response.has_header("Last-Modified"):
                del response["Last-Modified"]
        return response


class PermissionsPolicyMiddleware:
    """`Permissions-Policy` denying every browser feature the product does not use (R-32).

    Outermost with the other header middleware, so the staff gate's answers carry it too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


# Query parameters that would carry a personal search term (a name, a reading, a phone number,
# an address...). Searches are POSTed (a saved search is then addressed by an opaque id), so a
# URL never holds them and the access log stays free of personal items.
PERSONAL_QUERY_PARAMETERS = frozenset(
    {
        "text",
        "q",
        "query",
        "keyword",
        "name",
        "kana",
        "reading",
        "phone",
        "tel",
        "caller_number",
        "email",
        "mail",
        "address",
        "postal",
        "postal_code",
        "birth_date",
        "dob",
    }
)


class QueryStringGuardMiddleware:
    """Refuses (400, in Japanese) any request whose query string names a personal search term.

    The refused request changes nothing and filters nothing; the value is not logged."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.GET and not request.path_info.startswith("/static/"):
            names = {name.lower() for name in request.GET}
            if names & PERSONAL_QUERY_PARAMETERS:
                body = render_to_string("400_query.html", {"request_id": getattr(request, "request_id", "")})
                return HttpResponseBadRequest(body)
        return self.get_response(request)


_CSP_OVERRIDES = tuple(
    f"_csp_{kind}{suffix}" for kind in ("config", "update", "replace") for suffix in ("", "_ro")
)
_csp_headers: dict[bool, str] = {}


def _forget_csp_headers(*, setting: str, **_kwargs: object) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _csp_headers.clear()


setting_changed.connect(_forget_csp_headers, dispatch_uid="madoguchi.core.csp_headers")


class CSPMiddleware(csp_middleware.CSPMiddleware):
    """django-csp's, with the headers built once from the settings instead of on every response.

    django-csp rebuilds both policy strings (a dataclass copy and a sort of every directive) for
    every response: about a tenth of a cached public page's CPU. Nothing here sets a nonce or a
    per-view policy; a response that does (or a debug error page) still goes through django-csp.
    """

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if getattr(request, "_csp_nonce", None) is not None or any(
            hasattr(response, name) for name in _CSP_OVERRIDES
        ):
            return super().process_response(request, response)
        if settings.DEBUG and response.status_code in (500, 404):
            return response
        for report_only, header, setting in (
            (False, csp_constants.HEADER, "CONTENT_SECURITY_POLICY"),
            (True, csp_constants.HEADER_REPORT_ONLY, "CONTENT_SECURITY_POLICY_REPORT_ONLY"),
        ):
            policy = _csp_headers.get(report_only)
            if policy is None:
                policy = _csp_headers[report_only] = build_policy(report_only=report_only)
            exempt = getattr(response, "_csp_exempt_ro" if report_only else "_csp_exempt", False)
            prefixes = tuple((getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES", None) or ())
            if (
                policy
                and header not in response
                and exempt is False
                and not request.path_info.startswith(prefixes)
            ):
                response[header] = policy
        request.csp_nonce = csp_middleware.CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response
