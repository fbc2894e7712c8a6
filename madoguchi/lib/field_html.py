"""A bound form field rendered through its include once per value, not once per page view.

The case list's filter form renders ten fields through `cases/_field.html` (label, hint,
errors, widget: four template includes and a widget template each), about a fifth of the
list's CPU. What a field renders depends only on the form class, the field, its submitted
value and the active language, so the HTML is kept per (language, form class, prefix, field,
value) and reused. Not kept: a field with errors (rare, and the message may quote the input) and
the fields named in `uncached` (free text, which may hold a name or an address: it is never
kept past the request).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

# A bound: the values of a filter form are few (choices, dates, booleans), but dates are not.
LIMIT = 2000
_kept: dict[tuple[Any, ...], SafeString] = {}


def rendered_fields(
    form: forms.Form, names: Iterable[str], *, template: str, uncached: Iterable[str] = ()
) -> dict[str, SafeString]:
    """{name: HTML of `template` rendered with `field=form[name]`} for each name."""
    skip = set(uncached)
    language = get_language()
    result = {}
    for name in names:
        field = form[name]
        if name in skip or not form.is_bound or field.errors:
            result[name] = mark_safe(render_to_string(template, {"field": field}))  # noqa: S308
            continue
        key = (language, type(form), form.prefix, form.auto_id, template, name, repr(field.data))
        html = _kept.get(key)
        if html is None:
            if len(_kept) >= LIMIT:
                _kept.clear()
            html = _kept[key] = mark_safe(render_to_string(template, {"field": field}))  # noqa: S308
        result[name] = html
    return result
