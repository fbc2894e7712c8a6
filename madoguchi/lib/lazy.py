"""A list made on its first use."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject


class LazyList(SimpleLazyObject):
    """The list `make()` returns, made when a template (or anything else) first looks at it,
    then kept: Django's `SimpleLazyObject`, which proxies iteration, length, truth, indexing and
    equality (as `core.forms.LazyForm` does for a form). A context processor runs for every page
    rendered with the request, the htmx fragments included, whose templates never show what it
    offers (the navigation and its badges, the erasure banner): their queries are now made only
    by the pages that show them. Not callable, so a template reads it instead of calling it."""
