"""The residents' session: the draft between the form's steps, apart from every staff session.

Under `/inquiry/` the session is the resident's own: its own cookie (`PUBLIC_SESSION_COOKIE_NAME`,
path `/inquiry/`, so the browser never sends it to a staff URL and a staff session cookie is
never read, changed or replaced there) and its own store, chosen by `PUBLIC_SESSION_BACKEND`:

- `cache` (the default when `REDIS_URL` is set): the draft is kept in the shared cache (Redis),
  server-side, expiring by itself after `PUBLIC_SESSION_AGE` seconds of inactivity. No
  database query per step.
- `db`: Django's database sessions (the default without Redis: the demo and the tests run
  several processes or threads that must see the same draft; a per-process memory cache
  would not do).

The draft holds personal items, so it is never put in a cookie (no signed-cookie store). A
staff user who opens the form is an anonymous resident there: no staff session is loaded.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any, Final

from django.conf import settings
from django.contrib.sessions.backends import cache as cache_backend
from django.contrib.sessions.backends import db as db_backend
from django.contrib.sessions.backends.base import SessionBase
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

logger = logging.getLogger(__name__)

PUBLIC_PREFIX = "/inquiry/"
# Sent with the form's own top-level navigations and POSTs, never with a cross-site POST.
SAMESITE: Final = "Lax"


class StorageUnavailable(Exception):
    """The session store did not answer (the public views show the 503 page)."""


class CacheSessionStore(cache_backend.SessionStore):
    cache_key_prefix = "mdg:public:session:"

    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
        self._cache = caches[settings.PUBLIC_SESSION_CACHE_ALIAS]

    def get_session_cookie_age(self) -> int:
        return int(settings.PUBLIC_SESSION_AGE)

    def _get_new_session_key(self) -> str:
        # 160 random bits. No EXISTS round trip first: `create` stores the new session with
        # SET NX, which refuses a key already taken (and then draws another).
        return secrets.token_hex(20)

    def load(self) -> dict[str, Any]:
        # Django's cache store treats a cache that does not answer as an empty session; the
        # resident would be told the draft expired. Say the truth instead: try again later.
        try:
            data = self._cache.get(self.cache_key)
        except Exception as error:
            raise StorageUnavailable from error
        if data is not None:
            return data  # type: ignore[no-any-return]
        self._session_key = None
        return {}


class DatabaseSessionStore(db_backend.SessionStore):
    def get_session_cookie_age(self) -> int:
        return int(settings.PUBLIC_SESSION_AGE)


STORES: dict[str, type[SessionBase]] = {"cache": CacheSessionStore, "db": DatabaseSessionStore}


def store_class() -> type[SessionBase]:
    try:
        return STORES[settings.PUBLIC_SESSION_BACKEND]
    except KeyError:
        raise ValueError(f"PUBLIC_SESSION_BACKEND must be one of {', '.join(STORES)}") from None


def is_public(request: HttpRequest) -> bool:
    return request.path_info.startswith(PUBLIC_PREFIX)


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's session middleware, with the residents' store and cookie under `/inquiry/`."""

    def process_request(self, request: HttpRequest) -> None:
        if not is_public(request):
            super().process_request(request)
            return
        request.session = store_class()(request.COOKIES.get(settings.PUBLIC_SESSION_COOKIE_NAME))

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if not is_public(request):
            return super().process_response(request, response)
        session = getattr(request, "session", None)
        if session is None:
            return response
        name = settings.PUBLIC_SESSION_COOKIE_NAME
        if session.accessed:
            patch_vary_headers(response, ("Cookie",))
        if session.is_empty():
            # Nothing to keep (the draft was sent, or never made): no cookie, no stored row.
            if name in request.COOKIES:
                response.delete_cookie(name, path=PUBLIC_PREFIX, samesite=SAMESITE)
            return response
        if session.modified and response.status_code < 500:
            try:
                session.save()
            except Exception as error:
                logger.error("public form: session store unavailable (%s)", type(error).__name__)
                if getattr(request, "public_case_committed", False):
                    # The receipt page: the case is committed and its number is on the page. A
                    # reload sends the same token again, which finds the same case.
                    return response
                # Any earlier step: the page must not claim a draft that was not kept.
                from madoguchi.public.views import unavailable

                return unavailable(request)
            # A browser-session cookie: it goes when the browser closes; the store forgets the
            # draft after PUBLIC_SESSION_AGE seconds without a step.
            response.set_cookie(
                name,
                session.session_key,
                path=PUBLIC_PREFIX,
                secure=bool(settings.SESSION_COOKIE_SECURE),
                httponly=True,
                samesite=SAMESITE,
            )
        return response
