"""A bound form field rendered through `cases/_field.html` once per state, not once per view.

A field through that include costs four template includes and a widget template: about a
fifth of the case list's CPU (ten filter fields), more on the case page (nineteen fields). What
such a field renders depends only on its form class, its declaration (label, help text,
required, widget attributes, choices), its value and the active language, so the HTML is kept
under exactly those and reused.

Never kept: a field with errors (the message may quote the input), a field whose choices come
from the database (`ModelChoiceField`: reading them is a query), and a free-text value — a
`CharField` or any other field not listed in STRUCTURED holding something: it may be a name,
an address or a note, and personal data is not kept past its request. An empty text field is
kept (its HTML holds no value).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

TEMPLATE = "cases/_field.html"
# Fields whose value is a code, a date, a number or a yes/no: never personal free text.
STRUCTURED = (
    forms.BooleanField,
    forms.NullBooleanField,
    forms.ChoiceField,  # with MultipleChoiceField and TypedChoiceField
    forms.DateField,
    forms.TimeField,
    forms.DateTimeField,
    forms.IntegerField,
)
# A bound on the kept HTML: filter values are few (choices, dates, booleans), dates are many.
LIMIT = 2000
_kept: dict[tuple[Any, ...], SafeString] = {}


def _render(field: forms.BoundField) -> SafeString:
    # The template autoescapes everything it prints; this is its output, unchanged.
    return mark_safe(render_to_string(TEMPLATE, {"field": field}))  # noqa: S308


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value is False


def field_html(field: forms.BoundField) -> SafeString:
    """`{% include "cases/_field.html" %}` with `field`, from the kept HTML when it may be kept."""
    declared = field.field
    value = field.value()
    if (
        field.errors
        or isinstance(declared, forms.ModelChoiceField | forms.ModelMultipleChoiceField)
        or not (isinstance(declared, STRUCTURED) or _empty(value))
    ):
        return _render(field)
    form = field.form
    key = (
        get_language(),
        type(form),
        form.prefix,
        form.auto_id,
        field.name,
        repr(value),
        str(declared.label),
        str(declared.help_text),
        declared.required,
        declared.disabled,
        type(declared.widget),
        repr(declared.widget.attrs),
        repr(getattr(declared, "choices", None)),
    )
    html = _kept.get(key)
    if html is None:
        if len(_kept) >= LIMIT:
            _kept.clear()
        html = _kept[key] = _render(field)
    return html
