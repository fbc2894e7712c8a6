"""The form's pages rendered once per language and program version, then filled in per request.

Most of a public page (the header, the language switch, the steps, the labels, the purpose of
use, the footer) is the same for every resident: only a few values are a request's own (its
CSRF token and request id) or a resident's own (what they typed, their idempotency token,
their receipt number). A page is therefore rendered through the template engine once, with a
placeholder in place of each such value, and kept with the program's cached copy (so a
change to the program, its categories or its organisations renders it afresh, see
`selectors.form_program`); each request then puts its own values into the placeholders, HTML-
escaped exactly as the template would have escaped them, in one pass (a value that happens to
look like a placeholder is never filled in again). Nothing of one resident is ever kept: the
cache holds the placeholders, never a value.

A placeholder contains NUL characters, which no value read from the database (PostgreSQL text
cannot hold NUL) nor any template text contains. The templates print these values as they are
(`{{ name }}`, no filter): the view prepares the text to show.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.html import conditional_escape
from django.utils.translation import get_language

from madoguchi.public.selectors import FormProgram

_SLOT = re.compile("\x00slot:([a-z_]+)\x00")
# Filled in for every page: the request's own values.
CSRF = "csrf_token"
REQUEST_ID = "request_id"


class _Lazy(Mapping[str, Any]):
    """A context made only when a page is actually rendered (a cached page needs none)."""

    def __init__(self, make: Callable[[], Mapping[str, Any]]) -> None:
        self._make = make
        self._made: Mapping[str, Any] | None = None

    def _context(self) -> Mapping[str, Any]:
        if self._made is None:
            self._made = self._make()
        return self._made

    def __getitem__(self, key: str) -> Any:
        return self._context()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._context())

    def __len__(self) -> int:
        return len(self._context())


def slot(name: str) -> str:
    return f"\x00slot:{name}\x00"


def render_page(
    request: HttpRequest,
    entry: FormProgram,
    template: str,
    context: Mapping[str, Any] | Callable[[], Mapping[str, Any]],
    *,
    values: Mapping[str, Any] | None = None,
    variant: str = "",
    status: int = 200,
    address: str = "",
) -> HttpResponse:
    """`template` with `context` (the same for every resident: part of the cache key through
    `variant`; a function giving it is called only when the page is rendered) and `values`
    (this resident's: never cached), through the page cache.

    `address` is the page's own path when it may answer a request for another one (the
    confirmation is the answer to the input's POST): the page is kept under it, and templates
    get it as `page_address` (the language switch returns there, not to the posted path).
    """
    values = dict(values or {})
    if callable(context):
        context = _Lazy(context)
    own_address = {"page_address": address} if address else {}
    if request.META.get("QUERY_STRING"):
        # The language switch repeats the full path: only the plain address is cached.
        return HttpResponse(
            render_to_string(template, {**context, **own_address, **values}, request=request), status=status
        )
    key = f"{template}|{get_language() or settings.LANGUAGE_CODE}|{address or request.path}|{variant}"
    page = entry.pages.get(key)
    if page is None:
        placeholders = {name: slot(name) for name in (*values, CSRF, REQUEST_ID)}
        page = entry.pages[key] = str(
            render_to_string(template, {**context, **own_address, **placeholders}, request=request)
        )
    own = {name: conditional_escape(value) for name, value in values.items()}
    own[CSRF] = conditional_escape(get_token(request))
    own[REQUEST_ID] = conditional_escape(getattr(request, "request_id", ""))
    return HttpResponse(_SLOT.sub(lambda match: own[match.group(1)], page), status=status)
