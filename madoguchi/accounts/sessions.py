"""Staff sessions (R-12): how a login is completed, how long a session lives, how it ends.

A session counts as logged in only once both factors are checked: `complete_login` is the one
place that calls Django's `login()`, after the password and the TOTP code (or a recovery code)
were verified. It gives the session a new key, marks it verified for django-otp, stamps the
times the idle and absolute limits are measured from, and records the key against the user so
that disabling the user ends every session they have.
"""

from __future__ import annotations

import datetime
import time
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import login as django_login
from django.http import HttpRequest
from django.utils import timezone
from django_otp import login as otp_login

from madoguchi.accounts.models import User, UserSession

# Seconds since the epoch (floats), stored in the session.
AUTH_AT = "mdg_auth_at"
SEEN_AT = "mdg_seen_at"
# When the user last proved the second factor again for a sensitive action.
REAUTH_AT = "mdg_reauth_at"
REAUTH_SECONDS = 5 * 60
# Between the password step and the second factor: the user's id and when the password passed.
PENDING_USER = "mdg_pending_user"
PENDING_AT = "mdg_pending_at"
PENDING_NEXT = "mdg_pending_next"

BACKEND = "madoguchi.accounts.backends.StaffBackend"


def complete_login(request: HttpRequest, user: User, device: Any) -> None:
    """Log `user` in after both factors passed (the caller checked them)."""
    for key in (PENDING_USER, PENDING_AT, PENDING_NEXT):
        request.session.pop(key, None)
    # login() gives the session a new key (session fixation, T-SEC-08).
    django_login(request, user, backend=BACKEND)
    otp_login(request, device)
    now = time.time()
    request.session[AUTH_AT] = now
    request.session[SEEN_AT] = now
    request.session.save()
    UserSession.objects.update_or_create(
        session_key=request.session.session_key or "",
        defaults={"user": user, "client_ip": getattr(request, "client_ip", "")},
    )


def session_store() -> Any:
    return import_module(settings.SESSION_ENGINE).SessionStore


def end_session(session_key: str) -> None:
    session_store()(session_key=session_key).delete()
    UserSession.objects.filter(session_key=session_key).delete()


def end_all_sessions(user_ids: list[int]) -> int:
    """End every session of these users, whatever the session engine. Returns how many ended."""
    keys = list(UserSession.objects.filter(user_id__in=user_ids).values_list("session_key", flat=True))
    store = session_store()
    for key in keys:
        store(session_key=key).delete()
    UserSession.objects.filter(session_key__in=keys).delete()
    return len(keys)


def clear_expired_sessions(*, now: datetime.datetime | None = None) -> tuple[int, int]:
    """Delete the database sessions past their expiry, and the records of logins long over.

    A session row outlives its expiry until something deletes it: a staff session, and without
    Redis a resident's draft of the public form, which holds the personal items typed so far.
    A login's `UserSession` row (its key and address) is of no use after the session's absolute
    lifetime. Returns (sessions deleted, login records deleted). Run daily by `lifecycle sweep`.
    """
    from django.contrib.sessions.models import Session

    now = now or timezone.now()
    sessions, _ = Session.objects.filter(expire_date__lt=now).delete()
    over = now - datetime.timedelta(seconds=int(settings.SESSION_COOKIE_AGE))
    logins, _ = UserSession.objects.filter(created_at__lt=over).delete()
    return sessions, logins


def recently_authenticated(request: HttpRequest, seconds: int = REAUTH_SECONDS) -> bool:
    """True when the user logged in, or confirmed a code again, within `seconds` (R-14)."""
    stamps = [request.session.get(AUTH_AT), request.session.get(REAUTH_AT)]
    latest = max((float(stamp) for stamp in stamps if stamp is not None), default=0.0)
    return time.time() - latest <= seconds


def mark_reauthenticated(request: HttpRequest) -> None:
    request.session[REAUTH_AT] = time.time()
