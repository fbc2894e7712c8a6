"""The gate in front of every staff URL (R-12, R-15..R-17, T-SEC-04, T-SEC-09).

`StaffGateMiddleware` runs after authentication and django-otp and, for every path that is not
public, refuses:
1. an address not on the allowlist (before login: any active organisation's list; after: the
   user's organisation's list), with the Japanese 403 page, audited (at most once a minute
   per address, so a scanner cannot flood the audit log);
2. a session that is logged in without the second factor, or idle too long, or older than one
   shift: the session ends on the server and the user is sent to the login page;
3. an anonymous visitor: sent to the login page (every staff page needs a login, so no view
   can forget its decorator).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.messages.middleware import MessageMiddleware
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import LazyObject, empty
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from madoguchi.accounts import allowlist
from madoguchi.accounts.sessions import AUTH_AT, SEEN_AT
from madoguchi.audit.models import Action, Outcome
from madoguchi.audit.services import record

# Outside the allowlist and the login: the health check, the public inquiry form, static files.
PUBLIC_PREFIXES = ("/healthz", "/inquiry/", "/static/")
# Machine clients with a bearer token (the phone system's screen pop): behind the allowlist,
# no session; the view authenticates the token and checks its organisation's allowlist.
TOKEN_PREFIXES = ("/identify/api/",)
# Reachable before login (still behind the allowlist).
LOGIN_PREFIXES = ("/accounts/login/", "/accounts/password/reset/", "/accounts/reset/")
# A session's last-seen time is written at most this often (one write per request is waste).
SEEN_WRITE_SECONDS = 15
REFUSAL_AUDIT_SECONDS = 60


def is_public(path: str) -> bool:
    return path.startswith(PUBLIC_PREFIXES)


def is_login_path(path: str) -> bool:
    return path.startswith(LOGIN_PREFIXES)


def refuse_address(request: HttpRequest) -> HttpResponse:
    address = getattr(request, "client_ip", "")
    try:
        first = cache.add(f"accounts:refused:{address}", 1, REFUSAL_AUDIT_SECONDS)
    except Exception:
        first = True  # Redis down: record every refusal rather than none
    if first:
        user = request.user if request.user.is_authenticated else None
        record(
            action=Action.ADDRESS_REFUSED,
            actor=user,
            outcome=Outcome.DENIED,
            details={"method": request.method},
        )
    return render(request, "403_ip.html", {"request_id": getattr(request, "request_id", "")}, status=403)


def to_login(request: HttpRequest) -> HttpResponse:
    url = reverse("accounts:login")
    if request.method == "GET" and not request.headers.get("HX-Request"):
        url = f"{url}?{urlencode({'next': request.get_full_path()})}"
    response = redirect(url)
    if request.headers.get("HX-Request"):
        # htmx follows a redirect inside the page; make it load the login page instead.
        response["HX-Redirect"] = url
    return response


def session_expired(request: HttpRequest) -> str:
    """'' while the session is alive; else why it ended ('idle' or 'absolute')."""
    now = time.time()
    auth_at = request.session.get(AUTH_AT)
    seen_at = request.session.get(SEEN_AT)
    if auth_at is None or seen_at is None:
        return "absolute"
    if now - float(auth_at) > settings.SESSION_COOKIE_AGE:
        return "absolute"
    if now - float(seen_at) > settings.SESSION_IDLE_TIMEOUT:
        return "idle"
    if now - float(seen_at) > SEEN_WRITE_SECONDS:
        request.session[SEEN_AT] = now
    return ""


class StaffGateMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if is_public(path):
            return self.get_response(request)
        user = request.user
        address = getattr(request, "client_ip", "")
        if user.is_authenticated:
            if not allowlist.is_allowed(address, user.organisation_id):
                return refuse_address(request)
        elif not allowlist.is_allowed(address, None, any_organisation=True):
            return refuse_address(request)

        if user.is_authenticated:
            from madoguchi.accounts.services import log_out

            if not user.is_verified():  # type: ignore[union-attr,attr-defined]
                # Logged in without the second factor (only possible by bypassing our login).
                log_out(request, reason="no_second_factor")
                return to_login(request)
            reason = session_expired(request)
            if reason:
                log_out(request, reason=reason)
                messages.info(
                    request, _("一定時間が経過したため、ログアウトしました。もう一度ログインしてください。")
                )
                return to_login(request)
        elif not is_login_path(path) and not path.startswith(TOKEN_PREFIXES):
            return to_login(request)
        request.user = read_user(user)
        return self.get_response(request)


def read_user(user: Any) -> Any:
    """The user behind the lazy `request.user`, once it has been read (the gate reads it on
    every staff URL). Every attribute read through the lazy object goes through three proxy
    calls, and a page reads the user a few hundred times (the navigation's `can()`s, the
    templates); the object and its state are the same. django-otp's lazy object wraps
    Django's, so both are taken off."""
    while isinstance(user, LazyObject) and user._wrapped is not empty:  # type: ignore[attr-defined]
        user = user._wrapped  # type: ignore[attr-defined]
    return user


class StaffMessageMiddleware(MessageMiddleware):
    """Django's flash messages, on the staff pages only.

    The residents' pages never show one (their layout has no place for it, and the input page
    is served from a cache), and nothing under the public prefixes adds one. Making the
    message storage (two backends and a cookie signer) on every request was about a twentieth
    of a plain public request's CPU; the messages context processor reads no storage as none.
    """

    def __call__(self, request: HttpRequest) -> Any:
        if is_public(request.path_info):
            return self.get_response(request)
        return super().__call__(request)
