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
kept (its HTML holds no value). A text input or text area holding a value is kept rendered
with a placeholder token as its value (`TOKEN`, no personal data), and the request's value,
escaped as the template escapes it, is put in the token's place.
"""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.template.loader import render_to_string
from django.utils.html import conditional_escape
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
# Stands for a text value in kept HTML: letters and digits only (escaping leaves it as it is),
# new in every process, so no value a user types can be mistaken for it.
TOKEN = "mdgvalue" + secrets.token_hex(8)
# Widgets that print their value once, escaped, and nothing else about it.
TEXT_WIDGETS = (forms.TextInput, forms.EmailInput, forms.Textarea)


def _render(field: forms.BoundField) -> SafeString:
    # The template autoescapes everything it prints; this is its output, unchanged.
    return mark_safe(render_to_string(TEMPLATE, {"field": field}))  # noqa: S308


class _Placeholder(forms.BoundField):
    """The field with TOKEN as its value."""

    def value(self) -> str:
        return TOKEN


def _text_value(field: forms.BoundField, value: Any) -> str | None:
    """How the widget prints `value` (`format_value`), or None when the placeholder cannot
    stand for it (not a plain text widget, or a value it would not print as text)."""
    widget = field.field.widget
    if type(widget) not in TEXT_WIDGETS or widget.is_localized or not isinstance(value, str):
        return None
    if TOKEN in value:
        return None
    return value


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value is False


def field_html(field: forms.BoundField) -> SafeString:
    """`{% include "cases/_field.html" %}` with `field`, from the kept HTML when it may be kept."""
    declared = field.field
    value = field.value()
    if field.errors or isinstance(declared, forms.ModelChoiceField | forms.ModelMultipleChoiceField):
        return _render(field)
    text = None
    if not (isinstance(declared, STRUCTURED) or _empty(value)):
        text = _text_value(field, value)
        if text is None:
            return _render(field)
        value = TOKEN
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
        html = _kept[key] = _render(field if text is None else _Placeholder(form, declared, field.name))
    if text is not None:
        return mark_safe(html.replace(TOKEN, conditional_escape(text)))  # noqa: S308 - escaped value
    return html
